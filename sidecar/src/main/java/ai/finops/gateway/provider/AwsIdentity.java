package ai.finops.gateway.provider;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * The platform's AWS identity, for a Bedrock deployment without {@code credentials}: the AWS SDK's
 * default chain (system properties, environment, web identity for IRSA, profile, EKS Pod Identity,
 * instance profile). Resolving may call STS or a metadata endpoint, so it runs on a background thread;
 * the resolved credentials are cached and resolved again in the background {@link #EARLY} before they
 * expire. One instance for the process.
 */
public final class AwsIdentity {
    static final Duration EARLY = Duration.ofMinutes(5);
    private static final ExecutorService RESOLVE = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "aws-credentials");
        t.setDaemon(true);
        return t;
    });
    private static volatile AwsIdentity platform;

    private final AwsCredentialsProvider provider;
    private final Clock clock;
    private volatile AwsCredentialsIdentity current;
    private CompletableFuture<Void> inflight;

    AwsIdentity(AwsCredentialsProvider provider, Clock clock) {
        this.provider = provider;
        this.clock = clock;
    }

    /** The process's default-chain identity (created on first use). */
    public static AwsIdentity platform() {
        AwsIdentity p = platform;
        if (p == null) {
            synchronized (AwsIdentity.class) {
                if (platform == null) {
                    platform = new AwsIdentity(DefaultCredentialsProvider.builder().build(), Clock.systemUTC());
                }
                p = platform;
            }
        }
        return p;
    }

    /** Completes when {@link #identity()} has credentials. */
    public CompletableFuture<Void> ready() {
        AwsCredentialsIdentity c = current;
        if (c != null) {
            Instant expiry = c.expirationTime().orElse(null);
            if (expiry == null || expiry.isAfter(clock.instant().plus(EARLY))) {
                return ProviderAdapter.READY;
            }
            if (expiry.isAfter(clock.instant())) {
                resolve();
                return ProviderAdapter.READY;
            }
        }
        return resolve();
    }

    public AwsCredentialsIdentity identity() {
        AwsCredentialsIdentity c = current;
        if (c == null) {
            throw new IllegalStateException("AWS credentials not resolved yet");
        }
        return c;
    }

    private synchronized CompletableFuture<Void> resolve() {
        if (inflight != null) {
            return inflight;
        }
        CompletableFuture<Void> f = CompletableFuture.runAsync(() -> {
            AwsCredentials credentials = provider.resolveCredentials();
            current = credentials;
        }, RESOLVE);
        inflight = f;
        f.whenComplete((v, e) -> {
            synchronized (this) {
                inflight = null;
            }
        });
        return f;
    }

    @Override
    public String toString() {
        return "AwsIdentity[default chain]";
    }
}

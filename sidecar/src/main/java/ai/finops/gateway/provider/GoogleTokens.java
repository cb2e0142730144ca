package ai.finops.gateway.provider;

import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * OAuth access tokens for Google APIs, fetched by Google's auth library off the event loops and
 * cached: a token is used until {@link #EARLY} before it expires, then refreshed in the background
 * while it still serves, so requests wait for a token only the first time (or after a failure).
 * One instance per credential, shared across configuration reloads.
 */
public final class GoogleTokens {
    /** Refresh this long before expiry. */
    static final Duration EARLY = Duration.ofMinutes(5);
    static final List<String> SCOPES = List.of("https://www.googleapis.com/auth/cloud-platform");
    private static final ExecutorService FETCH = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "google-oauth");
        t.setDaemon(true);
        return t;
    });
    private static final Map<String, GoogleTokens> SHARED = new ConcurrentHashMap<>();

    private final CredentialsSource source;
    private final Clock clock;
    private GoogleCredentials credentials;   // created on first fetch (ADC may read files or the metadata server)
    private volatile AccessToken token;
    private CompletableFuture<Void> inflight;

    interface CredentialsSource {
        GoogleCredentials get() throws IOException;
    }

    GoogleTokens(CredentialsSource source, Clock clock) {
        this.source = source;
        this.clock = clock;
    }

    /** Tokens for a service-account key (the JSON file's content); the same key shares one cache. */
    public static GoogleTokens serviceAccount(String json) {
        return SHARED.computeIfAbsent("sa:" + ai.finops.crds.validation.ResourceValidator.sha256Hex(json), k -> new GoogleTokens(
                () -> GoogleCredentials.fromStream(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8))).createScoped(SCOPES),
                Clock.systemUTC()));
    }

    /** Application Default Credentials: GKE Workload Identity, {@code GOOGLE_APPLICATION_CREDENTIALS}, the metadata server. */
    public static GoogleTokens applicationDefault() {
        return SHARED.computeIfAbsent("adc", k -> new GoogleTokens(() -> GoogleCredentials.getApplicationDefault().createScoped(SCOPES),
                Clock.systemUTC()));
    }

    /** Completes when {@link #bearer()} has a token; starts a background refresh when the token is near expiry. */
    public CompletableFuture<Void> ready() {
        AccessToken current = token;
        if (current != null) {
            long left = millisLeft(current);
            if (left > EARLY.toMillis()) {
                return ProviderAdapter.READY;
            }
            if (left > 0) {
                refresh();   // still valid: serve it while a new one is fetched
                return ProviderAdapter.READY;
            }
        }
        return refresh();
    }

    /** The current token (call after {@link #ready()} completed). */
    public String bearer() {
        AccessToken current = token;
        if (current == null) {
            throw new IllegalStateException("no access token yet");
        }
        return current.getTokenValue();
    }

    private long millisLeft(AccessToken t) {
        return t.getExpirationTime() == null ? Long.MAX_VALUE : t.getExpirationTime().getTime() - clock.millis();
    }

    private synchronized CompletableFuture<Void> refresh() {
        if (inflight != null) {
            return inflight;
        }
        CompletableFuture<Void> fetch = CompletableFuture.runAsync(() -> {
            try {
                GoogleCredentials c;
                synchronized (this) {
                    if (credentials == null) {
                        credentials = source.get();
                    }
                    c = credentials;
                }
                token = c.refreshAccessToken();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, FETCH);
        inflight = fetch;
        fetch.whenComplete((v, e) -> {
            synchronized (this) {
                inflight = null;
            }
        });
        return fetch;
    }

    @Override
    public String toString() {
        return "GoogleTokens[***]";
    }
}

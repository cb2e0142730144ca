package ai.finops.gateway.routing;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Deployments that recently answered 429, 529 or 5xx, and until when to avoid them. Shared by every
 * event loop and kept across config reloads (keyed by deployment name).
 */
public final class Cooldowns {
    private final Map<String, Long> until = new ConcurrentHashMap<>();
    private final LongSupplier nanoClock;

    public Cooldowns() {
        this(System::nanoTime);
    }

    public Cooldowns(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /**
     * Cools {@code d} down after a 429, 529 or 5xx: for the response's {@code retry-after} seconds when
     * it gave a number, else for the deployment's {@code retries.cooldown}.
     */
    public void coolDown(Deployment d, String retryAfter) {
        long nanos = d.cooldown().toNanos();
        if (retryAfter != null) {
            try {
                nanos = java.util.concurrent.TimeUnit.SECONDS.toNanos(Math.max(0, Long.parseLong(retryAfter.trim())));
            } catch (NumberFormatException ignored) {
                // an HTTP-date retry-after: keep the configured cooldown
            }
        }
        coolDown(d.name(), nanos);
    }

    public void coolDown(String deployment, long nanos) {
        long deadline = nanoClock.getAsLong() + nanos;
        until.merge(deployment, deadline, Math::max);
    }

    public boolean coolingDown(String deployment) {
        Long deadline = until.get(deployment);
        if (deadline == null) {
            return false;
        }
        if (deadline - nanoClock.getAsLong() > 0) {
            return true;
        }
        until.remove(deployment, deadline);
        return false;
    }

    /** How many deployments are cooling down now. */
    public int coolingDownCount() {
        long now = nanoClock.getAsLong();
        return (int) until.values().stream().filter(deadline -> deadline - now > 0).count();
    }

    /** Remaining cooldown in milliseconds, 0 when none. */
    public long remainingMillis(String deployment) {
        Long deadline = until.get(deployment);
        return deadline == null ? 0 : Math.max(0, (deadline - nanoClock.getAsLong()) / 1_000_000);
    }
}

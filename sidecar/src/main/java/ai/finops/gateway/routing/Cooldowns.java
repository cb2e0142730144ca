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

    /** Remaining cooldown in milliseconds, 0 when none. */
    public long remainingMillis(String deployment) {
        Long deadline = until.get(deployment);
        return deadline == null ? 0 : Math.max(0, (deadline - nanoClock.getAsLong()) / 1_000_000);
    }
}

package ai.finops.governance;

import ai.finops.crds.BudgetPeriod;
import ai.finops.governance.CounterStore.Counter;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;

/**
 * The names of the counters a gateway charges and an operator reads, so both find the same ones in a
 * shared store. A name holds the namespace of the resource it counts for (two namespaces may have keys
 * of the same name on one Redis) and, for spend, the period, so a new period starts from zero:
 * <ul>
 * <li>{@code spend:<namespace>/VirtualKey/<name>:<period>} — a VirtualKey's own {@code spec.budget};</li>
 * <li>{@code spend:<namespace>/Budget/<name>:<period>} — a {@code Budget};</li>
 * <li>{@code rpm:<namespace>/<key>}, {@code tpm:<namespace>/<key>}, {@code concurrent:<namespace>/<key>} —
 *     a VirtualKey's {@code spec.rateLimits}.</li>
 * </ul>
 * {@code <period>} is {@link Periods.Period#suffix()} ({@code 2026-12}, {@code 2026-W49}, {@code total}, ...), or for a
 * rolling budget the bucket ({@link RollingWindow}: {@code h493219}, {@code d20429}).
 * Names do not depend on a limit, so changing a limit keeps what was counted.
 */
public final class CounterKeys {
    /** What a VirtualKey's own budget is counted as. */
    public static final String VIRTUAL_KEY = "VirtualKey";
    /** What a Budget resource is counted as. */
    public static final String BUDGET = "Budget";
    /** How long a spend counter is kept after its period ends: a month, for reports of the last period. */
    public static final Duration KEEP_AFTER_PERIOD = Duration.ofDays(31);
    /** The window of the per-minute kinds. */
    public static final Duration MINUTE = Duration.ofMinutes(1);
    /**
     * The largest per-minute limit a store counts exactly (limit × window in µs within 2<sup>53</sup> − 1):
     * 150,119,987 a minute. A larger limit is counted as this one.
     */
    public static final long MAX_PER_MINUTE = ((1L << 53) - 1) / 60_000_000L;

    private CounterKeys() {}

    /** The spend counter of {@code kind} ({@link #VIRTUAL_KEY} or {@link #BUDGET}) {@code name} in the period {@code now} falls in. */
    public static Counter spend(String namespace, String kind, String name, long limitMicros, BudgetPeriod period, ZoneId zone, Instant now) {
        Periods.Period current = Periods.of(period, zone).current(now);
        return new Counter(spendKey(namespace, kind, name, current.suffix()), Counter.Kind.SPEND, limitMicros,
                current.ttl(now, KEEP_AFTER_PERIOD));
    }

    /** The spend counter of a rolling budget's bucket {@code suffix} ({@link RollingWindow#current}, {@link RollingWindow#earlier}). */
    public static Counter rolling(String namespace, String kind, String name, long limitMicros, RollingWindow window, String suffix) {
        return new Counter(spendKey(namespace, kind, name, suffix), Counter.Kind.SPEND, limitMicros, window.keep());
    }

    public static String spendKey(String namespace, String kind, String name, String periodSuffix) {
        return "spend:" + namespace + "/" + kind + "/" + name + ":" + periodSuffix;
    }

    /** Requests of VirtualKey {@code key} in a sliding minute. */
    public static Counter requestsPerMinute(String namespace, String key, long limit) {
        return new Counter("rpm:" + namespace + "/" + key, Counter.Kind.REQUESTS_PER_MINUTE, Math.min(limit, MAX_PER_MINUTE), MINUTE);
    }

    /** Tokens of VirtualKey {@code key} in a sliding minute. */
    public static Counter tokensPerMinute(String namespace, String key, long limit) {
        return new Counter("tpm:" + namespace + "/" + key, Counter.Kind.TOKENS_PER_MINUTE, Math.min(limit, MAX_PER_MINUTE), MINUTE);
    }

    /** Requests of VirtualKey {@code key} in flight. */
    public static Counter concurrent(String namespace, String key, long limit) {
        return new Counter("concurrent:" + namespace + "/" + key, Counter.Kind.CONCURRENT, limit, null);
    }
}

package ai.finops.governance;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A rolling budget window ({@code duration: 7d}): the spend of the last {@code window}, counted in
 * buckets of an hour (windows up to {@value #HOURLY_UP_TO_DAYS} days) or a day (longer ones), aligned on
 * UTC hours or days. A request is charged to the bucket its reservation falls in; what a window holds is
 * the sum of its buckets. A window is read as whole buckets, rounded up: the last {@code window} and up
 * to one bucket more, never less, so a rolling budget is never more lenient than its duration.
 *
 * <p>Buckets do not depend on the window's length: a budget whose duration changes keeps what was counted.
 * A bucket's counter is named {@code h<hours since 1970>} or {@code d<days since 1970>}
 * ({@link CounterKeys#spendKey}).
 */
public final class RollingWindow {
    /** Windows up to this many days are counted in hourly buckets; longer ones in daily buckets. */
    public static final int HOURLY_UP_TO_DAYS = 14;
    private static final Duration HOUR = Duration.ofHours(1);
    private static final Duration DAY = Duration.ofDays(1);

    private final Duration window;
    private final Duration bucket;

    private RollingWindow(Duration window) {
        this.window = window;
        this.bucket = window.compareTo(Duration.ofDays(HOURLY_UP_TO_DAYS)) <= 0 ? HOUR : DAY;
    }

    /** @throws IllegalArgumentException for a window shorter than an hour */
    public static RollingWindow of(Duration window) {
        Objects.requireNonNull(window, "window");
        if (window.compareTo(HOUR) < 0) {
            throw new IllegalArgumentException("a rolling window is at least an hour: " + window);
        }
        return new RollingWindow(window);
    }

    public Duration window() {
        return window;
    }

    public Duration bucket() {
        return bucket;
    }

    /** How many buckets a window reads, the current one included. */
    public int buckets() {
        long whole = (window.toSeconds() + bucket.toSeconds() - 1) / bucket.toSeconds();
        return (int) whole + 1;
    }

    /** The suffix of the bucket {@code now} falls in. */
    public String current(Instant now) {
        return suffix(index(now));
    }

    /** The suffixes of the window's earlier buckets at {@code now}, oldest first. */
    public List<String> earlier(Instant now) {
        long current = index(now);
        int n = buckets();
        List<String> out = new ArrayList<>(n - 1);
        for (long i = current - n + 1; i < current; i++) {
            out.add(suffix(i));
        }
        return out;
    }

    /** When the current bucket's oldest neighbour leaves the window: room comes back then. */
    public Instant nextBucket(Instant now) {
        return Instant.ofEpochSecond((index(now) + 1) * bucket.toSeconds());
    }

    /** How long a bucket's counter must be kept after it was charged: the window, a bucket, and a day for late readers. */
    public Duration keep() {
        return window.plus(bucket).plus(DAY);
    }

    private long index(Instant now) {
        return Math.floorDiv(now.getEpochSecond(), bucket.toSeconds());
    }

    private String suffix(long index) {
        return (bucket.equals(HOUR) ? "h" : "d") + index;
    }

    @Override
    public String toString() {
        return "rolling " + window + " in " + (bucket.equals(HOUR) ? "hourly" : "daily") + " buckets";
    }
}

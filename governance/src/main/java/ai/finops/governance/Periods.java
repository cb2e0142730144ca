package ai.finops.governance;

import ai.finops.crds.BudgetPeriod;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.IsoFields;
import java.time.temporal.TemporalAdjusters;
import java.util.Objects;

/**
 * The periods of a budget: which one an instant falls in, when it starts and ends, and the suffix
 * that names it in a spend counter's key, so that a new period starts from zero on every replica at
 * the same instant.
 *
 * <p>Periods are calendar periods in a time zone (UTC unless a zone is given): they start at the
 * first instant of their first day there (midnight, or the first instant after a daylight-saving gap
 * that swallows midnight) and end where the next one starts, so a day may last 23 or 25 hours.
 * <ul>
 * <li>{@code Daily}: suffix {@code 2026-12-07}.</li>
 * <li>{@code Weekly}: from Monday; suffix the ISO week, {@code 2026-W49} (the week of 2025-12-29 is
 *     {@code 2026-W01}: it holds that year's first Thursday).</li>
 * <li>{@code Monthly}: from the 1st; suffix {@code 2026-12}.</li>
 * <li>{@code Quarterly}: from January, April, July and October 1st; suffix {@code 2026-Q4}.</li>
 * <li>{@code Total}: one period that never ends; suffix {@code total}, no start or end.</li>
 * </ul>
 * The suffix names the period by its local dates, not its zone: a budget whose zone changes keeps
 * counting the period of the same name.
 *
 * <p>Not supported: rolling windows (the last seven days, say). Their spend is a sliding sum, which
 * needs a store to check the sum of several buckets while charging one of them in one atomic step,
 * and {@link CounterStore#reserve} checks each counter against its own limit only. {@link #of} refuses
 * any other name.
 */
public final class Periods {

    /**
     * One period.
     *
     * @param start  its first instant, or null for {@code Total}
     * @param end    the first instant after it (the next period's start), or null for {@code Total}
     * @param suffix its name in a counter's key
     */
    public record Period(Instant start, Instant end, String suffix) {
        public boolean contains(Instant t) {
            return (start == null || !t.isBefore(start)) && (end == null || t.isBefore(end));
        }

        /**
         * The {@code window} of this period's spend counter at {@code now}: until the period's end and
         * {@code keepAfterEnd} more (a counter store keeps a spend counter until the latest
         * {@code now + window} it was given); null for {@code Total}, kept for ever.
         */
        public Duration ttl(Instant now, Duration keepAfterEnd) {
            if (end == null) {
                return null;
            }
            Duration left = Duration.between(now, end);
            return (left.isNegative() ? Duration.ZERO : left).plus(keepAfterEnd);
        }
    }

    private final BudgetPeriod period;
    private final ZoneId zone;

    private Periods(BudgetPeriod period, ZoneId zone) {
        this.period = period;
        this.zone = zone;
    }

    /** The periods of {@code period} in {@code zone} (UTC when null). */
    public static Periods of(BudgetPeriod period, ZoneId zone) {
        return new Periods(Objects.requireNonNull(period, "period"), zone == null ? ZoneOffset.UTC : zone);
    }

    /**
     * The periods a budget names ({@code Daily}, {@code Weekly}, {@code Monthly}, {@code Quarterly},
     * {@code Total}, in any case) in {@code zone} (UTC when null).
     *
     * @throws IllegalArgumentException for any other name, rolling windows such as {@code 7d} included
     */
    public static Periods of(String name, ZoneId zone) {
        if (name != null) {
            for (BudgetPeriod c : BudgetPeriod.values()) {
                if (c.name().equalsIgnoreCase(name.strip())) {
                    return of(c, zone);
                }
            }
        }
        throw new IllegalArgumentException("unknown budget period " + (name == null ? "null" : "\"" + name + "\"")
                + " (one of Daily, Weekly, Monthly, Quarterly, Total; rolling windows are not supported)");
    }

    public BudgetPeriod period() {
        return period;
    }

    public ZoneId zone() {
        return zone;
    }

    /** The period {@code now} falls in. */
    public Period current(Instant now) {
        if (period == BudgetPeriod.TOTAL) {
            return new Period(null, null, "total");
        }
        LocalDate today = LocalDate.ofInstant(now, zone);
        LocalDate first;
        LocalDate next;
        String suffix;
        switch (period) {
            case DAILY -> {
                first = today;
                next = today.plusDays(1);
                suffix = today.toString();
            }
            case WEEKLY -> {
                first = today.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
                next = first.plusWeeks(1);
                suffix = first.get(IsoFields.WEEK_BASED_YEAR) + "-W" + twoDigits(first.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
            }
            case MONTHLY -> {
                first = today.withDayOfMonth(1);
                next = first.plusMonths(1);
                suffix = first.getYear() + "-" + twoDigits(first.getMonthValue());
            }
            case QUARTERLY -> {
                int quarter = today.get(IsoFields.QUARTER_OF_YEAR);
                first = LocalDate.of(today.getYear(), 3 * quarter - 2, 1);
                next = first.plusMonths(3);
                suffix = today.getYear() + "-Q" + quarter;
            }
            default -> throw new IllegalStateException(period.name());
        }
        return new Period(first.atStartOfDay(zone).toInstant(), next.atStartOfDay(zone).toInstant(), suffix);
    }

    /** {@code 7} as {@code 07}: the suffix is computed on every governed request, so no {@code String.format}. */
    private static String twoDigits(int n) {
        return n < 10 ? "0" + n : Integer.toString(n);
    }

    @Override
    public String toString() {
        return period.id() + " in " + zone;
    }
}

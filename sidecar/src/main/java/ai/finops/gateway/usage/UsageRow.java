package ai.finops.gateway.usage;

import java.time.LocalDate;

/** One ledger row: what {@code key} used on {@code day} (UTC), by {@link Measure} ordinal. */
public record UsageRow(LocalDate day, UsageKey key, long[] values) {

    public long get(Measure m) {
        return values[m.ordinal()];
    }
}

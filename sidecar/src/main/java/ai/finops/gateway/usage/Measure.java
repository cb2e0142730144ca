package ai.finops.gateway.usage;

/**
 * What a ledger row counts, each a whole number: requests, tokens by kind, and micro-dollars, in all and
 * by the kind of token they paid for (the four parts add up to the whole).
 */
public enum Measure {
    REQUESTS("requests"),
    INPUT_TOKENS("inputTokens"),
    OUTPUT_TOKENS("outputTokens"),
    CACHE_READ_TOKENS("cacheReadTokens"),
    CACHE_WRITE_TOKENS("cacheWriteTokens"),
    COST_MICROS("costMicros"),
    INPUT_COST_MICROS("inputCostMicros"),
    OUTPUT_COST_MICROS("outputCostMicros"),
    CACHE_READ_COST_MICROS("cacheReadCostMicros"),
    CACHE_WRITE_COST_MICROS("cacheWriteCostMicros");

    static final Measure[] ALL = values();
    static final int COUNT = ALL.length;

    private final String field;

    Measure(String field) {
        this.field = field;
    }

    /** Its name in the stores (a Redis hash field's last part, the data file). */
    public String field() {
        return field;
    }

    static long[] zero() {
        return new long[COUNT];
    }

    /** Adds {@code b} into {@code a}, saturating at {@link Long#MAX_VALUE} rather than wrapping. */
    static void add(long[] a, long[] b) {
        for (int i = 0; i < COUNT; i++) {
            long sum = a[i] + b[i];
            a[i] = ((a[i] ^ sum) & (b[i] ^ sum)) < 0 ? Long.MAX_VALUE : sum;
        }
    }
}

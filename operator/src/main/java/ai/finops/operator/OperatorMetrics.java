package ai.finops.operator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The operator's own meters, beside JOSDK's reconciliation meters ({@code operator.sdk.*}: started,
 * succeeded and failed reconciliations, and their duration). Names and tag keys live here only.
 */
public final class OperatorMetrics {
    /** Writes to the API server by kind of object and purpose; stays flat while nothing changes. */
    public static final String WRITES = "finops.operator.writes";
    public static final String TAG_OBJECT = "object";
    public static final String TAG_PURPOSE = "purpose";

    private final MeterRegistry registry;

    public OperatorMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public MeterRegistry registry() {
        return registry;
    }

    void write(String object, String purpose) {
        Counter.builder(WRITES).description("Objects written to the API server, by object and purpose")
                .tag(TAG_OBJECT, object).tag(TAG_PURPOSE, purpose).register(registry).increment();
    }
}

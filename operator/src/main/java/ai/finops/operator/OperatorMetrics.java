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
    /** US dollars spent in the current period, per VirtualKey (its own budget) and Budget, as the shared store holds them. */
    public static final String BUDGET_SPEND = "finops.budget.spend.usd";
    /** The limit that spend is measured against. */
    public static final String BUDGET_LIMIT = "finops.budget.limit.usd";
    /** Rounds of the spend loop whose read of the shared counter store failed (nothing was written for them). */
    public static final String SPEND_STORE_ERRORS = "finops.operator.spend.store.errors";
    public static final String TAG_NAMESPACE = "namespace";
    public static final String TAG_KIND = "kind";
    public static final String TAG_NAME = "name";

    private final MeterRegistry registry;

    public OperatorMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** One write of {@code object} (configmap, secret, status, event) for {@code purpose}. */
    public void write(String object, String purpose) {
        Counter.builder(WRITES).description("Objects written to the API server, by object and purpose")
                .tag(TAG_OBJECT, object).tag(TAG_PURPOSE, purpose).register(registry).increment();
    }

    /** A failed read of the shared counter store. */
    public void spendStoreError() {
        Counter.builder(SPEND_STORE_ERRORS).description("Spend loop rounds whose read of the shared counter store failed")
                .register(registry).increment();
    }
}

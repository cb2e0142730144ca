package ai.finops.gateway.governance;

import ai.finops.crds.cel.RuleExpressions;
import ai.finops.gateway.auth.CompiledBudget;
import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.observability.ExchangeListener;
import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.translate.RequestBody;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The admit step, between resolve and the first attempt: whether a request may go, decided before
 * anything is sent. It may take its time (a shared store); the exchange waits for it off the event
 * loop and resumes on it. What it reserves it settles through the observer of an admitted request,
 * which sees every attempt and the end. A reservation must cover the costliest of the attempts,
 * since a fallback may cost more than the target.
 */
public interface Admission {

    CompletionStage<Verdict> admit(Request request);

    /**
     * A call that is no model request (an MCP tool call): one request against the key's {@code requestsPerMinute},
     * and, when it has a price, that price reserved in every budget that covers the key and {@link Call#model()}.
     * Admitted, it is an {@link AdmittedCall} whose settlement charges the price or gives it back.
     */
    default CompletionStage<Verdict> admitCall(Call call) {
        return CompletableFuture.completedFuture(AdmittedCall.FREELY);
    }

    /**
     * The key's tightest applicable budget as routing rules see it ({@code budget.usedRatio},
     * {@code budget.remainingUsd}): what this gateway last knew of it, never waiting for a store.
     */
    default Map<String, Double> budgetVariables(KeyEntry key, List<CompiledBudget> budgets, String model) {
        return RuleExpressions.NO_BUDGET;
    }

    /** Where the counters are, for {@code /readyz} and the log. */
    default String describe() {
        return "none";
    }

    /** Admits everything and keeps nothing: the gateway without budgets or rate limits. */
    Admission ALWAYS = new Admission() {
        private final CompletionStage<Verdict> admitted = CompletableFuture.completedFuture(Admitted.FREELY);

        @Override
        public CompletionStage<Verdict> admit(Request request) {
            return admitted;
        }

        @Override
        public String describe() {
            return "none (budgets and rate limits not counted)";
        }
    };

    /**
     * What is asked.
     *
     * @param budgets  the snapshot's Budget resources (the key's own budget is on the key)
     * @param attempts where the request may go, in order (at least one)
     */
    record Request(KeyEntry key, List<CompiledBudget> budgets, List<Attempt> attempts, RequestBody body) {}

    /**
     * A call to admit.
     *
     * @param budgets     the snapshot's Budget resources (the key's own budget is on the key)
     * @param model       what a Budget's {@code scope.models} globs are matched against: the tool's name as the client calls it
     * @param priceMicros what the call costs, in micro-dollars, once it is charged; 0 = free (no budget applies)
     */
    record Call(KeyEntry key, List<CompiledBudget> budgets, String model, long priceMicros) {}

    sealed interface Verdict permits Admitted, AdmittedCall, Refused {}

    /** What an admitted {@link Call} reserved, settled once when it ends. */
    @FunctionalInterface
    interface CallSettlement {
        /** Nothing reserved. */
        CallSettlement NONE = charged -> {};

        /** The call ended: {@code charged} true charges its price to its budgets, false gives the reservation back. */
        void settle(boolean charged);
    }

    /** @param settlement to be told once how the call ended */
    record AdmittedCall(CallSettlement settlement) implements Verdict {
        /** Nothing reserved. */
        public static final AdmittedCall FREELY = new AdmittedCall(CallSettlement.NONE);
    }

    /**
     * @param settlement told of the request's attempts and end (to settle what was reserved), or null
     * @param quota      what the key has left, for the response's headers; null for a key without limits
     */
    record Admitted(ExchangeListener.Observer settlement, Quota quota) implements Verdict {
        /** Nothing reserved, nothing to report. */
        public static final Admitted FREELY = new Admitted(null, null);
    }

    /**
     * @param status     429 for a rate limit, 402 for an exhausted budget, 400 for a request no window can ever
     *                   admit, 503 when the store cannot decide and the policy is to refuse
     * @param type       the Anthropic error type ({@code rate_limit_error}, {@code billing_error}, ...)
     * @param retryAfter when to try again, or null
     * @param reason     for metrics: {@code rate_limit}, {@code budget}, {@code concurrency}, {@code too_large}, {@code store_unavailable}
     */
    record Refused(int status, String type, String message, Duration retryAfter, String reason) implements Verdict {}
}

package ai.finops.gateway.governance;

import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.observability.ExchangeListener;
import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.translate.RequestBody;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The admit step, between resolve and the first attempt: whether a request may go, decided before
 * anything is sent. It may take its time (a shared store); the exchange waits for it off the event
 * loop and resumes on it. What it reserves it settles through the observer of an admitted request,
 * which sees every attempt and the end. A reservation must cover the costliest of {@code attempts},
 * since a fallback may cost more than the target.
 */
public interface Admission {

    CompletionStage<Verdict> admit(KeyEntry key, List<Attempt> attempts, RequestBody body);

    /** Admits everything and keeps nothing: the gateway without budgets or rate limits. */
    Admission ALWAYS = new Admission() {
        private final CompletionStage<Verdict> admitted = CompletableFuture.completedFuture(new Admitted(null));

        @Override
        public CompletionStage<Verdict> admit(KeyEntry key, List<Attempt> attempts, RequestBody body) {
            return admitted;
        }
    };

    sealed interface Verdict permits Admitted, Refused {}

    /** @param settlement told of the request's attempts and end (to settle what was reserved), or null */
    record Admitted(ExchangeListener.Observer settlement) implements Verdict {}

    /**
     * @param status     429 for a rate limit, 402 for an exhausted budget
     * @param type       the Anthropic error type ({@code rate_limit_error}, {@code billing_error})
     * @param retryAfter when to try again, or null
     */
    record Refused(int status, String type, String message, Duration retryAfter) implements Verdict {}
}

package ai.finops.gateway.governance;

import ai.finops.gateway.governance.CostEstimator.Estimate;
import ai.finops.gateway.routing.Attempt;
import java.util.List;

/** How much to reserve for a request that may go to any of its attempts, in order. */
public final class Reservations {
    private Reservations() {}

    /**
     * The reservation that covers the costliest of {@code attempts} (a fallback may cost more than the
     * target), for a body of {@code bodyBytes} bytes and {@code maxTokens} (0 or less: none).
     * {@link Estimate#priced()} is false when any attempt's model has no price: the reservation then
     * covers only the priced ones (nothing, when none is).
     *
     * @throws IllegalArgumentException when {@code attempts} is empty
     */
    public static Estimate costliest(List<Attempt> attempts, long bodyBytes, long maxTokens) {
        if (attempts.isEmpty()) {
            throw new IllegalArgumentException("a request with no attempt reserves nothing");
        }
        Estimate most = null;
        boolean priced = true;
        for (Attempt a : attempts) {
            Estimate e = CostEstimator.estimate(a.model(), bodyBytes, maxTokens);
            priced &= e.priced();
            if (most == null || e.microUsd() > most.microUsd()) {
                most = e;
            }
        }
        return new Estimate(most.inputTokens(), most.outputTokens(), most.microUsd(), priced);
    }
}

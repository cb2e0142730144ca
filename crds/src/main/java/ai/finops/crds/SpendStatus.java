package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The status of the resources that carry a budget, VirtualKey and Budget: the conditions of {@link
 * ResourceStatus} and a {@link Spend} summary. Two writers share it, each owning its own fields: the
 * bundle reconciler writes {@code conditions} ({@code Accepted}, {@code ResolvedRefs}, {@code Ready})
 * and {@code observedGeneration}; the spend loop writes {@code spend} and the condition {@value
 * #BUDGET_EXCEEDED}. Each keeps the other's conditions as it finds them.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
public class SpendStatus extends ResourceStatus {
    /** The condition type the spend loop sets: {@code True} while the limit is reached. */
    public static final String BUDGET_EXCEEDED = "BudgetExceeded";

    public Spend spend;
}

package ai.finops.operator.bundle;

import ai.finops.crds.validation.Problem;
import java.util.List;

/**
 * What the operator decided about one resource.
 *
 * @param invalid problems of the resource itself ({@code Accepted=False})
 * @param unresolved references to things that do not exist or were not accepted ({@code ResolvedRefs=False})
 */
public record Verdict(List<Problem> invalid, List<Problem> unresolved) {
    public static final Verdict ACCEPTED = new Verdict(List.of(), List.of());

    public Verdict {
        invalid = List.copyOf(invalid);
        unresolved = List.copyOf(unresolved);
    }

    /** Whether the resource is in the bundle. */
    public boolean included() {
        return invalid.isEmpty() && unresolved.isEmpty();
    }
}

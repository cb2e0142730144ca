package ai.finops.operator.bundle;

import ai.finops.crds.ResourceStatus;
import ai.finops.crds.validation.Problem;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The status the operator writes for a {@link Verdict}: Kubernetes-style positive conditions
 * {@code Accepted}, {@code ResolvedRefs} and {@code Ready}, each with reason, message and
 * {@code observedGeneration}. A condition keeps its {@code lastTransitionTime} while its status does
 * not change, so an unchanged verdict gives an equal status and no write.
 *
 * <p>The conditions list is shared: another writer (the spend loop's {@code BudgetExceeded}) keeps its
 * own conditions in it. They are kept where they are, as read; only the three {@link #OWNED} types
 * are derived here, and only they decide whether anything changed.
 */
public final class Statuses {
    public static final String ACCEPTED = "Accepted";
    public static final String RESOLVED_REFS = "ResolvedRefs";
    public static final String READY = "Ready";
    /** The condition types this reconciler writes; any other type in the list belongs to another writer. */
    public static final List<String> OWNED = List.of(ACCEPTED, RESOLVED_REFS, READY);
    static final int MAX_MESSAGE = 2_000;

    private Statuses() {}

    public static ResourceStatus desired(Verdict verdict, Long generation, ResourceStatus current, Instant now) {
        List<Condition> previous = current == null || current.conditions == null ? List.of() : current.conditions;
        List<Condition> owned = List.of(
                verdict.invalid().isEmpty()
                        ? condition(ACCEPTED, true, "Accepted", "The spec is valid.", generation, previous, now)
                        : condition(ACCEPTED, false, "Invalid", message(verdict.invalid()), generation, previous, now),
                verdict.unresolved().isEmpty()
                        ? condition(RESOLVED_REFS, true, "ResolvedRefs", "Every reference resolves.", generation, previous, now)
                        : condition(RESOLVED_REFS, false, "RefNotFound", message(verdict.unresolved()), generation, previous, now),
                verdict.included()
                        ? condition(READY, true, "InBundle", "Served by the gateways of this namespace (ConfigMap "
                                + Names.BUNDLE_CONFIG_MAP + ").", generation, previous, now)
                        : condition(READY, false, verdict.invalid().isEmpty() ? "RefNotFound" : "Invalid",
                                "Left out of the gateway bundle; the rest of the namespace's resources keep working. See "
                                        + (verdict.invalid().isEmpty() ? RESOLVED_REFS : ACCEPTED) + ".", generation, previous, now));
        ResourceStatus status = new ResourceStatus();
        status.observedGeneration = generation;
        status.conditions = new ArrayList<>();
        List<Condition> unplaced = new ArrayList<>(owned);
        for (Condition c : previous) {
            if (!OWNED.contains(c.getType())) {
                status.conditions.add(c);                          // another writer's, as read
            } else if (unplaced.removeIf(o -> o.getType().equals(c.getType()))) {
                status.conditions.add(find(owned, c.getType()));   // ours, where it was
            }
        }
        status.conditions.addAll(unplaced);                        // ours that were missing, in their order
        return status;
    }

    /** Whether writing {@code desired} would change anything this reconciler owns. */
    public static boolean same(ResourceStatus current, ResourceStatus desired) {
        return current != null && Objects.equals(current.observedGeneration, desired.observedGeneration)
                && Objects.equals(owned(current.conditions), owned(desired.conditions));
    }

    /** The condition of {@code type} in {@code status}, or null. */
    public static Condition find(ResourceStatus status, String type) {
        return status == null || status.conditions == null ? null : find(status.conditions, type);
    }

    /** Whether {@code status} holds a condition of a type this reconciler does not write. */
    public static boolean hasOthers(ResourceStatus status) {
        return status != null && status.conditions != null && status.conditions.stream().anyMatch(c -> !OWNED.contains(c.getType()));
    }

    private static Condition find(List<Condition> conditions, String type) {
        return conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    }

    /** The owned conditions by type, in {@link #OWNED} order (missing ones as null). */
    private static List<Condition> owned(List<Condition> conditions) {
        List<Condition> list = conditions == null ? List.of() : conditions;
        return OWNED.stream().map(type -> find(list, type)).toList();
    }

    private static Condition condition(String type, boolean ok, String reason, String message, Long generation,
            List<Condition> previous, Instant now) {
        String status = ok ? "True" : "False";
        String since = previous.stream().filter(c -> type.equals(c.getType()) && status.equals(c.getStatus()))
                .map(Condition::getLastTransitionTime).filter(Objects::nonNull).findFirst()
                .orElse(DateTimeFormatter.ISO_INSTANT.format(now.truncatedTo(ChronoUnit.SECONDS)));
        return new ConditionBuilder().withType(type).withStatus(status).withReason(reason).withMessage(message)
                .withObservedGeneration(generation).withLastTransitionTime(since).build();
    }

    private static String message(List<Problem> problems) {
        String text = problems.stream().map(p -> p.field() == null ? p.message() : p.field() + ": " + p.message())
                .collect(Collectors.joining("; "));
        return text.length() <= MAX_MESSAGE ? text : text.substring(0, MAX_MESSAGE - 3) + "...";
    }
}

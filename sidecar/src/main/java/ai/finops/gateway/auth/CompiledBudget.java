package ai.finops.gateway.auth;

import ai.finops.crds.BudgetAction;
import ai.finops.crds.BudgetPeriod;
import ai.finops.crds.validation.Globs;
import ai.finops.crds.validation.TimeZones;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Objects;

/**
 * A budget as a snapshot holds it, compiled from a {@code Budget} resource or from a VirtualKey's own
 * {@code spec.budget}: immutable, validated, money in whole micro-dollars. The gateway does not enforce
 * it yet; it is what the admit step will charge requests against.
 *
 * <p>Exactly one of {@code period} (a calendar period in {@code timeZone}) and {@code duration} (a
 * rolling window) is set.
 *
 * @param kind where it comes from: a Budget, or a VirtualKey's own budget
 * @param name the Budget's name, or the VirtualKey's (its own budget)
 * @param teams VirtualKey teams in scope; with {@code virtualKeys}, either one puts a key in scope
 * @param virtualKeys VirtualKey names in scope; a key's own budget names the key alone
 * @param modelGlobs glob patterns over the requested and the resolved model; empty = every model
 * @param limitMicros the limit in micro-dollars ({@code "2000.00"} is {@code 2_000_000_000})
 * @param period the calendar period, or null for a rolling window
 * @param duration the rolling window, or null for a calendar period
 * @param timeZone where the period's boundaries are ({@link TimeZones#DEFAULT}, UTC, when none is given)
 * @param action {@code BLOCK} (a key's own budget always) or {@code WARN}
 * @param alertAtPercent ascending percentages of the limit to alert at; empty = none
 */
public record CompiledBudget(
        Kind kind,
        String name,
        List<String> teams,
        List<String> virtualKeys,
        List<String> modelGlobs,
        long limitMicros,
        BudgetPeriod period,
        Duration duration,
        ZoneId timeZone,
        BudgetAction action,
        List<Integer> alertAtPercent) {

    /** Where a budget comes from. */
    public enum Kind {
        /** A {@code Budget} resource. */
        BUDGET,
        /** A VirtualKey's {@code spec.budget}, over that key alone. */
        VIRTUAL_KEY
    }

    public CompiledBudget {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(name, "name");
        teams = List.copyOf(teams);
        virtualKeys = List.copyOf(virtualKeys);
        modelGlobs = List.copyOf(modelGlobs);
        alertAtPercent = List.copyOf(alertAtPercent);
        if ((period == null) == (duration == null)) {
            throw new IllegalArgumentException("a budget has exactly one of period and duration");
        }
        if (limitMicros < 0) {
            throw new IllegalArgumentException("a budget's limit is not negative");
        }
        timeZone = Objects.requireNonNullElse(timeZone, TimeZones.DEFAULT);
        Objects.requireNonNull(action, "action");
    }

    /** {@code Budget/<name>} or {@code VirtualKey/<name>}: unique within a snapshot, stable across reloads. */
    public String id() {
        return (kind == Kind.BUDGET ? "Budget/" : "VirtualKey/") + name;
    }

    /** Whether the window rolls ({@code duration}) rather than resets on a calendar period. */
    public boolean rolling() {
        return duration != null;
    }

    /** Whether requests of {@code key} count against this budget, whatever their model. */
    public boolean coversKey(KeyEntry key) {
        return teams.isEmpty() && virtualKeys.isEmpty()
                || key.team() != null && teams.contains(key.team())
                || virtualKeys.contains(key.name());
    }

    /**
     * Whether a request of {@code key} for {@code models} (the model as requested, as resolved, ...)
     * counts against this budget: its key is in scope and, when the budget names models, one of them
     * matches one of its globs.
     */
    public boolean covers(KeyEntry key, String... models) {
        if (!coversKey(key)) {
            return false;
        }
        if (modelGlobs.isEmpty()) {
            return true;
        }
        for (String glob : modelGlobs) {
            for (String model : models) {
                if (Globs.matches(glob, model)) {
                    return true;
                }
            }
        }
        return false;
    }
}

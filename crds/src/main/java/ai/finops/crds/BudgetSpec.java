package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/**
 * A spending limit over a scope of keys and models. The schema here is what {@code kubectl apply}
 * checks; the full validation, with references and precise messages, is {@link
 * ai.finops.crds.validation.ResourceValidator}. Validated and bundled; not enforced yet.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.period) != has(self.duration)", message = "give exactly one of period and duration")
@ValidationRule(value = "!has(self.timeZone) || (has(self.period) && self.period != 'Total')",
        message = "timeZone applies to a calendar period (Daily, Weekly, Monthly, Quarterly), not to Total or a rolling duration")
public class BudgetSpec {
    /** The pattern of money in the CRD schema (the validator's {@code Money} is stricter). */
    static final String MONEY = "^[0-9]{1,15}([.][0-9]+)?$";
    /** A rolling window in the CRD schema: whole days or hours. */
    static final String ROLLING = "^[1-9][0-9]{0,3}[dh]$";
    /** The shape of an IANA time zone id in the CRD schema (the validator checks it names one). */
    static final String TIME_ZONE = "^[A-Za-z][-+_A-Za-z0-9]*(/[-+_A-Za-z0-9]+)*$";

    @JsonPropertyDescription("Which requests count: keys by team or name, and models by glob; empty = every key of the namespace.")
    public Scope scope;

    @JsonPropertyDescription("The limit in US dollars, a decimal string such as \"2000.00\".")
    @Required
    @Pattern(MONEY)
    public String limitUsd;

    @JsonPropertyDescription("Daily | Weekly | Monthly | Quarterly | Total: the calendar period it resets on; or give duration.")
    @SchemaFrom(type = BudgetPeriod.class)
    public String period;

    @JsonPropertyDescription("A rolling window instead of a period: whole days or hours, such as 7d or 12h (1h to 366d).")
    @Pattern(ROLLING)
    public String duration;

    @JsonPropertyDescription("IANA time zone of the period's boundaries, such as Europe/Paris; default UTC.")
    @Pattern(TIME_ZONE)
    public String timeZone;

    @JsonPropertyDescription("Block (default): refuse requests once the limit is reached; Warn: only report it.")
    @SchemaFrom(type = BudgetAction.class)
    public String action;

    @JsonPropertyDescription("Percentages of the limit at which to alert, ascending, each once, 1 to 100, such as [50, 80, 95].")
    @Size(max = 10)
    @ValidationRule(value = "self.all(p, p >= 1 && p <= 100)", message = "alert percentages are between 1 and 100")
    @ValidationRule(value = "[0, 1, 2, 3, 4, 5, 6, 7, 8].all(i, i + 1 >= size(self) || self[i] < self[i + 1])",
            message = "alert percentages are in ascending order, each once")
    public List<Integer> alertAtPercent = new ArrayList<>();

    /**
     * A request counts against the budget when its key is in scope (its team is in {@code teams} or its
     * name in {@code virtualKeys}; both empty = every key) and, when {@code models} is given, its model
     * (as requested or as resolved) matches one of the globs.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Scope {
        @JsonPropertyDescription("VirtualKey teams (spec.team) whose keys count; with virtualKeys, either one puts a key in scope.")
        public List<String> teams = new ArrayList<>();

        @JsonPropertyDescription("VirtualKey names whose requests count; empty with teams empty = every key of the namespace.")
        public List<String> virtualKeys = new ArrayList<>();

        @JsonPropertyDescription("Glob patterns (`*`) over the requested and the resolved model, such as claude-opus-*; empty = every model.")
        public List<String> models = new ArrayList<>();
    }
}

package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class RoutingRuleSpec {
    @JsonPropertyDescription("Ascending: the rule with the lowest priority that matches wins (default 0); ties by name.")
    public Integer priority;

    public Scope scope;

    @JsonPropertyDescription("CEL condition over model, headers (lower-cased names), virtualKey, team, api, path; empty = always.")
    public String when;

    @JsonPropertyDescription("Model references (prefix/model or bare model) with weights; one is chosen per session.")
    @Required
    @Size(min = 1, max = 64)
    @ValidationRule(value = "self.exists(t, !has(t.weight) || t.weight > 0)", message = "at least one target needs a weight > 0")
    public List<Target> targets = new ArrayList<>();

    @JsonPropertyDescription("Model references tried in order when every target failed before the first byte.")
    public List<String> fallbacks = new ArrayList<>();

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Scope {
        @JsonPropertyDescription("VirtualKey names this rule applies to; empty = every key.")
        public List<String> virtualKeys = new ArrayList<>();
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Target {
        @Required
        public String model;
        @Min(0)
        public Integer weight;

        public Target() {}

        public Target(String model, Integer weight) {
            this.model = model;
            this.weight = weight;
        }
    }
}

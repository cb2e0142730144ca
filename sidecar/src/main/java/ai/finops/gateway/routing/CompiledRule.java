package ai.finops.gateway.routing;

import ai.finops.crds.cel.RuleExpressions;
import ai.finops.crds.validation.ModelRef;
import java.util.List;
import java.util.Set;

/**
 * A RoutingRule ready to evaluate: its CEL program compiled once at config load.
 *
 * @param scope VirtualKey names; empty = every key
 * @param when null = always
 */
public record CompiledRule(
        String name,
        int priority,
        Set<String> scope,
        RuleExpressions.Compiled when,
        List<WeightedRef> targets,
        List<ModelRef> fallbacks) {

    public record WeightedRef(ModelRef ref, int weight) {}
}

package ai.finops.gateway.routing;

import ai.finops.crds.ProviderType;
import java.util.List;
import java.util.Map;

/**
 * The compiled, immutable routing view of one config snapshot.
 *
 * @param rules ordered by priority, then name
 * @param deployments by ProviderDeployment name
 * @param byType deployments of each provider type, by name
 * @param usesBudget whether a rule's {@code when} names {@code budget}: only then is a key's budget looked up before routing
 */
public record RoutingTable(List<CompiledRule> rules, Map<String, Deployment> deployments, Map<ProviderType, List<Deployment>> byType,
        boolean usesBudget) {

    /**
     * The table of {@code rules}; {@link #usesBudget()} is read from them once, here, not on every request.
     */
    public RoutingTable(List<CompiledRule> rules, Map<String, Deployment> deployments, Map<ProviderType, List<Deployment>> byType) {
        this(rules, deployments, byType, namesBudget(rules));
    }

    private static boolean namesBudget(List<CompiledRule> rules) {
        for (CompiledRule r : rules) {
            if (r.when() != null && r.when().source().contains("budget")) {
                return true;
            }
        }
        return false;
    }
}

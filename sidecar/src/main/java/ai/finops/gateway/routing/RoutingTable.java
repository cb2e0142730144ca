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
 */
public record RoutingTable(List<CompiledRule> rules, Map<String, Deployment> deployments, Map<ProviderType, List<Deployment>> byType) {

    /** Whether a rule's {@code when} names {@code budget}: only then is a key's budget looked up before routing. */
    public boolean usesBudget() {
        for (CompiledRule r : rules) {
            if (r.when() != null && r.when().source().contains("budget")) {
                return true;
            }
        }
        return false;
    }
}

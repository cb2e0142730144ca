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
public record RoutingTable(List<CompiledRule> rules, Map<String, Deployment> deployments, Map<ProviderType, List<Deployment>> byType) {}

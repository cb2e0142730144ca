package ai.finops.gateway.routing;

import ai.finops.crds.ProviderType;
import ai.finops.gateway.observability.PriceCatalogue;
import ai.finops.gateway.observability.Pricing;
import ai.finops.gateway.provider.ProviderAdapter;
import ai.finops.gateway.upstream.UpstreamEndpoint;
import java.time.Duration;
import java.util.Map;

/**
 * A compiled ProviderDeployment: where to send, with which credential, what it serves.
 *
 * @param adapter how the provider is spoken to, its endpoint and credentials bound; never logged with them
 * @param models the declared models by client-facing name; empty means any model passes through
 * @param attempts tries on this deployment for connection failures and 5xx before moving on
 * @param cooldown how long to skip this deployment after 429/529/5xx when no retry-after came
 */
public record Deployment(
        String name,
        ProviderType type,
        UpstreamEndpoint endpoint,
        ProviderAdapter adapter,
        Map<String, ModelEntry> models,
        int weight,
        Duration connectTimeout,
        Duration firstByteTimeout,
        Duration idleTimeout,
        int attempts,
        Duration cooldown,
        java.util.function.UnaryOperator<String> providerIds) {

    /** The ids of a deployment that sends model names as they are. */
    public static final java.util.function.UnaryOperator<String> SAME_IDS = java.util.function.UnaryOperator.identity();

    /** True when this deployment can serve {@code model}. */
    public boolean serves(String model) {
        return models.isEmpty() || models.containsKey(model);
    }

    /**
     * The entry for {@code model}; for a pass-through deployment, the provider's id for it from the
     * model catalogue (Bedrock and Vertex ids; the name itself elsewhere) with catalogue pricing.
     */
    public ModelEntry model(String model) {
        ModelEntry entry = models.get(model);
        if (entry != null) {
            return entry;
        }
        Pricing pricing = PriceCatalogue.lookup(model);   // a Claude name, dated or not: no need for the canonical form
        if (pricing == null) {
            pricing = PriceCatalogue.lookup(ai.finops.gateway.provider.ModelCatalogue.canonical(model));
        }
        String family = ai.finops.gateway.provider.ModelCatalogue.canonical(model);
        return new ModelEntry(model, providerIds.apply(model), pricing,
                ai.finops.gateway.provider.ModelCatalogue.knows(family) ? family : ModelEntry.OTHER);
    }

    @Override
    public String toString() {
        return "Deployment[" + name + " " + type.id() + " " + endpoint + "]";
    }
}

package ai.finops.gateway.routing;

import ai.finops.gateway.observability.Pricing;

/**
 * A model a deployment serves.
 *
 * @param name the name clients and rules use
 * @param providerId the id sent to the provider
 * @param pricing the price per million tokens, or null when neither the deployment nor the built-in
 *     catalogue knows it
 * @param metricName the model as metrics name it: a name from config or the built-in catalogue, never
 *     a client's free choice (a pass-through deployment serves any name), so series stay bounded
 */
public record ModelEntry(String name, String providerId, Pricing pricing, String metricName) {
    /** What metrics call a model no configuration or catalogue names. */
    public static final String OTHER = "other";

    /** A model a deployment's {@code models} list names: that name is bounded by config. */
    public ModelEntry(String name, String providerId, Pricing pricing) {
        this(name, providerId, pricing, name);
    }
}

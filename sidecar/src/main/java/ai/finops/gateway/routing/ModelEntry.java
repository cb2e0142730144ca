package ai.finops.gateway.routing;

import ai.finops.gateway.observability.Pricing;

/**
 * A model a deployment serves.
 *
 * @param name the name clients and rules use
 * @param providerId the id sent to the provider
 * @param pricing the price per million tokens, or null when neither the deployment nor the built-in
 *     catalogue knows it
 */
public record ModelEntry(String name, String providerId, Pricing pricing) {}

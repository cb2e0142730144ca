package ai.finops.gateway.routing;

/**
 * One place a request may go, in order of preference.
 *
 * @param ref the model reference that produced it (a rule target, a fallback, or the requested model)
 * @param fallback true for a rule's fallbacks
 */
public record Attempt(Deployment deployment, ModelEntry model, String ref, boolean fallback) {

    public String describe() {
        return deployment.name() + "/" + model.providerId() + (fallback ? " (fallback)" : "");
    }
}

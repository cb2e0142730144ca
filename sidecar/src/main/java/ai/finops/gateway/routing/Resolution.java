package ai.finops.gateway.routing;

import java.util.List;

/**
 * The routing decision for one request and why it was made.
 *
 * @param rule the matching RoutingRule, or null when the model reference was resolved directly
 * @param steps human-readable reasoning, in order (for the dry-run endpoint and debug logs)
 * @param attempts where to send, in order; empty when {@code errorStatus} is set
 * @param errorStatus 0, or the HTTP status to answer (400, 403, 404)
 */
public record Resolution(String rule, List<String> steps, List<Attempt> attempts, int errorStatus, String errorType, String errorMessage) {

    public boolean ok() {
        return errorStatus == 0;
    }

    static Resolution error(String rule, List<String> steps, int status, String type, String message) {
        return new Resolution(rule, steps, List.of(), status, type, message);
    }
}

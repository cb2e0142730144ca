package ai.finops.gateway.server;

import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.observability.AccessLog;
import ai.finops.gateway.observability.ExchangeListener;
import ai.finops.gateway.observability.GatewayMetrics;
import java.util.List;

/**
 * A request the gateway answers itself, without a provider: a refusal (outcome {@code rejected_*}:
 * no or wrong key, a disabled key or a model it may not use, a bad body, no such endpoint or model, a
 * wrong method, a request not sent in time, a body over the limit, a CORS preflight from an origin not allowed) or a local answer
 * ({@code HEAD /}, the model lists, an allowed CORS preflight: outcome {@code local}). It leaves the
 * same trace as a request a provider served, through {@link #record}: one access-log line and one
 * count in {@code finops_gateway_requests_total} (in a {@code via-gateway} sidecar, in the relay's
 * counter: the shared gateway never sees such a request). What is not known is left out of the line
 * and tagged {@code none}; a model a client named is never a tag.
 */
final class LocalAnswer {
    static final String LOCAL = "local";
    static final String REJECTED_CORS = "rejected_cors";

    private final GatewayContext gateway;
    private final String requestId;
    private final long startNanos;
    private final String path;
    private KeyEntry key;
    private String rule;
    private String requestedModel;

    LocalAnswer(GatewayContext gateway, String requestId, long startNanos, String path) {
        this.gateway = gateway;
        this.requestId = requestId;
        this.startNanos = startNanos;
        this.path = path;
    }

    String requestId() {
        return requestId;
    }

    /** The virtual key, once authenticated. */
    LocalAnswer key(KeyEntry key) {
        this.key = key;
        return this;
    }

    /** The model the body names, and the rule it matched, if any. */
    LocalAnswer model(String requestedModel, String rule) {
        this.requestedModel = requestedModel;
        this.rule = rule;
        return this;
    }

    /** Records an answer by its status: {@code local} below 400, else the refusal of that status. */
    void record(int status) {
        record(status < 400 ? LOCAL : rejected(status), status);
    }

    void record(String outcome, int status) {
        long duration = System.nanoTime() - startNanos;
        GatewayMetrics.RequestRecord r = new GatewayMetrics.RequestRecord(ApiHandler.openAiSurface(path) ? "openai" : "anthropic", rule,
                null, null, null, null, key == null ? null : key.name(), outcome, status, duration, 0, null, null, false);
        if (gateway.relay() != null) {
            gateway.metrics().relayed(outcome, status, duration);
        } else {
            gateway.metrics().request(r, key == null ? null : key.team());
        }
        AccessLog.log(new ExchangeListener.RequestEnd(r, requestId, null, requestedModel, path, 0, List.of(), key == null ? null : key.team(),
                null, null, null, null));
    }

    /** The outcome of a refusal: one per status the gateway refuses with, so the set stays small. */
    static String rejected(int status) {
        return switch (status) {
            case 400, 417 -> "rejected_bad_request";
            case 401 -> "rejected_auth";
            case 403 -> "rejected_forbidden";
            case 404 -> "rejected_not_found";
            case 405 -> "rejected_method";
            case 408 -> "rejected_timeout";
            case 413 -> "rejected_too_large";
            default -> "rejected";
        };
    }
}

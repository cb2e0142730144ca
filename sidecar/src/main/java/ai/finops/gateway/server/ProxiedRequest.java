package ai.finops.gateway.server;

import ai.finops.gateway.auth.CompiledBudget;
import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.observability.ExchangeListener;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.observability.Pricing;
import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.routing.Resolution;
import ai.finops.gateway.translate.RequestBody;
import ai.finops.gateway.translate.Usage;
import io.netty.handler.codec.http.FullHttpRequest;
import java.math.BigDecimal;
import java.util.List;

/**
 * What a proxied request is, once routed: the client's request (owned by its exchange, released when it
 * ends), what its body says, where it may go, and who sent it.
 *
 * @param apiPath the Anthropic API path it is served as (messages, count_tokens)
 * @param surface the client's dialect: {@code anthropic} or {@code openai}
 * @param budgets the Budgets of the snapshot it was routed with
 */
record ProxiedRequest(FullHttpRequest request, RequestBody body, String apiPath, String surface, KeyEntry key, Resolution resolution,
        List<CompiledBudget> budgets, String requestId, long startNanos) {

    static final String SESSION_HEADER = "x-claude-code-session-id";

    /** Clients may send {@code ?beta=true} (the Anthropic SDKs' beta endpoints); nothing else of the query passes. */
    boolean betaQuery() {
        String uri = request.uri();
        int q = uri.indexOf('?');
        return q >= 0 && uri.substring(q + 1).contains("beta=true");
    }

    /** What the exchange's listeners are told when it starts. */
    ExchangeListener.RequestStart start() {
        return new ExchangeListener.RequestStart(requestId, key.name(), key.team(), surface, apiPath, sessionId(), request.headers());
    }

    /** The client's session, as Claude Code names it on every request; null when absent. */
    String sessionId() {
        return request.headers().get(SESSION_HEADER);
    }

    /**
     * How it ended, as the meters and the access line record it; {@code last} is the attempt that answered, or null;
     * {@code traced} tells the trace it is recorded in, if any.
     */
    ExchangeListener.RequestEnd end(Attempt last, String outcome, int status, long firstByteNanos, Usage usage, String upstreamRequestId,
            int calls, List<String> failures, ExchangeListener.Observer traced) {
        Pricing pricing = last == null ? null : last.model().pricing();
        BigDecimal cost = pricing != null && usage.seen ? pricing.cost(usage) : null;
        GatewayMetrics.RequestRecord record = new GatewayMetrics.RequestRecord(
                surface,
                resolution.rule() == null ? "direct" : resolution.rule(),
                last == null ? "none" : last.deployment().type().id(),
                last == null ? "none" : last.deployment().name(),
                last == null ? body.model() : last.model().name(),
                last == null ? null : last.model().metricName(),
                key.name(),
                outcome, status, System.nanoTime() - startNanos, firstByteNanos, usage, cost, body.stream());
        return new ExchangeListener.RequestEnd(record, requestId, upstreamRequestId, body.model(), apiPath, calls, failures, key.team(), last,
                sessionId(), traced.traceId(), traced.spanId());
    }
}

package ai.finops.gateway.observability.tracing;

import ai.finops.gateway.observability.ExchangeListener;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;

/**
 * Records each proxied request as a SERVER span, continuing the client's W3C trace context when it sent
 * one, named per the HTTP conventions ({@code POST /v1/messages}); its attempts become CLIENT spans
 * under it ({@link RequestSpans}).
 */
final class RequestTracer implements ExchangeListener {
    private final Tracer tracer;
    private final TextMapPropagator propagator;

    RequestTracer(Tracer tracer, TextMapPropagator propagator) {
        this.tracer = tracer;
        this.propagator = propagator;
    }

    @Override
    public Observer started(RequestStart start) {
        Context parent = propagator.extract(Context.root(), start.headers(), HeaderCarrier.INSTANCE);
        String route = route(start);
        Span server = tracer.spanBuilder("POST " + route).setParent(parent).setSpanKind(SpanKind.SERVER).startSpan();
        if (server.isRecording()) {
            server.setAttribute(SpanAttributes.HTTP_METHOD, "POST");
            server.setAttribute(SpanAttributes.HTTP_ROUTE, route);
            server.setAttribute(SpanAttributes.REQUEST_ID, start.requestId());
            server.setAttribute(SpanAttributes.VIRTUAL_KEY, start.virtualKey());
            server.setAttribute(SpanAttributes.API, start.surface());
            if (start.team() != null) {
                server.setAttribute(SpanAttributes.TEAM, start.team());
            }
            if (start.sessionId() != null) {
                server.setAttribute(SpanAttributes.CONVERSATION_ID, start.sessionId());
            }
        }
        return new RequestSpans(tracer, propagator, server, start.sessionId());
    }

    /** The route the client called: the API path it is served as, or Chat Completions' on the OpenAI surface. */
    private static String route(RequestStart start) {
        return "openai".equals(start.surface()) ? "/v1/chat/completions" : start.path();
    }
}

package ai.finops.gateway.observability.tracing;

import static ai.finops.gateway.observability.tracing.SpanAttributes.*;

import ai.finops.gateway.observability.ExchangeListener;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.observability.GenAi;
import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.translate.Usage;
import io.netty.handler.codec.http.HttpHeaders;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.List;

/**
 * One request's spans: its SERVER span, and a CLIENT span per attempt ({@code chat {model}}, siblings under
 * it, at most one open at a time since attempts follow each other). A failed attempt's span ends when it
 * fails, with {@code error.type} the failure's kind; the attempt that answered stays open until the request
 * is accounted, which brings its usage. Every path of the exchange ends with {@link #ended}, so every span
 * ends. Setting attributes only writes to the span; export happens later, off the event loop.
 */
final class RequestSpans implements ExchangeListener.Observer {
    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final Span server;
    private final String sessionId;
    private Span attempt;              // the attempt in flight (or the one that answered), else null
    private int attemptNumber;
    private long attemptStartNanos;

    RequestSpans(Tracer tracer, TextMapPropagator propagator, Span server, String sessionId) {
        this.tracer = tracer;
        this.propagator = propagator;
        this.server = server;
        this.sessionId = sessionId;
    }

    @Override
    public void attemptStarted(int number, Attempt a) {
        String model = a.model().providerId();
        Span span = tracer.spanBuilder(GenAi.OPERATION_CHAT + " " + model).setParent(Context.root().with(server))
                .setSpanKind(SpanKind.CLIENT).startSpan();
        if (span.isRecording()) {
            span.setAttribute(OPERATION_NAME, GenAi.OPERATION_CHAT);
            span.setAttribute(PROVIDER_NAME, GenAi.providerName(a.deployment().type()));
            span.setAttribute(REQUEST_MODEL, model);
            span.setAttribute(SERVER_ADDRESS, a.deployment().endpoint().host());
            span.setAttribute(SERVER_PORT, a.deployment().endpoint().port());
            span.setAttribute(DEPLOYMENT, a.deployment().name());
            span.setAttribute(ATTEMPT, number);
            span.setAttribute(FALLBACK, a.fallback());
            if (sessionId != null) {
                span.setAttribute(CONVERSATION_ID, sessionId);
            }
        }
        attempt = span;
        attemptNumber = number;
        attemptStartNanos = System.nanoTime();
    }

    /** The attempt's own trace context goes upstream, so the provider's side (or a proxy) joins the trace under it. */
    @Override
    public void sending(int number, HttpHeaders upstreamHeaders) {
        if (attempt != null && number == attemptNumber) {
            propagator.inject(Context.root().with(attempt), upstreamHeaders, HeaderCarrier.INSTANCE);
        }
    }

    @Override
    public void attemptEnded(int number, Attempt a, String outcome) {
        if (attempt == null || number != attemptNumber || "ok".equals(outcome)) {
            return;                    // an answer: its span ends with the request, which brings the usage
        }
        attempt.setAttribute(ERROR_TYPE, outcome);
        attempt.setStatus(StatusCode.ERROR, outcome);
        attempt.end();
        attempt = null;
    }

    @Override
    public void firstByte(long nanos) {
        if (attempt != null) {
            attempt.setAttribute(TIME_TO_FIRST_CHUNK, (System.nanoTime() - attemptStartNanos) / 1e9);
        }
    }

    @Override
    public void ended(ExchangeListener.RequestEnd end) {
        GatewayMetrics.RequestRecord r = end.record();
        if (attempt != null) {
            answered(attempt, r);
            attempt = null;
        }
        if (server.isRecording()) {
            server.setAttribute(HTTP_STATUS, r.status());
            server.setAttribute(OUTCOME, r.outcome());
            server.setAttribute(RULE, r.route());
            server.setAttribute(ATTEMPTS, end.attempts());
            if (end.requestedModel() != null) {
                server.setAttribute(REQUESTED_MODEL, end.requestedModel());
            }
            if (end.answered() != null) {
                server.setAttribute(DEPLOYMENT, end.answered().deployment().name());
            }
            if (r.costUsd() != null) {
                server.setAttribute(COST_USD, r.costUsd().doubleValue());
            }
            // a server's 4xx is the client's doing (HTTP conventions); a 5xx, or a response cut short, is an error
            String error = r.status() >= 500 ? String.valueOf(r.status())
                    : r.status() < 400 && !"ok".equals(r.outcome()) && !"client_closed".equals(r.outcome()) ? r.outcome() : null;
            if (error != null) {
                server.setAttribute(ERROR_TYPE, error);
                server.setStatus(StatusCode.ERROR, r.outcome());
            }
        }
        server.end();
    }

    /** Ends the span of the attempt that answered, with what the response said: usage, id, model, stop reason. */
    private static void answered(Span span, GatewayMetrics.RequestRecord r) {
        span.setAttribute(HTTP_STATUS, r.status());
        Usage u = r.usage();
        if (u != null && u.seen) {
            // the conventions count cached input in the input tokens; Anthropic's input_tokens leaves it out
            span.setAttribute(INPUT_TOKENS, u.inputTokens + u.cacheReadInputTokens + u.cacheCreationInputTokens);
            span.setAttribute(OUTPUT_TOKENS, u.outputTokens);
            span.setAttribute(CACHE_READ_TOKENS, u.cacheReadInputTokens);
            span.setAttribute(CACHE_WRITE_TOKENS, u.cacheCreationInputTokens);
        }
        if (u != null && u.responseId != null) {
            span.setAttribute(RESPONSE_ID, u.responseId);
        }
        if (u != null && u.responseModel != null) {
            span.setAttribute(RESPONSE_MODEL, u.responseModel);
        }
        if (u != null && u.stopReason != null) {
            span.setAttribute(FINISH_REASONS, List.of(u.stopReason));
        }
        if (r.status() >= 400) {
            span.setAttribute(ERROR_TYPE, String.valueOf(r.status()));
            span.setStatus(StatusCode.ERROR);
        }
        span.end();
    }

    @Override
    public String traceId() {
        return server.getSpanContext().isSampled() ? server.getSpanContext().getTraceId() : null;
    }

    @Override
    public String spanId() {
        return server.getSpanContext().isSampled() ? server.getSpanContext().getSpanId() : null;
    }
}

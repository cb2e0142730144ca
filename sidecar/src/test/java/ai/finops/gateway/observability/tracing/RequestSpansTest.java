package ai.finops.gateway.observability.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.crds.ProviderType;
import ai.finops.gateway.observability.ExchangeListener;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.routing.Deployment;
import ai.finops.gateway.routing.ModelEntry;
import ai.finops.gateway.translate.Usage;
import ai.finops.gateway.upstream.UpstreamEndpoint;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.math.BigDecimal;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the spans of one request say, event by event as the exchange reports them. */
class RequestSpansTest {
    static final String CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    static final String CLIENT_SPAN = "00f067aa0ba902b7";

    final InMemorySpanExporter exported = InMemorySpanExporter.create();

    RequestTracer tracer(Sampler sampler) {
        SdkTracerProvider provider = SdkTracerProvider.builder().setSampler(sampler).addSpanProcessor(SimpleSpanProcessor.create(exported)).build();
        return new RequestTracer(provider.get("test"), W3CTraceContextPropagator.getInstance());
    }

    static Attempt attempt(String deployment, ProviderType type, String providerId, boolean fallback) {
        Deployment d = new Deployment(deployment, type, UpstreamEndpoint.of(URI.create("http://127.0.0.1:9999"), null), null, Map.of(), 1,
                Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1), 1, Duration.ofSeconds(1), Deployment.SAME_IDS);
        return new Attempt(d, new ModelEntry("claude-sonnet-4-6", providerId, null), "claude-sonnet-4-6", fallback);
    }

    static ExchangeListener.RequestStart start(HttpHeaders headers) {
        return new ExchangeListener.RequestStart("fgw_1", "alice", "platform", "anthropic", "/v1/messages", "session-7", headers);
    }

    static ExchangeListener.RequestEnd end(String outcome, int status, Usage usage, Attempt answered, int attempts) {
        GatewayMetrics.RequestRecord record = new GatewayMetrics.RequestRecord("anthropic", "with-fallback", "anthropic",
                answered == null ? "none" : answered.deployment().name(), "claude-sonnet-4-6", "claude-sonnet-4-6", "alice", outcome, status,
                1, 1, usage, usage != null && usage.seen ? new BigDecimal("0.0123") : null, false);
        return new ExchangeListener.RequestEnd(record, "fgw_1", null, "sonnet-model", "/v1/messages", attempts, List.of(), "platform",
                answered, "session-7", null, null);
    }

    SpanData span(String name) {
        return exported.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void aFallbackIsASecondClientSpanBesideTheFailedOneUnderTheClientsTrace() {
        HttpHeaders client = new DefaultHttpHeaders().set("traceparent", "00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01");
        ExchangeListener.Observer spans = tracer(Sampler.parentBased(Sampler.alwaysOn())).started(start(client));
        Attempt primary = attempt("primary", ProviderType.ANTHROPIC, "claude-sonnet-4-6", false);
        Attempt secondary = attempt("bedrock-east", ProviderType.BEDROCK, "global.anthropic.claude-sonnet-4-6", true);

        spans.attemptStarted(1, primary);
        HttpHeaders first = new DefaultHttpHeaders();
        spans.sending(1, first);
        spans.attemptEnded(1, primary, "status_529");
        spans.attemptStarted(2, secondary);
        HttpHeaders second = new DefaultHttpHeaders();
        spans.sending(2, second);
        spans.firstByte(1_000);
        spans.attemptEnded(2, secondary, "ok");
        Usage usage = new Usage();
        usage.seen = true;
        usage.inputTokens = 10;
        usage.outputTokens = 20;
        usage.cacheCreationInputTokens = 300;
        usage.cacheReadInputTokens = 4000;
        usage.responseId = "msg_1";
        usage.responseModel = "claude-sonnet-4-6";
        usage.stopReason = "end_turn";
        assertThat(spans.traceId()).isEqualTo(CLIENT_TRACE);
        spans.ended(end("ok", 200, usage, secondary, 2));

        assertThat(exported.getFinishedSpanItems()).hasSize(3);
        SpanData server = span("POST /v1/messages");
        assertThat(server.getKind()).isEqualTo(SpanKind.SERVER);
        assertThat(server.getTraceId()).isEqualTo(CLIENT_TRACE);
        assertThat(server.getParentSpanId()).isEqualTo(CLIENT_SPAN);
        assertThat(spans.spanId()).isEqualTo(server.getSpanId());
        assertThat(server.getAttributes().get(SpanAttributes.VIRTUAL_KEY)).isEqualTo("alice");
        assertThat(server.getAttributes().get(SpanAttributes.RULE)).isEqualTo("with-fallback");
        assertThat(server.getAttributes().get(SpanAttributes.DEPLOYMENT)).isEqualTo("bedrock-east");
        assertThat(server.getAttributes().get(SpanAttributes.COST_USD)).isEqualTo(0.0123);
        assertThat(server.getAttributes().get(SpanAttributes.HTTP_STATUS)).isEqualTo(200L);
        assertThat(server.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);

        SpanData failed = span("chat claude-sonnet-4-6");
        assertThat(failed.getParentSpanId()).isEqualTo(server.getSpanId());
        assertThat(failed.getKind()).isEqualTo(SpanKind.CLIENT);
        assertThat(failed.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(failed.getAttributes().get(SpanAttributes.ERROR_TYPE)).isEqualTo("status_529");
        assertThat(first.get("traceparent")).isEqualTo("00-" + CLIENT_TRACE + "-" + failed.getSpanId() + "-01");

        SpanData answered = span("chat global.anthropic.claude-sonnet-4-6");
        assertThat(answered.getParentSpanId()).isEqualTo(server.getSpanId());
        assertThat(second.get("traceparent")).isEqualTo("00-" + CLIENT_TRACE + "-" + answered.getSpanId() + "-01");
        var a = answered.getAttributes();
        assertThat(a.get(SpanAttributes.PROVIDER_NAME)).isEqualTo("aws.bedrock");
        assertThat(a.get(SpanAttributes.OPERATION_NAME)).isEqualTo("chat");
        assertThat(a.get(SpanAttributes.REQUEST_MODEL)).isEqualTo("global.anthropic.claude-sonnet-4-6");
        assertThat(a.get(SpanAttributes.INPUT_TOKENS)).as("cached input included").isEqualTo(4310L);
        assertThat(a.get(SpanAttributes.OUTPUT_TOKENS)).isEqualTo(20L);
        assertThat(a.get(SpanAttributes.CACHE_READ_TOKENS)).isEqualTo(4000L);
        assertThat(a.get(SpanAttributes.CACHE_WRITE_TOKENS)).isEqualTo(300L);
        assertThat(a.get(SpanAttributes.RESPONSE_ID)).isEqualTo("msg_1");
        assertThat(a.get(SpanAttributes.RESPONSE_MODEL)).isEqualTo("claude-sonnet-4-6");
        assertThat(a.get(SpanAttributes.FINISH_REASONS)).containsExactly("end_turn");
        assertThat(a.get(SpanAttributes.CONVERSATION_ID)).isEqualTo("session-7");
        assertThat(a.get(SpanAttributes.FALLBACK)).isTrue();
        assertThat(a.get(SpanAttributes.TIME_TO_FIRST_CHUNK)).isNotNull().isGreaterThanOrEqualTo(0.0);
        assertThat(answered.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    }

    @Test
    void aRefusedRequestIsAServerSpanAloneWithItsStatusAndNoError() {
        ExchangeListener.Observer spans = tracer(Sampler.alwaysOn()).started(start(new DefaultHttpHeaders()));
        spans.ended(end("rejected_admission", 429, new Usage(), null, 0));

        assertThat(exported.getFinishedSpanItems()).hasSize(1);
        SpanData server = span("POST /v1/messages");
        assertThat(server.getParentSpanContext().isValid()).as("a new trace: the client sent none").isFalse();
        assertThat(server.getAttributes().get(SpanAttributes.HTTP_STATUS)).isEqualTo(429L);
        assertThat(server.getAttributes().get(SpanAttributes.OUTCOME)).isEqualTo("rejected_admission");
        assertThat(server.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    }

    @Test
    void aStreamCutShortIsAnErrorOnBothSpans() {
        ExchangeListener.Observer spans = tracer(Sampler.alwaysOn()).started(start(new DefaultHttpHeaders()));
        Attempt a = attempt("primary", ProviderType.ANTHROPIC, "claude-sonnet-4-6", false);
        spans.attemptStarted(1, a);
        spans.firstByte(1);
        spans.attemptEnded(1, a, "reset");
        spans.ended(end("upstream_reset", 200, new Usage(), a, 1));

        assertThat(span("chat claude-sonnet-4-6").getAttributes().get(SpanAttributes.ERROR_TYPE)).isEqualTo("reset");
        SpanData server = span("POST /v1/messages");
        assertThat(server.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(server.getAttributes().get(SpanAttributes.ERROR_TYPE)).isEqualTo("upstream_reset");
    }

    @Test
    void anErrorAnswerPassedOnIsAnErrorOfTheAttemptButA4xxIsNotTheServers() {
        ExchangeListener.Observer spans = tracer(Sampler.alwaysOn()).started(start(new DefaultHttpHeaders()));
        Attempt a = attempt("primary", ProviderType.ANTHROPIC, "claude-sonnet-4-6", false);
        spans.attemptStarted(1, a);
        spans.attemptEnded(1, a, "ok");
        spans.ended(end("upstream_error", 400, new Usage(), a, 1));

        SpanData attempt = span("chat claude-sonnet-4-6");
        assertThat(attempt.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(attempt.getAttributes().get(SpanAttributes.ERROR_TYPE)).isEqualTo("400");
        assertThat(span("POST /v1/messages").getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    }

    @Test
    void anUnsampledRequestRecordsNothingYetTellsTheProviderItsContext() {
        ExchangeListener.Observer spans = tracer(Sampler.alwaysOff()).started(start(new DefaultHttpHeaders()));
        Attempt a = attempt("primary", ProviderType.ANTHROPIC, "claude-sonnet-4-6", false);
        spans.attemptStarted(1, a);
        HttpHeaders upstream = new DefaultHttpHeaders();
        spans.sending(1, upstream);
        spans.attemptEnded(1, a, "ok");
        spans.ended(end("ok", 200, new Usage(), a, 1));

        assertThat(exported.getFinishedSpanItems()).isEmpty();
        assertThat(spans.traceId()).isNull();
        assertThat(spans.spanId()).isNull();
        assertThat(upstream.get("traceparent")).as("the sampled flag clear").matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[02]");
    }
}

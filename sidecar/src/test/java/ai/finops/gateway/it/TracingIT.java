package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.finops.gateway.observability.tracing.Tracing;
import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.OtlpReceiver;
import ai.finops.testkit.OtlpReceiver.ReceivedSpan;
import ai.finops.testkit.RecordedRequest;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import io.opentelemetry.proto.trace.v1.Span.SpanKind;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Traces as a collector receives them over OTLP/HTTP: the client's trace continued, one CLIENT span per
 * attempt, the simulator's usage in the attributes, the provider told the attempt's context, and an
 * error span for each upstream fault.
 */
@ExtendWith(NettyLeakDetector.class)
class TracingIT {
    static final String CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c";
    static final String CLIENT_SPAN = "b7ad6b7169203331";

    static OtlpReceiver collector;
    static Simulator primary;
    static Simulator secondary;
    static int closedPort;
    GatewayHarness harness;

    @BeforeAll
    static void start() throws Exception {
        collector = OtlpReceiver.start();
        primary = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        secondary = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
    }

    @AfterAll
    static void stopAll() {
        collector.close();
        primary.close();
        secondary.close();
    }

    @BeforeEach
    void gateway() throws Exception {
        primary.clearRequests();
        secondary.clearRequests();
        collector.clear();
        harness = setup(new GatewayHarness(), Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint(), "OTEL_BSP_SCHEDULE_DELAY", "20",
                "OTEL_SERVICE_NAME", "gateway-under-test", "OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=it"));
    }

    @AfterEach
    void stop() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    static GatewayHarness setup(GatewayHarness harness, Map<String, String> otel) throws Exception {
        harness.tracing = Tracing.fromEnvironment(otel, "finops-gateway");
        return harness
                .write("providers.yaml", GatewayHarness.anthropicDeployment("primary", primary.baseUrl(), null)
                        + "---\n" + GatewayHarness.anthropicDeployment("secondary", secondary.baseUrl(), null)
                        + "---\n" + GatewayHarness.anthropicDeployment("dead", "http://127.0.0.1:" + closedPort, null))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .write("rules.yaml", GatewayHarness.fallbackRule("with-fallback", "fallback-model", "primary/claude-sonnet-4-6",
                        "secondary/claude-sonnet-4-6") + "---\n" + GatewayHarness.rule("solo", "solo-model", "primary/claude-sonnet-4-6")
                        + "---\n" + GatewayHarness.rule("dead-only", "dead-only-model", "dead/claude-sonnet-4-6"))
                .start();
    }

    /** The spans of the one trace that has a server span of request {@code requestId}, once {@code n} arrived. */
    private static List<ReceivedSpan> trace(String requestId, int n) throws InterruptedException {
        ReceivedSpan server = collector.await(1, s -> requestId.equals(s.attribute("finops.request.id")), Duration.ofSeconds(10)).get(0);
        return collector.await(n, s -> s.traceId().equals(server.traceId()), Duration.ofSeconds(10)).stream()
                .sorted(Comparator.comparingLong(ReceivedSpan::startNanos)).toList();
    }

    private static String traceIdOf(RecordedRequest upstream) {
        return upstream.headers().get("traceparent").split("-")[1];
    }

    private static String spanIdOf(RecordedRequest upstream) {
        return upstream.headers().get("traceparent").split("-")[2];
    }

    @Test
    void theAnthropicSdksRequestContinuesItsTraceAndTheAttemptCarriesTheSimulatorsUsage() throws Exception {
        // headers the SDK sends as given: the client's trace context and Claude Code's session
        var traced = harness.anthropicClient().withOptions(o -> o.putHeader("traceparent", "00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01")
                .putHeader("x-claude-code-session-id", "session-42"));
        primary.enqueue(Reply.text("Hello.").withUsage(11, 22, 33, 44));
        var raw = traced.messages().withRawResponse().create(MessageCreateParams.builder().model("solo-model").maxTokens(64).addUserMessage("hi").build());
        Message message = raw.parse();
        String requestId = raw.headers().values("x-finops-request-id").get(0);

        List<ReceivedSpan> spans = trace(requestId, 2);
        assertThat(spans).hasSize(2);
        ReceivedSpan server = spans.get(0);
        ReceivedSpan attempt = spans.get(1);
        assertThat(server.name()).isEqualTo("POST /v1/messages");
        assertThat(server.kind()).isEqualTo(SpanKind.SPAN_KIND_SERVER);
        assertThat(server.traceId()).isEqualTo(CLIENT_TRACE);
        assertThat(server.parentSpanId()).isEqualTo(CLIENT_SPAN);
        assertThat(server.resource()).containsEntry("service.name", "gateway-under-test").containsEntry("deployment.environment.name", "it");
        assertThat(server.attributes()).containsEntry("finops.virtual_key", "dev").containsEntry("finops.team", "platform")
                .containsEntry("finops.rule", "solo").containsEntry("finops.deployment", "primary").containsEntry("finops.outcome", "ok")
                .containsEntry("http.response.status_code", 200L).containsEntry("gen_ai.conversation.id", "session-42")
                .containsKey("finops.cost.usd");
        assertThat(server.attributes().toString()).as("never a credential").doesNotContain(KEY, PROVIDER_KEY);

        assertThat(attempt.name()).isEqualTo("chat claude-sonnet-4-6");
        assertThat(attempt.kind()).isEqualTo(SpanKind.SPAN_KIND_CLIENT);
        assertThat(attempt.parentSpanId()).isEqualTo(server.spanId());
        assertThat(attempt.attributes()).containsEntry("gen_ai.operation.name", "chat").containsEntry("gen_ai.provider.name", "anthropic")
                .containsEntry("gen_ai.request.model", "claude-sonnet-4-6").containsEntry("gen_ai.response.model", message.model().asString())
                .containsEntry("gen_ai.response.id", message.id()).containsEntry("gen_ai.response.finish_reasons", List.of("end_turn"))
                .containsEntry("gen_ai.usage.input_tokens", 11L + 33 + 44).containsEntry("gen_ai.usage.output_tokens", 22L)
                .containsEntry("gen_ai.usage.cache_write.input_tokens", 33L).containsEntry("gen_ai.usage.cache_read.input_tokens", 44L)
                .containsEntry("gen_ai.conversation.id", "session-42").containsKey("gen_ai.response.time_to_first_chunk");
        assertThat(attempt.error()).isFalse();

        RecordedRequest upstream = primary.requests().get(0);
        assertThat(traceIdOf(upstream)).isEqualTo(CLIENT_TRACE);
        assertThat(spanIdOf(upstream)).as("the provider's parent is the attempt").isEqualTo(attempt.spanId());
    }

    @Test
    void aFallbackIsASecondClientSpanAndEachProviderGetsItsOwnAttemptsContext() throws Exception {
        primary.enqueue(Reply.status(529, "overloaded_error", "Overloaded"));
        secondary.enqueue(Reply.text("from the fallback").withUsage(5, 6, 0, 0));
        HttpResponse<String> r = harness.message("fallback-model", true);
        assertThat(r.statusCode()).isEqualTo(200);

        List<ReceivedSpan> spans = trace(r.headers().firstValue("x-finops-request-id").orElseThrow(), 3);
        assertThat(spans).extracting(ReceivedSpan::name).containsExactly("POST /v1/messages", "chat claude-sonnet-4-6", "chat claude-sonnet-4-6");
        ReceivedSpan server = spans.get(0);
        ReceivedSpan failed = spans.get(1);
        ReceivedSpan answered = spans.get(2);
        assertThat(failed.parentSpanId()).isEqualTo(server.spanId());
        assertThat(answered.parentSpanId()).as("siblings").isEqualTo(server.spanId());
        assertThat(failed.error()).isTrue();
        assertThat(failed.attributes()).containsEntry("error.type", "status_529").containsEntry("finops.deployment", "primary");
        assertThat(answered.error()).isFalse();
        assertThat(answered.attributes()).containsEntry("finops.deployment", "secondary").containsEntry("finops.fallback", true)
                .containsEntry("gen_ai.usage.input_tokens", 5L).containsEntry("gen_ai.usage.output_tokens", 6L);
        assertThat(server.attributes()).containsEntry("finops.attempts", 2L).containsEntry("finops.deployment", "secondary");
        assertThat(spanIdOf(primary.requests().get(0))).isEqualTo(failed.spanId());
        assertThat(spanIdOf(secondary.requests().get(0))).isEqualTo(answered.spanId());
        assertThat(traceIdOf(secondary.requests().get(0))).isEqualTo(server.traceId());
    }

    @Test
    void aStreamResetMidwayIsAnErrorOnTheAttemptAndTheRequest() throws Exception {
        primary.enqueue(Reply.resetAfterFirstByte());
        HttpResponse<String> r = harness.message("solo-model", true);
        assertThat(r.statusCode()).isEqualTo(200);

        List<ReceivedSpan> spans = trace(r.headers().firstValue("x-finops-request-id").orElseThrow(), 2);
        assertThat(spans.get(1).attributes()).containsEntry("error.type", "reset");
        assertThat(spans.get(1).error()).isTrue();
        assertThat(spans.get(0).error()).isTrue();
        assertThat(spans.get(0).attributes()).containsEntry("error.type", "upstream_reset");
    }

    @Test
    void aTimeoutAndARefusedConnectionAreErrorSpans() throws Exception {
        primary.enqueue(Reply.stallBeforeFirstByte());
        HttpResponse<String> timedOut = harness.message("solo-model", false);
        assertThat(timedOut.statusCode()).isEqualTo(504);
        List<ReceivedSpan> spans = trace(timedOut.headers().firstValue("x-finops-request-id").orElseThrow(), 2);
        assertThat(spans.get(1).attributes()).containsEntry("error.type", "timeout");
        assertThat(spans.get(0).attributes()).containsEntry("error.type", "504").containsEntry("http.response.status_code", 504L);

        HttpResponse<String> refused = harness.message("dead-only-model", false);
        assertThat(refused.statusCode()).isEqualTo(502);
        spans = trace(refused.headers().firstValue("x-finops-request-id").orElseThrow(), 2);
        assertThat(spans.get(1).attributes()).containsEntry("error.type", "refused").containsEntry("finops.deployment", "dead");
        assertThat(spans.get(1).error()).isTrue();
        assertThat(spans.get(0).error()).isTrue();
    }

    @Test
    void requestsSucceedQuicklyWhileTheCollectorIsDown() throws Exception {
        harness.close();
        harness = setup(new GatewayHarness(), Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + closedPort,
                "OTEL_BSP_SCHEDULE_DELAY", "1"));
        long start = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            primary.enqueue(Reply.text("still here"));
            HttpResponse<String> r = harness.message("solo-model", false);
            assertThat(r.statusCode()).isEqualTo(200);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("no request waits for the collector").isLessThan(Duration.ofSeconds(5));
        assertThat(primary.requests()).allSatisfy(upstream -> assertThat(upstream.headers().get("traceparent")).isNotNull());
    }

    @Test
    void withoutAnEndpointNothingIsExportedEvenWhereTheSdkWouldLookByDefault() throws Exception {
        OtlpReceiver defaultPort;
        try {
            defaultPort = OtlpReceiver.start(4318);
        } catch (java.io.IOException e) {
            assumeTrue(false, "port 4318 (the SDK's default) is in use here");
            return;
        }
        try (defaultPort) {
            harness.close();
            harness = setup(new GatewayHarness(), Map.of("OTEL_SERVICE_NAME", "untraced", "OTEL_TRACES_SAMPLER", "always_on",
                    "OTEL_BSP_SCHEDULE_DELAY", "1"));
            primary.enqueue(Reply.text("untraced"));
            assertThat(harness.message("solo-model", false).statusCode()).isEqualTo(200);
            assertThat(primary.requests().get(0).headers().get("traceparent")).isNull();
            harness.close();           // a tracer would flush now
            harness = null;
            assertThat(defaultPort.requests()).isZero();
        }
    }
}

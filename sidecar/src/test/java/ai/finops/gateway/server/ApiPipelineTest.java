package ai.finops.gateway.server;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.gateway.auth.Authenticator;
import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.config.GatewaySettings;
import ai.finops.gateway.config.Snapshot;
import ai.finops.gateway.config.SnapshotHolder;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.routing.Cooldowns;
import ai.finops.gateway.routing.RoutingTable;
import ai.finops.gateway.upstream.UpstreamConnector;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The client-facing pipeline on an EmbeddedChannel: answers it gives without any upstream, and no buffer left behind. */
class ApiPipelineTest {
    static final String TOKEN = "vk-unit-0123456789abcdef";
    static final String DISABLED_TOKEN = "vk-off-0123456789abcdef";

    private static EmbeddedChannel channel(long maxBody) {
        return channel(maxBody, null);
    }

    private static EmbeddedChannel channel(long maxBody, List<String> origins) {
        return channel(maxBody, origins, new GatewayMetrics());
    }

    static EmbeddedChannel channel(long maxBody, List<String> origins, GatewayMetrics metrics) {
        GatewaySettings defaults = GatewaySettings.defaults();
        GatewaySettings settings = new GatewaySettings(defaults.bindAddress(), 0, 0, origins == null ? List.of() : origins,
                defaults.allowedHeaders(), maxBody,
                defaults.connectTimeout(), defaults.firstByteTimeout(), defaults.idleTimeout(), Duration.ofSeconds(1));
        KeyEntry key = new KeyEntry("unit", null, null, Authenticator.sha256(TOKEN), false, null, List.of(), List.of());
        KeyEntry disabled = new KeyEntry("off", null, null, Authenticator.sha256(DISABLED_TOKEN), true, null, List.of(), List.of());
        SnapshotHolder holder = new SnapshotHolder();
        holder.publish(new Snapshot(1, Instant.EPOCH, settings, Map.of(HexFormat.of().formatHex(key.tokenSha256()), key,
                HexFormat.of().formatHex(disabled.tokenSha256()), disabled), new RoutingTable(List.of(), Map.of(), Map.of())));
        GatewayContext context = new GatewayContext(holder, new UpstreamConnector(Bootstrap::new), new Cooldowns(), metrics,
                Clock.systemUTC());
        return new EmbeddedChannel(new ApiChannelInitializer(context, GatewayServer.cors(settings),
                new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), null));
    }

    static String exchange(EmbeddedChannel ch, String rawRequest) {
        ch.writeInbound(Unpooled.copiedBuffer(rawRequest, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            out.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        return out.toString();
    }

    private static String post(String path, String body, String... headers) {
        StringBuilder sb = new StringBuilder("POST " + path + " HTTP/1.1\r\nhost: x\r\ncontent-length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        return sb.append("\r\n").append(body).toString();
    }

    @Test
    void missingAndWrongKeysAre401InAnthropicJson() {
        EmbeddedChannel ch = channel(1 << 20);
        String missing = exchange(ch, post("/anthropic/v1/messages", "{\"model\":\"m\"}"));
        assertThat(missing).startsWith("HTTP/1.1 401").contains("{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\"");
        String wrong = exchange(ch, post("/v1/messages", "{\"model\":\"m\"}", "x-api-key: vk-wrong-0123456789"));
        assertThat(wrong).startsWith("HTTP/1.1 401").doesNotContain("vk-wrong");
        assertThat(ch.isActive()).as("keep-alive survives an error").isTrue();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void malformedJsonIs400AndUnknownModelIs404() {
        EmbeddedChannel ch = channel(1 << 20);
        assertThat(exchange(ch, post("/v1/messages", "{\"model\":", "x-api-key: " + TOKEN)))
                .startsWith("HTTP/1.1 400").contains("invalid_request_error");
        assertThat(exchange(ch, post("/v1/messages", "{\"model\":\"claude-sonnet-4-6\"}", "authorization: Bearer " + TOKEN)))
                .startsWith("HTTP/1.1 404").contains("not_found_error").contains("claude-sonnet-4-6");
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void oversizeBodiesAre413AndTheConnectionCloses() {
        EmbeddedChannel ch = channel(1024);
        String response = exchange(ch, post("/v1/messages", "{\"model\":\"" + "x".repeat(2000) + "\"}", "x-api-key: " + TOKEN));
        assertThat(response).startsWith("HTTP/1.1 413").contains("request_too_large").contains("1024");
        assertThat(ch.isActive()).isFalse();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void corsPreflightAllowsTheConfiguredOriginsAndDefaultHeaders() {
        EmbeddedChannel ch = channel(1024, List.of("https://app.example.com"));
        String preflight = exchange(ch, "OPTIONS /v1/messages HTTP/1.1\r\nhost: x\r\norigin: https://app.example.com\r\n"
                + "access-control-request-method: POST\r\naccess-control-request-headers: x-api-key, content-type\r\n\r\n");
        assertThat(preflight).startsWith("HTTP/1.1 200").containsIgnoringCase("access-control-allow-origin: https://app.example.com")
                .containsPattern("(?i)access-control-allow-headers: .*X-Stainless-Timeout")
                .containsPattern("(?i)access-control-allow-headers: .*X-Api-Key")
                .containsPattern("(?i)access-control-allow-headers: .*Authorization")
                .containsPattern("(?i)access-control-allow-headers: .*Content-Type")
                .containsPattern("(?i)access-control-allow-headers: .*X-Requested-With");
        String other = exchange(ch, "OPTIONS /v1/messages HTTP/1.1\r\nhost: x\r\norigin: https://evil.example.com\r\n"
                + "access-control-request-method: POST\r\n\r\n");
        assertThat(other).doesNotContainIgnoringCase("access-control-allow-origin");
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void headOfTheRootAnswers200() {
        EmbeddedChannel ch = channel(1024);
        assertThat(exchange(ch, "HEAD / HTTP/1.1\r\nhost: x\r\n\r\n")).startsWith("HTTP/1.1 200");
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }
    // ---- every request leaves a trace: an access line, a count, and the request id on the response ----

    /** The access lines written while it runs, each as its key-value pairs. */
    private static final class AccessLines implements AutoCloseable {
        private final ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("ai.finops.gateway.access");
        private final ch.qos.logback.classic.Level level = logger.getLevel();
        private final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                new ch.qos.logback.core.read.ListAppender<>();

        AccessLines() {
            appender.start();
            logger.addAppender(appender);
            logger.setLevel(ch.qos.logback.classic.Level.INFO);
        }

        List<Map<String, String>> lines() {
            return appender.list.stream().map(e -> {
                Map<String, String> kv = new java.util.LinkedHashMap<>();
                e.getKeyValuePairs().forEach(p -> kv.put(p.key, String.valueOf(p.value)));
                return kv;
            }).toList();
        }

        /** The one line of the request with this id. */
        Map<String, String> of(String requestId) {
            List<Map<String, String>> matching = lines().stream().filter(l -> requestId.equals(l.get("request_id"))).toList();
            assertThat(matching).as("access lines of " + requestId).hasSize(1);
            return matching.get(0);
        }

        @Override
        public void close() {
            logger.detachAppender(appender);
            logger.setLevel(level);
        }
    }

    private static String requestId(String response) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?im)^x-finops-request-id: (\\S+)").matcher(response);
        assertThat(m.find()).as("x-finops-request-id on " + response).isTrue();
        return m.group(1);
    }

    /** The response's request id, after checking that its one access line says {@code outcome} and {@code status}. */
    private static Map<String, String> traced(AccessLines log, String response, String outcome, int status) {
        assertThat(response).startsWith("HTTP/1.1 " + status);
        Map<String, String> line = log.of(requestId(response));
        assertThat(line).containsEntry("outcome", outcome).containsEntry("status", Integer.toString(status))
                .containsKey("path").containsKey("duration_ms").doesNotContainValue("null");
        assertThat(line.toString()).doesNotContain(TOKEN).doesNotContain(DISABLED_TOKEN).doesNotContain("vk-wrong");
        return line;
    }

    private static double count(GatewayMetrics metrics, String api, String virtualKey, String outcome, int status) {
        var counter = metrics.registry().find("finops.gateway.requests").tags("api", api, "virtual_key", virtualKey, "outcome", outcome,
                "status", Integer.toString(status), "provider", "none", "deployment", "none", "model", "none").counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void everyRefusalWritesAnAccessLineAndCountsWithItsOutcome() {
        GatewayMetrics metrics = new GatewayMetrics();
        EmbeddedChannel ch = channel(1 << 20, null, metrics);
        try (AccessLines log = new AccessLines()) {
            traced(log, exchange(ch, post("/v1/messages", "{\"model\":\"m\"}")), "rejected_auth", 401);
            Map<String, String> wrong = traced(log, exchange(ch, post("/v1/messages", "{\"model\":\"m\"}", "x-api-key: vk-wrong-0123456789")),
                    "rejected_auth", 401);
            assertThat(wrong).doesNotContainKeys("virtual_key", "upstream_request_id", "deployment", "model", "ttfb_ms", "cost_usd");
            traced(log, exchange(ch, post("/v1/messages", "{\"model\":\"m\"}", "x-api-key: " + DISABLED_TOKEN)), "rejected_forbidden", 403);
            Map<String, String> bad = traced(log, exchange(ch, post("/v1/messages", "{\"model\":", "x-api-key: " + TOKEN)),
                    "rejected_bad_request", 400);
            assertThat(bad).containsEntry("virtual_key", "unit").containsEntry("path", "/v1/messages");
            Map<String, String> unknown = traced(log, exchange(ch, post("/v1/messages", "{\"model\":\"no-such-model-x\"}", "x-api-key: " + TOKEN)),
                    "rejected_not_found", 404);
            assertThat(unknown).containsEntry("requested_model", "no-such-model-x").containsEntry("virtual_key", "unit");
            traced(log, exchange(ch, post("/v1/complete", "{}", "x-api-key: " + TOKEN)), "rejected_not_found", 404);
            traced(log, exchange(ch, "GET /v1/messages HTTP/1.1\r\nhost: x\r\n\r\n"), "rejected_method", 405);
            assertThat(ch.isActive()).isTrue();
        }
        assertThat(count(metrics, "anthropic", "none", "rejected_auth", 401)).isEqualTo(2);
        assertThat(count(metrics, "anthropic", "none", "rejected_forbidden", 403)).isEqualTo(1);
        assertThat(count(metrics, "anthropic", "unit", "rejected_bad_request", 400)).isEqualTo(1);
        assertThat(count(metrics, "anthropic", "unit", "rejected_not_found", 404)).isEqualTo(1);
        assertThat(count(metrics, "anthropic", "none", "rejected_not_found", 404)).as("before authentication").isEqualTo(1);
        assertThat(count(metrics, "anthropic", "none", "rejected_method", 405)).isEqualTo(1);
        assertThat(metrics.scrape()).doesNotContain("no-such-model-x").doesNotContain("vk-wrong").doesNotContain(TOKEN);
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void anOversizeBodyIsTracedWithTheRequestId() {
        GatewayMetrics metrics = new GatewayMetrics();
        EmbeddedChannel ch = channel(1024, null, metrics);
        try (AccessLines log = new AccessLines()) {
            String response = exchange(ch, post("/v1/messages", "{\"model\":\"" + "x".repeat(2000) + "\"}", "x-api-key: " + TOKEN));
            Map<String, String> line = traced(log, response, "rejected_too_large", 413);
            assertThat(line).containsEntry("path", "/v1/messages");
            assertThat(response).contains("\"request_id\":\"" + requestId(response) + "\"");
        }
        assertThat(count(metrics, "anthropic", "none", "rejected_too_large", 413)).isEqualTo(1);
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void anOversizeBodyAnnouncedWithExpectContinueIsTracedToo() {
        GatewayMetrics metrics = new GatewayMetrics();
        EmbeddedChannel ch = channel(1024, null, metrics);
        try (AccessLines log = new AccessLines()) {
            String response = exchange(ch, "POST /openai/v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 5000\r\n"
                    + "expect: 100-continue\r\nauthorization: Bearer " + TOKEN + "\r\n\r\n");
            traced(log, response, "rejected_too_large", 413);
            assertThat(response).contains("\"code\":\"request_too_large\"").contains("1024");
        }
        assertThat(count(metrics, "openai", "none", "rejected_too_large", 413)).isEqualTo(1);
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void answersWithoutAProviderCarryTheRequestIdAndAreTraced() {
        GatewayMetrics metrics = new GatewayMetrics();
        EmbeddedChannel ch = channel(1024, null, metrics);
        try (AccessLines log = new AccessLines()) {
            traced(log, exchange(ch, "HEAD / HTTP/1.1\r\nhost: x\r\n\r\n"), "local", 200);
            for (String path : List.of("/v1/models", "/anthropic/v1/models", "/openai/v1/models")) {
                Map<String, String> line = traced(log, exchange(ch, "GET " + path + " HTTP/1.1\r\nhost: x\r\nx-api-key: " + TOKEN + "\r\n\r\n"),
                        "local", 200);
                assertThat(line).containsEntry("path", path).containsEntry("virtual_key", "unit");
            }
        }
        assertThat(count(metrics, "anthropic", "none", "local", 200)).isEqualTo(1);
        assertThat(count(metrics, "anthropic", "unit", "local", 200)).isEqualTo(2);
        assertThat(count(metrics, "openai", "unit", "local", 200)).isEqualTo(1);
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void corsPreflightsAndRefusalsCarryTheRequestIdAndAreTraced() {
        GatewayMetrics metrics = new GatewayMetrics();
        EmbeddedChannel ch = channel(1024, List.of("https://app.example.com"), metrics);
        try (AccessLines log = new AccessLines()) {
            traced(log, exchange(ch, "OPTIONS /v1/messages HTTP/1.1\r\nhost: x\r\norigin: https://app.example.com\r\n"
                    + "access-control-request-method: POST\r\n\r\n"), "local", 200);
            traced(log, exchange(ch, "OPTIONS /v1/messages HTTP/1.1\r\nhost: x\r\norigin: https://evil.example.com\r\n"
                    + "access-control-request-method: POST\r\n\r\n"), "rejected_cors", 200);
            traced(log, exchange(ch, "HEAD / HTTP/1.1\r\nhost: x\r\norigin: https://app.example.com\r\n\r\n"), "local", 200);
        }
        assertThat(count(metrics, "anthropic", "none", "rejected_cors", 200)).isEqualTo(1);
        assertThat(count(metrics, "anthropic", "none", "local", 200)).isEqualTo(2);
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void openAiErrorsAreOpenAiErrorJsonWithOpenAiCodes() {
        EmbeddedChannel ch = channel(1 << 20);
        try (AccessLines log = new AccessLines()) {
            String unknown = exchange(ch, post("/openai/v1/chat/completions", "{\"model\":\"gpt-x\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                    "authorization: Bearer " + TOKEN));
            traced(log, unknown, "rejected_not_found", 404);
            assertThat(unknown).contains("{\"error\":{\"message\":\"model 'gpt-x' not found: ")
                    .contains("\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"model_not_found\"}");
            String malformed = exchange(ch, post("/openai/v1/chat/completions", "{\"model\":\"gpt-x\",\n\"messages\":[}",
                    "authorization: Bearer " + TOKEN));
            traced(log, malformed, "rejected_bad_request", 400);
            assertThat(malformed).contains("\"message\":\"request body is not valid JSON: unexpected close marker '}' at line 2, column 13 (expected ']')\"")
                    .contains("\"code\":\"invalid_request_error\"");
            String endpoint = exchange(ch, post("/openai/v1/completions", "{}", "authorization: Bearer " + TOKEN));
            traced(log, endpoint, "rejected_not_found", 404);
            assertThat(endpoint).contains("/openai/v1/chat/completions");
        }
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }
}

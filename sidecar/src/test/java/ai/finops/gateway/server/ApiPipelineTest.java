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

    private static EmbeddedChannel channel(long maxBody) {
        return channel(maxBody, null);
    }

    private static EmbeddedChannel channel(long maxBody, List<String> origins) {
        GatewaySettings defaults = GatewaySettings.defaults();
        GatewaySettings settings = new GatewaySettings(defaults.bindAddress(), 0, 0, origins == null ? List.of() : origins,
                defaults.allowedHeaders(), maxBody,
                defaults.connectTimeout(), defaults.firstByteTimeout(), defaults.idleTimeout(), Duration.ofSeconds(1));
        KeyEntry key = new KeyEntry("unit", null, null, Authenticator.sha256(TOKEN), false, null, List.of(), List.of());
        SnapshotHolder holder = new SnapshotHolder();
        holder.publish(new Snapshot(1, Instant.EPOCH, settings, Map.of(HexFormat.of().formatHex(key.tokenSha256()), key),
                new RoutingTable(List.of(), Map.of(), Map.of())));
        GatewayContext context = new GatewayContext(holder, new UpstreamConnector(Bootstrap::new), new Cooldowns(), new GatewayMetrics(),
                Clock.systemUTC());
        return new EmbeddedChannel(new ApiChannelInitializer(context, GatewayServer.cors(settings),
                new DefaultChannelGroup(GlobalEventExecutor.INSTANCE)));
    }

    private static String exchange(EmbeddedChannel ch, String rawRequest) {
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
}

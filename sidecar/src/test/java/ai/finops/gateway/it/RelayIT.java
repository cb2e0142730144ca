package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.gateway.Gateway;
import ai.finops.testkit.ClaudeCodeFixtures;
import ai.finops.testkit.ClaudeCodeFixtures.CapturedRequest;
import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.RecordedRequest;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The via-gateway sidecar ({@code --relay-to}): clients talk to it as to a gateway; the shared gateway
 * behind it authenticates, routes and accounts, and sees every request as the client sent it.
 */
@ExtendWith(NettyLeakDetector.class)
class RelayIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String POD_KEY = KEY;   // the pod's VirtualKey is the shared gateway's "dev" key
    static Simulator simulator;
    static GatewayHarness shared;
    static Gateway sidecar;

    @BeforeAll
    static void start() throws Exception {
        simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        shared = new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("anthropic-sim", simulator.baseUrl(), null))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .write("rules.yaml", GatewayHarness.SONNET_ALIAS_RULE + """
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: RoutingRule
                        metadata: {name: openai-clients}
                        spec:
                          when: 'api == "openai" && model == "gpt-4o"'
                          targets: [{model: anthropic-sim/claude-sonnet-4-6}]
                        """)
                .start();
        sidecar = Gateway.relay(URI.create(shared.baseUrl()), POD_KEY, "127.0.0.1", null, 0, 0);
    }

    @AfterAll
    static void stop() throws Exception {
        sidecar.close();
        shared.close();
        simulator.close();
    }

    @BeforeEach
    void clear() {
        simulator.clearRequests();
    }

    static String sidecarUrl() {
        return "http://127.0.0.1:" + sidecar.apiPort();
    }

    static AnthropicClient anthropic(String token) {
        return AnthropicOkHttpClient.builder().baseUrl(sidecarUrl() + "/anthropic").authToken(token).maxRetries(0).build();
    }

    @Test
    void claudeCodesStreamedToolCallThroughTheAliasRule() {
        String input = "{\"command\":\"ls -la /tmp && echo \\\"done\\\"\",\"description\":\"List files\"}";
        simulator.enqueue(Reply.toolUse("Bash", input, 7));
        AnthropicClient claudeCode = anthropic(KEY).withOptions(o -> o.putHeader("user-agent", "claude-cli/2.1.328 (external, sdk-cli)"));
        StreamedMessage streamed = StreamedMessage.read(claudeCode.messages().createStreaming(
                MessageCreateParams.builder().model("sonnet-model").maxTokens(1024).addUserMessage("list /tmp").build()));
        Message message = streamed.message();
        assertThat(streamed.inputJsonFragments()).isEqualTo(7);
        assertThat(message.stopReason()).contains(StopReason.TOOL_USE);
        assertThat(message.content().get(0).asToolUse()._input().toString()).contains("ls -la /tmp");
        // the shared gateway's rule matched the user agent the client sent to the sidecar
        assertThat(new String(simulator.requests().get(0).body(), StandardCharsets.UTF_8)).contains("\"model\":\"claude-sonnet-4-6\"");
    }

    @Test
    void aClaudeCodeRequestReachesTheProviderExactlyAsDirect() throws Exception {
        CapturedRequest captured = ClaudeCodeFixtures.load("turn1-request.json");
        String body = new String(captured.body(), StandardCharsets.UTF_8);
        Map<String, String> auth = Map.of("authorization", "Bearer " + KEY);
        HttpResponse<String> viaSidecar = shared.replay(sidecarUrl(), captured, body, auth);
        HttpResponse<String> direct = shared.replay(captured, body, auth);

        assertThat(viaSidecar.statusCode()).isEqualTo(200);
        assertThat(viaSidecar.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
        assertThat(viaSidecar.body()).contains("event: message_stop").doesNotContain("event: error");
        assertThat(viaSidecar.headers().firstValue("x-finops-request-id")).isPresent();
        RecordedRequest relayed = simulator.requests().get(0);
        RecordedRequest straight = simulator.requests().get(1);
        assertThat(relayed.uri()).isEqualTo(straight.uri()).isEqualTo("/v1/messages?beta=true");
        assertThat(relayed.body()).isEqualTo(straight.body()).hasSizeGreaterThan(80_000);
        for (String header : new String[] {"anthropic-beta", "anthropic-version", "user-agent", "x-claude-code-session-id", "x-api-key"}) {
            assertThat(relayed.headers().get(header)).as(header).isEqualTo(straight.headers().get(header)).isNotNull();
        }
    }

    @Test
    void aRequestWithoutACredentialGetsThePodsKey() throws Exception {
        simulator.enqueue(Reply.text("Hello from the shared gateway."));
        HttpResponse<String> response = post("/anthropic/v1/messages", messages("claude-haiku-4-6"));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()).path("content").get(0).path("text").asText()).isEqualTo("Hello from the shared gateway.");
        assertThat(shared.metrics()).contains("virtual_key=\"dev\"");
    }

    @Test
    void aKeyTheClientChoseIsKeptNotReplaced() {
        assertThatThrownBy(() -> anthropic("vk-someone-else-0123456789").messages().create(
                MessageCreateParams.builder().model("claude-haiku-4-6").maxTokens(16).addUserMessage("hi").build()))
                .isInstanceOf(UnauthorizedException.class);
        assertThat(simulator.requests()).isEmpty();
    }

    @Test
    void openAiClientsStreamToolCalls() throws Exception {
        String input = "{\"command\":\"git status\"}";
        simulator.enqueue(Reply.toolUse("Bash", input, 4));
        OpenAiClientCheck.streamedToolCall(sidecarUrl(), "gpt-4o", input);
        assertThat(simulator.requests()).hasSize(1);
    }

    @Test
    void anUnreachableSharedGatewayIsAnErrorInTheClientsDialect() throws Exception {
        int dead;
        try (ServerSocket s = new ServerSocket(0)) {
            dead = s.getLocalPort();
        }
        try (Gateway orphan = Gateway.relay(URI.create("http://127.0.0.1:" + dead), POD_KEY, "127.0.0.1", null, 0, 0)) {
            String base = "http://127.0.0.1:" + orphan.apiPort();
            HttpResponse<String> anthropic = post(base + "/anthropic/v1/messages", messages("claude-haiku-4-6"), "authorization", "Bearer " + KEY);
            assertThat(anthropic.statusCode()).isEqualTo(502);
            JsonNode error = JSON.readTree(anthropic.body());
            assertThat(error.path("type").asText()).isEqualTo("error");
            assertThat(error.path("error").path("message").asText()).contains("cannot reach the shared gateway at http://127.0.0.1:" + dead);

            HttpResponse<String> openai = post(base + "/openai/v1/chat/completions",
                    "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "authorization", "Bearer " + KEY);
            assertThat(openai.statusCode()).isEqualTo(502);
            assertThat(JSON.readTree(openai.body()).path("error").path("message").asText()).contains("cannot reach the shared gateway");
            assertThat(openai.body()).doesNotContain(KEY);
        }
    }

    @Test
    void aSharedGatewayThatDiesMidStreamEndsTheStreamWithAnErrorEvent() throws Exception {
        try (ServerSocket dying = new ServerSocket(0);
                Gateway relay = Gateway.relay(URI.create("http://127.0.0.1:" + dying.getLocalPort()), POD_KEY, "127.0.0.1", null, 0, 0)) {
            Thread server = new Thread(() -> {
                try (Socket s = dying.accept()) {
                    readRequest(s.getInputStream());
                    OutputStream out = s.getOutputStream();
                    String event = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
                            + "\"role\":\"assistant\",\"content\":[],\"model\":\"claude-haiku-4-6\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n";
                    out.write(("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                            + Integer.toHexString(event.length()) + "\r\n" + event + "\r\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } catch (Exception ignored) {
                    // the test fails on what the client saw
                }
            });
            server.start();
            AnthropicClient client = AnthropicOkHttpClient.builder().baseUrl("http://127.0.0.1:" + relay.apiPort() + "/anthropic")
                    .authToken(KEY).maxRetries(0).build();
            assertThatThrownBy(() -> {
                try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(
                        MessageCreateParams.builder().model("claude-haiku-4-6").maxTokens(16).addUserMessage("hi").build())) {
                    stream.stream().forEach(e -> { });
                }
            }).isInstanceOf(AnthropicServiceException.class).hasMessageContaining("the shared gateway closed the connection mid-response");
            server.join(5000);
        }
    }

    @Test
    void theTargetIsAlwaysTheConfiguredGateway() throws Exception {
        try (Socket s = new Socket("127.0.0.1", sidecar.apiPort())) {
            s.getOutputStream().write(("POST http://elsewhere.example/v1/messages HTTP/1.1\r\nhost: elsewhere.example\r\n"
                    + "content-length: 2\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII));
            s.setSoTimeout(5000);
            String head = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            assertThat(head).isEqualTo("HTTP/1.1 400");
        }
        assertThat(simulator.requests()).isEmpty();
    }

    @Test
    void theSidecarCountsRequestsButNotTheirCost() throws Exception {
        simulator.enqueue(Reply.text("counted once"));
        assertThat(post("/anthropic/v1/messages", messages("claude-haiku-4-6"), "x-api-key", KEY).statusCode()).isEqualTo(200);
        String metrics = shared.get("http://127.0.0.1:" + sidecar.adminPort() + "/metrics").body();
        assertThat(metrics).contains("finops_gateway_relay_requests_total{outcome=\"ok\",status=\"200\"}")
                .doesNotContain("finops_gateway_cost_usd").doesNotContain(KEY);
    }

    private static String messages(String model) {
        return "{\"model\":\"" + model + "\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    }

    private static HttpResponse<String> post(String pathOrUrl, String body, String... headers) throws Exception {
        String url = pathOrUrl.startsWith("http") ? pathOrUrl : sidecarUrl() + pathOrUrl;
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
                .header("content-type", "application/json").header("anthropic-version", "2023-06-01")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return shared.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Reads one request (head and content-length body) off a raw socket. */
    private static void readRequest(InputStream in) throws Exception {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            head.write(in.read());
        }
        String text = head.toString(StandardCharsets.US_ASCII).toLowerCase(java.util.Locale.ROOT);
        int at = text.indexOf("content-length:");
        int length = at < 0 ? 0 : Integer.parseInt(text.substring(at + 15, text.indexOf("\r\n", at)).trim());
        in.readNBytes(length);
    }
}

package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The via-gateway sidecar ({@code --relay-to}): clients talk to it as to a gateway; the shared gateway
 * behind it authenticates, routes and accounts, and sees every request as the client sent it.
 */
@ExtendWith(NettyLeakDetector.class)
class RelayIT extends SimulatedProviderTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** The pod's own VirtualKey ("pod" at the shared gateway); clients in the tests present "dev"'s. */
    static final String POD_KEY = "vk-pod-fedcba9876543210";
    static Gateway sidecar;

    @BeforeAll
    static void start() throws Exception {
        simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        harness = new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("anthropic-sim", simulator.baseUrl(), null))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .write("pod-key.yaml", """
                        apiVersion: finops.ai/v1alpha1
                        kind: VirtualKey
                        metadata: {name: pod}
                        spec: {secretRef: {name: vk-pod}}
                        ---
                        apiVersion: v1
                        kind: Secret
                        metadata: {name: vk-pod}
                        stringData: {token: "%s"}
                        """.formatted(POD_KEY))
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
        sidecar = Gateway.relay(URI.create(harness.baseUrl()), POD_KEY, "127.0.0.1", null, 0, 0);
    }

    @AfterAll
    static void stop() throws Exception {
        sidecar.close();
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
        HttpResponse<String> viaSidecar = harness.replay(sidecarUrl(), captured, body, auth);
        HttpResponse<String> direct = harness.replay(captured, body, auth);

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
        assertThat(harness.metrics()).doesNotContain("virtual_key=\"pod\"");
        simulator.enqueue(Reply.text("Hello from the shared gateway."), Reply.text("Again."));
        HttpResponse<String> response = post("/anthropic/v1/messages", messages("claude-haiku-4-6"));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()).path("content").get(0).path("text").asText()).isEqualTo("Hello from the shared gateway.");
        // (a request is counted as it ends, just after its last byte went out)
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(harness.metrics()).contains("virtual_key=\"pod\""));
        // an empty credential header is no credential: it does not hide the pod's key
        assertThat(post("/anthropic/v1/messages", messages("claude-haiku-4-6"), "x-api-key", "").statusCode()).isEqualTo(200);
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

    /**
     * A stand-in for a shared gateway that misbehaves: each request it reads is counted and answered
     * with the next of {@code answers} (raw bytes, then the connection closes when the answer ends
     * with {@link #CLOSE}, else stays open).
     */
    static final class FakeGateway implements AutoCloseable {
        static final String CLOSE = "<close>";
        final ServerSocket socket = new ServerSocket(0);
        final java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        final Thread thread;

        FakeGateway(String... answers) throws Exception {
            java.util.Queue<String> queue = new java.util.concurrent.ConcurrentLinkedQueue<>(java.util.List.of(answers));
            thread = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket s = socket.accept();
                        new Thread(() -> serve(s, queue)).start();
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            thread.start();
        }

        private void serve(Socket s, java.util.Queue<String> answers) {
            try (s) {
                while (true) {
                    readRequest(s.getInputStream());
                    requests.incrementAndGet();
                    String answer = answers.poll();
                    if (answer == null) {
                        return;
                    }
                    boolean close = answer.endsWith(CLOSE);
                    s.getOutputStream().write(answer.replace(CLOSE, "").getBytes(StandardCharsets.UTF_8));
                    s.getOutputStream().flush();
                    if (close) {
                        return;
                    }
                }
            } catch (Exception ignored) {
                // the client went away
            }
        }

        Gateway relay() throws Exception {
            return Gateway.relay(URI.create("http://127.0.0.1:" + socket.getLocalPort()), POD_KEY, "127.0.0.1", null, 0, 0);
        }

        @Override
        public void close() throws Exception {
            socket.close();
        }
    }

    static final String MESSAGE_START = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":"
            + "\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-haiku-4-6\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n";

    static String chunk(String data) {
        return Integer.toHexString(data.getBytes(StandardCharsets.UTF_8).length) + "\r\n" + data + "\r\n";
    }

    @Test
    void aSharedGatewayThatDiesMidEventEndsTheStreamWithAWholeErrorEvent() throws Exception {
        String half = "event: content_block_start\ndata: {\"type\":\"content_bl";
        try (FakeGateway fake = new FakeGateway("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                        + chunk(MESSAGE_START) + chunk(half) + FakeGateway.CLOSE);
                Gateway relay = fake.relay()) {
            HttpResponse<String> raw = post("http://127.0.0.1:" + relay.apiPort() + "/anthropic/v1/messages",
                    messages("claude-haiku-4-6").replace("{\"model", "{\"stream\":true,\"model"), "authorization", "Bearer " + KEY);
            assertThat(raw.body()).startsWith(MESSAGE_START).doesNotContain("content_bl");
            String error = raw.body().substring(MESSAGE_START.length());
            assertThat(error).startsWith("event: error\ndata: ").endsWith("\n\n");
            JsonNode json = JSON.readTree(error.substring("event: error\ndata: ".length()).trim());
            assertThat(json.path("error").path("message").asText()).contains("the shared gateway closed the connection mid-response");
        }
        // and the official SDK reports that error, with its message
        try (FakeGateway fake = new FakeGateway("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                        + chunk(MESSAGE_START) + chunk(half) + FakeGateway.CLOSE);
                Gateway relay = fake.relay()) {
            AnthropicClient client = AnthropicOkHttpClient.builder().baseUrl("http://127.0.0.1:" + relay.apiPort() + "/anthropic")
                    .authToken(KEY).maxRetries(0).build();
            assertThatThrownBy(() -> StreamedMessage.read(client.messages().createStreaming(
                    MessageCreateParams.builder().model("claude-haiku-4-6").maxTokens(16).addUserMessage("hi").build())))
                    .isInstanceOf(AnthropicServiceException.class).hasMessageContaining("the shared gateway closed the connection mid-response");
        }
    }

    @Test
    void aBodyCutShortNeverLooksComplete() throws Exception {
        try (FakeGateway fake = new FakeGateway("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"id\":"
                        + FakeGateway.CLOSE);
                Gateway relay = fake.relay()) {
            assertThatThrownBy(() -> post("http://127.0.0.1:" + relay.apiPort() + "/anthropic/v1/messages", messages("claude-haiku-4-6")))
                    .isInstanceOf(java.io.IOException.class);
        }
    }

    @Test
    void aMalformedAnswerIsA502InTheClientsDialect() throws Exception {
        try (FakeGateway fake = new FakeGateway("HTTP/1.1 two hundred\r\n\r\n" + FakeGateway.CLOSE);
                Gateway relay = fake.relay()) {
            HttpResponse<String> response = post("http://127.0.0.1:" + relay.apiPort() + "/anthropic/v1/messages", messages("claude-haiku-4-6"));
            assertThat(response.statusCode()).isEqualTo(502);
            assertThat(JSON.readTree(response.body()).path("error").path("message").asText()).contains("malformed response");
        }
    }

    @Test
    void aRequestTheGatewayMayHaveReceivedIsNeverSentTwice() throws Exception {
        String ok = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        try (FakeGateway fake = new FakeGateway(ok, FakeGateway.CLOSE);   // the second request is read, then the connection drops
                Gateway relay = fake.relay()) {
            String url = "http://127.0.0.1:" + relay.apiPort() + "/anthropic/v1/messages";
            assertThat(post(url, messages("claude-haiku-4-6")).statusCode()).isEqualTo(200);
            HttpResponse<String> second = post(url, messages("claude-haiku-4-6"));
            assertThat(second.statusCode()).isEqualTo(502);
            assertThat(JSON.readTree(second.body()).path("error").path("message").asText()).contains("not sent again");
            Thread.sleep(200);
            assertThat(fake.requests.get()).isEqualTo(2);
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        simulator.enqueue(Reply.text("first answer").delay(Duration.ofMillis(300)), Reply.text("second answer"), Reply.text("third answer"));
        String body = messages("claude-haiku-4-6");
        String one = "POST /anthropic/v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nanthropic-version: 2023-06-01\r\n"
                + "x-api-key: " + KEY + "\r\ncontent-length: " + body.length() + "\r\n\r\n" + body;
        try (Socket s = new Socket("127.0.0.1", sidecar.apiPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write((one + one + one).getBytes(StandardCharsets.UTF_8));
            StringBuilder seen = new StringBuilder();
            byte[] buf = new byte[8192];
            while (!seen.toString().contains("third answer")) {
                int n = s.getInputStream().read(buf);
                assertThat(n).as("connection closed before three answers: " + seen).isPositive();
                seen.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            }
            String all = seen.toString();
            assertThat(all.indexOf("first answer")).isLessThan(all.indexOf("second answer"));
            assertThat(all.indexOf("second answer")).isLessThan(all.indexOf("third answer"));
        }
    }

    @Test
    void headersTheClientNamedHopByHopStayHere() throws Exception {
        simulator.enqueue(Reply.text("ok"));
        String body = messages("claude-haiku-4-6");
        try (Socket s = new Socket("127.0.0.1", sidecar.apiPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /anthropic/v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                    + "anthropic-version: 2023-06-01\r\nx-api-key: " + KEY + "\r\nconnection: keep-alive, x-hop\r\nx-hop: this-link-only\r\n"
                    + "x-end-to-end: kept\r\ncontent-length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            assertThat(new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
        }
        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.headers().get("x-hop")).isNull();
        assertThat(received.headers().get("x-end-to-end")).isEqualTo("kept");
    }

    @Test
    void aPathCannotClimbOutOfTheGatewaysBasePath() throws Exception {
        for (String path : new String[] {"/anthropic/../admin", "/anthropic/%2e%2e/v1/messages"}) {
            try (Socket s = new Socket("127.0.0.1", sidecar.apiPort())) {
                s.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII));
                s.setSoTimeout(5000);
                assertThat(new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII)).as(path).isEqualTo("HTTP/1.1 400");
            }
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
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(harness.get("http://127.0.0.1:" + sidecar.adminPort() + "/metrics").body())
                .contains("finops_gateway_relay_requests_total{outcome=\"ok\",status=\"200\"}")
                .doesNotContain("finops_gateway_cost_usd").doesNotContain(KEY).doesNotContain(POD_KEY));
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
        return harness.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
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

package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ai.finops.testkit.ClaudeCodeFixtures;
import ai.finops.testkit.ClaudeCodeFixtures.CapturedRequest;
import ai.finops.testkit.RecordedRequest;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.anthropic.client.AnthropicClient;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.RateLimitException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.ContentBlockParam;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.ToolResultBlockParam;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Claude on Vertex AI through the gateway. The simulator is Google's token endpoint too: it verifies
 * the service account's signed JWT assertion and issues access tokens, and Vertex requests must carry
 * one it issued that has not expired.
 */
class VertexIT extends SimulatedProviderTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PROJECT = "finops-test-project";
    static final String EMAIL = "gateway@finops-test-project.iam.gserviceaccount.com";

    static Simulator shortLived;
    static AnthropicClient client;

    static KeyPair rsa() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        return g.generateKeyPair();
    }

    /** A service-account key file as Google issues it, with its token endpoint at the simulator. */
    static String serviceAccountJson(KeyPair keys, Simulator tokenServer) {
        String pem = "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(keys.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
        return JSON.createObjectNode().put("type", "service_account").put("project_id", PROJECT).put("private_key_id", "k1")
                .put("private_key", pem).put("client_email", EMAIL).put("client_id", "1234567890")
                .put("token_uri", tokenServer.baseUrl() + "/token").toString();
    }

    static String deployment(String name, Simulator endpoint, String secret, String json) {
        return """
                apiVersion: finops.ai/v1alpha1
                kind: ProviderDeployment
                metadata: {name: %s}
                spec:
                  provider: vertex
                  endpoint: %s
                  vertex: {projectId: %s, region: us-east5}
                  credentials: {secretRef: {name: %s}}
                  timeouts: {connect: 1s, firstByte: 10s, idle: 5s}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: %s}
                stringData:
                  serviceAccountJson: '%s'
                ---
                """.formatted(name, endpoint.baseUrl(), PROJECT, secret, secret, json);
    }

    @BeforeAll
    static void start() throws Exception {
        KeyPair keys = rsa();
        KeyPair shortKeys = rsa();
        simulator = Simulator.start(SimulatorOptions.builder().google(EMAIL, keys.getPublic(), Duration.ofHours(1)).build());
        // tokens that live 5 minutes and 2 seconds: inside the refresh margin 2 seconds after issue
        shortLived = Simulator.start(SimulatorOptions.builder().google(EMAIL, shortKeys.getPublic(), Duration.ofSeconds(302)).build());
        harness = new GatewayHarness()
                .write("providers.yaml", deployment("vertex-east", simulator, "gcp-sa", serviceAccountJson(keys, simulator))
                        + deployment("vertex-short", shortLived, "gcp-sa-short", serviceAccountJson(shortKeys, shortLived))
                        + deployment("vertex-wrong-key", simulator, "gcp-sa-wrong", serviceAccountJson(rsa(), simulator)))
                .write("keys.yaml", """
                        apiVersion: finops.ai/v1alpha1
                        kind: VirtualKey
                        metadata: {name: dev}
                        spec: {tokenSha256: %s}
                        """.formatted(ai.finops.crds.validation.ResourceValidator.sha256Hex(KEY)))
                .start();
        client = harness.anthropicClient();
    }

    @AfterAll
    static void stop() throws Exception {
        shortLived.close();
    }

    static MessageCreateParams params(String model) {
        return MessageCreateParams.builder().model(model).maxTokens(1024).addUserMessage("Say hello").build();
    }

    @Test
    void nonStreamingWithAnAccessTokenFromTheServiceAccount() throws Exception {
        simulator.enqueue(Reply.text("Hello from Vertex."));
        Message message = client.messages().create(params("vertex-east/claude-haiku-4-6"));
        assertThat(message.content().get(0).asText().text()).isEqualTo("Hello from Vertex.");
        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.uri()).isEqualTo("/v1/projects/" + PROJECT + "/locations/us-east5/publishers/anthropic/models/claude-haiku-4-6:rawPredict");
        assertThat(received.headers().get("authorization")).startsWith("Bearer ya29.sim-");
        JsonNode body = JSON.readTree(received.body());
        assertThat(body.has("model")).isFalse();
        assertThat(body.path("anthropic_version").asText()).isEqualTo("vertex-2023-10-16");
    }

    @Test
    void streamingToolUseAndItsToolResultFollowUp() throws Exception {
        String input = "{\"command\":\"git status\",\"description\":\"Show the working tree status\"}";
        simulator.enqueue(Reply.toolUse("Bash", input, 6), Reply.text("Clean tree."));
        MessageAccumulator acc = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params("vertex/claude-haiku-4-6"))) {
            stream.stream().forEach(acc::accumulate);
        }
        Message first = acc.message();
        assertThat(first.stopReason()).contains(StopReason.TOOL_USE);
        ContentBlock toolUse = first.content().get(0);
        assertThat(JSON.readTree(JSON.writeValueAsString(toolUse.asToolUse()._input()))).isEqualTo(JSON.readTree(input));
        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.uri()).endsWith("/models/claude-haiku-4-6:streamRawPredict");
        assertThat(JSON.readTree(received.body()).path("stream").asBoolean()).isTrue();

        MessageAccumulator second = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(MessageCreateParams.builder()
                .model("vertex-east/claude-haiku-4-6").maxTokens(1024).addUserMessage("status?").addMessage(first)
                .addUserMessageOfContentBlockParams(List.of(ContentBlockParam.ofToolResult(ToolResultBlockParam.builder()
                        .toolUseId(toolUse.asToolUse().id()).content("nothing to commit").build())))
                .build())) {
            stream.stream().forEach(second::accumulate);
        }
        assertThat(second.message().content().get(0).asText().text()).isEqualTo("Clean tree.");
    }

    @ParameterizedTest
    @ValueSource(strings = {"turn1-request.json", "turn2-request.json"})
    void claudeCodesRequestIsAcceptedAndStreamsBack(String fixture) throws Exception {
        CapturedRequest captured = ClaudeCodeFixtures.load(fixture);
        String body = new String(captured.body(), StandardCharsets.UTF_8)
                .replace("\"model\":\"sonnet-model\"", "\"model\":\"vertex-east/claude-haiku-4-6\"");
        HttpResponse<String> response = harness.replay(captured, body, Map.of("authorization", "Bearer " + KEY));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).startsWith("event: message_start").contains("event: message_stop").doesNotContain("event: error");
        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.headers().get("anthropic-beta")).contains("interleaved-thinking-2025-05-14").doesNotContain("claude-code-20250219");
        assertThat(JSON.readTree(received.body()).path("messages").findValuesAsText("role")).doesNotContain("system");
    }

    @Test
    void aClaudeNameWithoutModelsListGetsVertexsVersionedIdAndItsPrice() throws Exception {
        simulator.enqueue(Reply.text("versioned"));
        assertThat(client.messages().create(params("vertex-east/claude-haiku-4-5")).content()).isNotEmpty();
        assertThat(simulator.requests().get(0).uri()).endsWith("/publishers/anthropic/models/claude-haiku-4-5@20251001:rawPredict");
        assertThat(harness.metrics()).contains("finops_gateway_cost_usd_total{").contains("model=\"claude-haiku-4-5\"");
    }

    @Test
    void aConversationThatSwitchesFromAnthropicKeepsWorkingWithoutTheForeignThinkingBlocks() throws Exception {
        // turns from Anthropic: a thinking block signed there, a tool call, its result; now /model vertex-east/...
        String conversation = """
                {"model":"vertex-east/claude-haiku-4-6","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},
                 "messages":[
                  {"role":"user","content":"list files"},
                  {"role":"assistant","content":[{"type":"thinking","thinking":"I should run ls.","signature":"EqQBCgIYAhIManthropic"},
                    {"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}]},
                  {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"a b"}]}]}
                """;
        simulator.enqueue(Reply.text("Two files."));
        HttpResponse<String> response = harness.post("/anthropic/v1/messages", conversation,
                "authorization", "Bearer " + KEY, "content-type", "application/json");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).contains("Two files.");
        List<RecordedRequest> received = simulator.requests();
        assertThat(received).hasSize(2);
        assertThat(new String(received.get(0).body(), StandardCharsets.UTF_8)).contains("\"signature\"");
        JsonNode retried = JSON.readTree(received.get(1).body());
        assertThat(retried.toString()).doesNotContain("\"thinking\"");
        assertThat(retried.path("messages").get(1).path("content").get(0).path("type").asText()).isEqualTo("tool_use");
    }

    @Test
    void anOpenAiClientReachesClaudeOnVertex() throws Exception {
        String input = "{\"command\":\"date\"}";
        simulator.enqueue(Reply.toolUse("Bash", input, 3));
        OpenAiClientCheck.streamedToolCall(harness, "vertex-east/claude-haiku-4-6", input);
        assertThat(simulator.requests().get(0).uri()).endsWith(":streamRawPredict");
    }

    @Test
    void countTokensGoesToTheCountTokensModel() {
        long tokens = client.messages().countTokens(MessageCountTokensParams.builder().model("vertex-east/claude-haiku-4-6")
                .addUserMessage("How many tokens is this?").build()).inputTokens();
        assertThat(tokens).isPositive();
        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.uri()).endsWith("/publishers/anthropic/models/count-tokens:rawPredict");
        assertThat(new String(received.body(), StandardCharsets.UTF_8)).contains("\"model\":\"claude-haiku-4-6\"");
    }

    @Test
    void googlesErrorEnvelopeBecomesAnAnthropicErrorWithItsWording() {
        simulator.enqueue(Reply.status(429, "rate_limit_error", "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests"));
        assertThatThrownBy(() -> client.messages().create(params("vertex-east/claude-haiku-4-6")))
                .isInstanceOf(RateLimitException.class)
                .hasMessageContaining("Quota exceeded for aiplatform.googleapis.com");
    }

    @Test
    void aServiceAccountTheTokenEndpointRefusesIsA502WithoutTheKey() throws Exception {
        HttpResponse<String> response = harness.post("/anthropic/v1/messages",
                "{\"model\":\"vertex-wrong-key/claude-haiku-4-6\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "authorization", "Bearer " + KEY, "content-type", "application/json");
        assertThat(response.statusCode()).isEqualTo(502);
        assertThat(response.body()).contains("cannot get a provider credential").doesNotContain("PRIVATE KEY");
    }

    @Test
    void theTokenIsRefreshedBeforeItExpiresWithoutFailingARequest() throws Exception {
        Message first = client.messages().create(params("vertex-short/claude-haiku-4-6"));
        assertThat(first.content()).isNotEmpty();
        assertThat(shortLived.tokensIssued()).isEqualTo(1);
        String firstToken = shortLived.requests().get(0).headers().get("authorization");
        Thread.sleep(2_200);   // now inside the refresh margin: still valid, refreshed in the background
        assertThat(client.messages().create(params("vertex-short/claude-haiku-4-6")).content()).isNotEmpty();
        await().atMost(Duration.ofSeconds(10)).until(() -> shortLived.tokensIssued() == 2);
        assertThat(client.messages().create(params("vertex-short/claude-haiku-4-6")).content()).isNotEmpty();
        List<RecordedRequest> requests = shortLived.requests();
        assertThat(requests.get(requests.size() - 1).headers().get("authorization")).isNotEqualTo(firstToken).startsWith("Bearer ya29.sim-");
    }
}

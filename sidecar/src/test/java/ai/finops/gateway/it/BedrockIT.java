package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.ToolResultBlockParam;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Claude on Bedrock through the gateway, against a simulator that checks what Bedrock checks: the
 * SigV4 signature (computed independently), session token, body envelope, betas and fields.
 */
class BedrockIT extends SimulatedProviderTest {
    static final String ACCESS_KEY = "AKIDFINOPSTEST000001";
    static final String SECRET_KEY = "finops/secret+key/for+tests/0123456789";
    static final String SESSION_TOKEN = "FwoGZXIvYXdzEJr//////////session+token==";
    static final String ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-6";
    static final ObjectMapper JSON = new ObjectMapper();

    static AnthropicClient client;

    @BeforeAll
    static void start() throws Exception {
        simulator = Simulator.start(SimulatorOptions.builder().aws(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN).build());
        harness = new GatewayHarness()
                .write("providers.yaml", """
                        apiVersion: finops.ai/v1alpha1
                        kind: ProviderDeployment
                        metadata: {name: bedrock-us}
                        spec:
                          provider: bedrock
                          endpoint: %s
                          bedrock: {region: us-east-1}
                          credentials: {secretRef: {name: aws}}
                          models:
                            - {name: claude-sonnet-4-6, deployment: "%s"}
                            - {name: global.anthropic.claude-haiku-4-6}
                          timeouts: {connect: 1s, firstByte: 5s, idle: 5s}
                        ---
                        apiVersion: v1
                        kind: Secret
                        metadata: {name: aws}
                        stringData: {accessKeyId: %s, secretAccessKey: "%s", sessionToken: "%s"}
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: ProviderDeployment
                        metadata: {name: bedrock-wrong-secret}
                        spec:
                          provider: bedrock
                          endpoint: %s
                          bedrock: {region: us-east-1}
                          credentials: {secretRef: {name: aws-wrong}}
                          models: [{name: wrong-model, deployment: global.anthropic.claude-haiku-4-6}]
                        ---
                        apiVersion: v1
                        kind: Secret
                        metadata: {name: aws-wrong}
                        stringData: {accessKeyId: %s, secretAccessKey: "not-the-secret", sessionToken: "%s"}
                        """.formatted(simulator.baseUrl(), ARN, ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, simulator.baseUrl(), ACCESS_KEY,
                        SESSION_TOKEN))
                .write("keys.yaml", """
                        apiVersion: finops.ai/v1alpha1
                        kind: VirtualKey
                        metadata: {name: dev}
                        spec: {tokenSha256: %s}
                        """.formatted(ai.finops.crds.validation.ResourceValidator.sha256Hex(KEY)))
                .write("rules.yaml", GatewayHarness.SONNET_ALIAS_RULE.replace("anthropic/claude-sonnet-4-6", "bedrock-us/claude-sonnet-4-6"))
                .start();
        client = harness.anthropicClient();
    }

    static MessageCreateParams params(String model) {
        return MessageCreateParams.builder().model(model).maxTokens(1024).addUserMessage("Say hello").build();
    }

    static JsonNode body(RecordedRequest r) throws Exception {
        return JSON.readTree(r.body());
    }

    @Test
    void nonStreamingWithTheInferenceProfileInThePath() throws Exception {
        simulator.enqueue(Reply.text("Hello from Bedrock."));
        Message message = client.messages().create(params("bedrock/global.anthropic.claude-haiku-4-6"));
        assertThat(message.content().get(0).asText().text()).isEqualTo("Hello from Bedrock.");
        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.uri()).isEqualTo("/model/global.anthropic.claude-haiku-4-6/invoke");
        JsonNode body = body(received);
        assertThat(body.has("model")).isFalse();
        assertThat(body.has("stream")).isFalse();
        assertThat(body.path("anthropic_version").asText()).isEqualTo("bedrock-2023-05-31");
        assertThat(received.headers().get("authorization")).startsWith("AWS4-HMAC-SHA256 Credential=" + ACCESS_KEY + "/");
        assertThat(received.headers().get("x-amz-security-token")).isEqualTo(SESSION_TOKEN);
        assertThat(received.headers().toString()).doesNotContain(KEY);
    }

    @Test
    void streamingToolUseAndItsToolResultFollowUpThroughTheAlias() throws Exception {
        String input = "{\"command\":\"ls -la /tmp && echo \\\"done\\\"\",\"description\":\"List files\"}";
        simulator.enqueue(Reply.toolUse("Bash", input, 7), Reply.text("The listing is done."));
        AnthropicClient claudeCode = client.withOptions(o -> o.putHeader("user-agent", "claude-cli/2.1.328 (external, sdk-cli)")
                .putHeader("anthropic-beta", "interleaved-thinking-2025-05-14,claude-code-20250219"));
        MessageAccumulator acc = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = claudeCode.messages().createStreaming(params("sonnet-model"))) {
            stream.stream().forEach(acc::accumulate);
        }
        Message first = acc.message();
        assertThat(first.stopReason()).contains(StopReason.TOOL_USE);
        ContentBlock toolUse = first.content().get(0);
        assertThat(toolUse.asToolUse().name()).isEqualTo("Bash");
        assertThat(JSON.readTree(JSON.writeValueAsString(toolUse.asToolUse()._input())))
                .isEqualTo(JSON.readTree(input));
        RecordedRequest received = simulator.requests().get(0);
        // an ARN: URL-encoded into the path, and the signature (over the doubly encoded path) verified by the simulator
        assertThat(received.uri()).isEqualTo("/model/" + ARN.replace(":", "%3A").replace("/", "%2F") + "/invoke-with-response-stream");
        assertThat(body(received).path("anthropic_beta").toString()).isEqualTo("[\"interleaved-thinking-2025-05-14\"]");

        MessageCreateParams followUp = MessageCreateParams.builder().model("sonnet-model").maxTokens(1024)
                .addUserMessage("List the files")
                .addMessage(first)
                .addUserMessageOfContentBlockParams(List.of(com.anthropic.models.messages.ContentBlockParam.ofToolResult(
                        ToolResultBlockParam.builder().toolUseId(toolUse.asToolUse().id()).content("file-a file-b").build())))
                .build();
        MessageAccumulator second = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = claudeCode.messages().createStreaming(followUp)) {
            stream.stream().forEach(second::accumulate);
        }
        assertThat(second.message().content().get(0).asText().text()).isEqualTo("The listing is done.");
        JsonNode sent = body(simulator.requests().get(1));
        assertThat(sent.path("messages").get(1).path("content").get(0).path("type").asText()).isEqualTo("tool_use");
        assertThat(sent.path("messages").get(2).path("content").get(0).path("tool_use_id").asText()).isEqualTo(toolUse.asToolUse().id());
    }

    @ParameterizedTest
    @ValueSource(strings = {"turn1-request.json", "turn2-request.json"})
    void claudeCodesRequestIsAcceptedAndStreamsBackAsAnthropicSse(String fixture) throws Exception {
        CapturedRequest captured = ClaudeCodeFixtures.load(fixture);
        String body = new String(captured.body(), StandardCharsets.UTF_8)
                .replace("\"model\":\"sonnet-model\"", "\"model\":\"bedrock/global.anthropic.claude-haiku-4-6\"");
        HttpResponse<String> response = harness.replay(captured, body, Map.of("authorization", "Bearer " + KEY));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
        assertThat(response.body()).startsWith("event: message_start\ndata: {").contains("event: message_stop")
                .doesNotContain("event: error").doesNotContain("amazon-bedrock-invocationMetrics");
        JsonNode sent = body(simulator.requests().get(0));
        assertThat(sent.path("messages").findValuesAsText("role")).doesNotContain("system");
        assertThat(sent.path("system").toString()).contains("\"type\":\"text\"");
        assertThat(sent.path("tools").toString()).doesNotContain("defer_loading");
        assertThat(sent.path("thinking").path("type").asText()).isEqualTo("adaptive");
        assertThat(sent.path("anthropic_beta").toString()).contains("interleaved-thinking-2025-05-14", "context-management-2025-06-27")
                .doesNotContain("claude-code-20250219");
        assertThat(sent.has("context_management")).isTrue();
    }

    @Test
    void aSignatureByTheWrongSecretIsRefused() throws Exception {
        HttpResponse<String> response = harness.post("/anthropic/v1/messages",
                "{\"model\":\"bedrock-wrong-secret/wrong-model\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "authorization", "Bearer " + KEY, "content-type", "application/json");
        assertThat(response.statusCode()).isEqualTo(403);
        JsonNode error = JSON.readTree(response.body());
        assertThat(error.path("error").path("type").asText()).isEqualTo("permission_error");
        assertThat(error.path("error").path("message").asText()).contains("signature we calculated does not match");
        assertThat(response.body()).doesNotContain("not-the-secret");
    }

    @Test
    void aBetaTheProviderRefusesAfterAllIsDroppedAndTheRequestSentOnceMore() throws Exception {
        HttpResponse<String> response = harness.post("/anthropic/v1/messages",
                "{\"model\":\"bedrock/global.anthropic.claude-haiku-4-6\",\"max_tokens\":5,\"context_management\":{\"edits\":[]},"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "authorization", "Bearer " + KEY, "content-type", "application/json",
                "anthropic-beta", "computer-use-2025-11-24,context-management-2025-06-27");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        List<RecordedRequest> received = simulator.requests();
        assertThat(received).hasSize(2);
        assertThat(body(received.get(0)).path("anthropic_beta").toString()).contains("computer-use-2025-11-24");
        JsonNode retried = body(received.get(1));
        assertThat(retried.has("anthropic_beta")).isFalse();
        assertThat(retried.has("context_management")).as("a field whose beta was dropped goes with it").isFalse();
    }

    @Test
    void anOpenAiClientReachesClaudeOnBedrock() throws Exception {
        String input = "{\"command\":\"uname -a\"}";
        simulator.enqueue(Reply.toolUse("Bash", input, 4));
        OpenAiClientCheck.streamedToolCall(harness, "bedrock/global.anthropic.claude-haiku-4-6", input);
        assertThat(simulator.requests().get(0).uri()).endsWith("/invoke-with-response-stream");
    }

    @Test
    void countTokensUsesBedrocksCountTokens() throws Exception {
        long tokens = client.messages().countTokens(com.anthropic.models.messages.MessageCountTokensParams.builder()
                .model("bedrock/global.anthropic.claude-haiku-4-6").addUserMessage("How many tokens is this?").build()).inputTokens();
        assertThat(tokens).isPositive();
        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.uri()).isEqualTo("/model/global.anthropic.claude-haiku-4-6/count-tokens");
        JsonNode invokeBody = JSON.readTree(java.util.Base64.getDecoder().decode(body(received).path("input").path("invokeModel").path("body").asText()));
        assertThat(invokeBody.path("anthropic_version").asText()).isEqualTo("bedrock-2023-05-31");
    }

    @Test
    void aServerToolBedrockLacksIsRefusedBeforeAnythingIsSent() throws Exception {
        HttpResponse<String> response = harness.post("/anthropic/v1/messages",
                "{\"model\":\"bedrock/global.anthropic.claude-haiku-4-6\",\"max_tokens\":64,\"tools\":[{\"type\":\"web_search_20250305\",\"name\":\"web_search\"}],"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"news?\"}]}",
                "authorization", "Bearer " + KEY, "content-type", "application/json");
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(response.body()).path("error").path("message").asText()).contains("web_search_20250305").contains("bedrock");
        assertThat(simulator.requests()).isEmpty();
    }

    @Test
    void earlierWebSearchTurnsFromAnthropicBecomeTextOnBedrock() throws Exception {
        simulator.enqueue(Reply.text("Summarised."));
        HttpResponse<String> response = harness.post("/anthropic/v1/messages", """
                {"model":"bedrock/global.anthropic.claude-haiku-4-6","max_tokens":64,"messages":[
                  {"role":"user","content":"what is new in Java?"},
                  {"role":"assistant","content":[
                    {"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"java 26"}},
                    {"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[
                      {"type":"web_search_result","title":"JDK 26","url":"https://openjdk.org/projects/jdk/26/","encrypted_content":"abc"}]},
                    {"type":"text","text":"JDK 26 is out."}]},
                  {"role":"user","content":"summarise"}]}
                """, "authorization", "Bearer " + KEY, "content-type", "application/json");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode sent = body(simulator.requests().get(0));
        String history = sent.path("messages").get(1).toString();
        assertThat(history).doesNotContain("\"type\":\"server_tool_use\"").doesNotContain("\"type\":\"web_search_tool_result\"")
                .contains("JDK 26 (https://openjdk.org/projects/jdk/26/)");
    }

    @Test
    void throttlingBecomesA429InAnthropicsFormWithBedrocksWording() {
        simulator.enqueue(Reply.status(429, "rate_limit_error", "Too many requests, please wait before trying again."));
        assertThatThrownBy(() -> client.messages().create(params("bedrock/global.anthropic.claude-haiku-4-6")))
                .isInstanceOf(RateLimitException.class)
                .hasMessageContaining("Too many requests, please wait before trying again.");
    }

    @Test
    void serviceUnavailableBecomesOverloaded() throws Exception {
        simulator.enqueue(Reply.status(529, "overloaded_error", "Bedrock is unable to process your request."));
        HttpResponse<String> response = harness.post("/anthropic/v1/messages",
                "{\"model\":\"bedrock/global.anthropic.claude-haiku-4-6\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "authorization", "Bearer " + KEY, "content-type", "application/json");
        assertThat(response.statusCode()).isEqualTo(529);
        JsonNode error = JSON.readTree(response.body());
        assertThat(error.path("type").asText()).isEqualTo("error");
        assertThat(error.path("error").path("type").asText()).isEqualTo("overloaded_error");
        assertThat(error.path("error").path("message").asText()).isEqualTo("Bedrock is unable to process your request.");
    }

    @Test
    void aCorruptedFrameEndsTheStreamWithAnErrorEvent() throws Exception {
        simulator.enqueue(Reply.malformedSseAfterFirstByte());
        HttpResponse<String> response = harness.post("/anthropic/v1/messages",
                "{\"model\":\"bedrock/global.anthropic.claude-haiku-4-6\",\"max_tokens\":5,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "authorization", "Bearer " + KEY, "content-type", "application/json");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("event: message_start").contains("event: error").contains("CRC")
                .doesNotContain("event: message_stop");
    }
}

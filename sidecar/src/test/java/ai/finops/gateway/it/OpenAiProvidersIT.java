package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.testkit.ClaudeCodeFixtures;
import ai.finops.testkit.ClaudeCodeFixtures.CapturedRequest;
import ai.finops.testkit.RecordedRequest;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.anthropic.client.AnthropicClient;
import com.anthropic.core.JsonValue;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.RateLimitException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.ContentBlockParam;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.Tool;
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
 * Anthropic clients (the official SDK, Claude Code's requests) on OpenAI-format providers: OpenAI,
 * Azure OpenAI and an OpenAI-compatible server, against a simulator that rejects what those reject
 * (Anthropic-only fields, tool messages without their call, non-string arguments, long tool names).
 */
class OpenAiProvidersIT extends SimulatedProviderTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static AnthropicClient client;

    @BeforeAll
    static void start() throws Exception {
        simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        harness = new GatewayHarness()
                .write("providers.yaml", """
                        apiVersion: finops.ai/v1alpha1
                        kind: ProviderDeployment
                        metadata: {name: openai-main}
                        spec:
                          provider: openai
                          endpoint: %1$s/v1
                          credentials: {secretRef: {name: provider-key}}
                          timeouts: {connect: 1s, firstByte: 5s, idle: 5s}
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: ProviderDeployment
                        metadata: {name: azure-gpt}
                        spec:
                          provider: azure-openai
                          endpoint: %1$s
                          azure: {apiVersion: "2024-10-21"}
                          credentials: {secretRef: {name: provider-key}}
                          models: [{name: gpt-5, deployment: gpt5-eastus}]
                          timeouts: {connect: 1s, firstByte: 5s, idle: 5s}
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: ProviderDeployment
                        metadata: {name: local-llm}
                        spec:
                          provider: openai-compatible
                          endpoint: %1$s/v1
                          credentials: {secretRef: {name: provider-key}}
                          models: [{name: qwen3-coder}]
                          timeouts: {connect: 1s, firstByte: 5s, idle: 5s}
                        """.formatted(simulator.baseUrl()))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .start();
        client = harness.anthropicClient();
    }

    static Tool bash() {
        return Tool.builder().name("Bash").description("Run a shell command")
                .inputSchema(Tool.InputSchema.builder().properties(JsonValue.from(Map.of("command", Map.of("type", "string")))).build()).build();
    }

    static JsonNode sent(int i) throws Exception {
        return JSON.readTree(simulator.requests().get(i).body());
    }

    @Test
    void streamingToolUseAndItsToolResultFollowUpOnOpenAi() throws Exception {
        String input = "{\"command\":\"ls -la /tmp && echo \\\"done\\\"\",\"description\":\"List files\"}";
        simulator.enqueue(Reply.toolUse("Bash", input, 7), Reply.text("Listed."));
        MessageCreateParams first = MessageCreateParams.builder().model("openai/gpt-5").maxTokens(1024).system("Be brief.")
                .addTool(bash()).addUserMessage("List /tmp").build();
        StreamedMessage streamed = StreamedMessage.read(client.messages().createStreaming(first));
        Message message = streamed.message();
        assertThat(streamed.inputJsonFragments()).isEqualTo(7);
        assertThat(message.stopReason()).contains(StopReason.TOOL_USE);
        ContentBlock toolUse = message.content().get(0);
        assertThat(toolUse.asToolUse().name()).isEqualTo("Bash");
        assertThat(JSON.readTree(JSON.writeValueAsString(toolUse.asToolUse()._input()))).isEqualTo(JSON.readTree(input));
        assertThat(message.usage().outputTokens()).isEqualTo(10);

        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.uri()).isEqualTo("/v1/chat/completions");
        assertThat(received.headers().get("authorization")).isEqualTo("Bearer " + PROVIDER_KEY);
        JsonNode body = sent(0);
        assertThat(body.path("model").asText()).isEqualTo("gpt-5");
        assertThat(body.path("messages").get(0).path("role").asText()).isEqualTo("system");
        assertThat(body.path("max_completion_tokens").asInt()).isEqualTo(1024);
        assertThat(body.path("stream_options").path("include_usage").asBoolean()).isTrue();
        assertThat(body.path("tools").get(0).path("function").path("parameters").path("properties").has("command")).isTrue();

        MessageAccumulator second = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(first.toBuilder().addMessage(message)
                .addUserMessageOfContentBlockParams(List.of(ContentBlockParam.ofToolResult(ToolResultBlockParam.builder()
                        .toolUseId(toolUse.asToolUse().id()).content("a b c").build()))).build())) {
            stream.stream().forEach(second::accumulate);
        }
        assertThat(second.message().content().get(0).asText().text()).isEqualTo("Listed.");
        JsonNode followUp = sent(1);
        JsonNode assistant = followUp.path("messages").get(2);
        assertThat(assistant.path("tool_calls").get(0).path("id").asText()).isEqualTo(toolUse.asToolUse().id());
        assertThat(JSON.readTree(assistant.path("tool_calls").get(0).path("function").path("arguments").asText())).isEqualTo(JSON.readTree(input));
        assertThat(followUp.path("messages").get(3).path("role").asText()).isEqualTo("tool");
        assertThat(followUp.path("messages").get(3).path("content").asText()).isEqualTo("a b c");
    }

    @Test
    void nonStreamingOnAnOpenAiCompatibleServer() throws Exception {
        simulator.enqueue(Reply.text("Hi from a local model."));
        Message message = client.messages().create(MessageCreateParams.builder().model("local-llm/qwen3-coder").maxTokens(64)
                .addUserMessage("hello").build());
        assertThat(message.content().get(0).asText().text()).isEqualTo("Hi from a local model.");
        assertThat(message.stopReason()).contains(StopReason.END_TURN);
        JsonNode body = sent(0);
        assertThat(body.path("max_tokens").asInt()).isEqualTo(64);
        assertThat(body.has("max_completion_tokens")).isFalse();
    }

    @Test
    void azureOpenAiWithItsContentFilterPreamble() throws Exception {
        simulator.enqueue(Reply.text("Hello from Azure."));
        MessageAccumulator acc = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(MessageCreateParams.builder()
                .model("azure-gpt/gpt-5").maxTokens(64).addUserMessage("hello").build())) {
            stream.stream().forEach(acc::accumulate);
        }
        assertThat(acc.message().content().get(0).asText().text()).isEqualTo("Hello from Azure.");
        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.uri()).isEqualTo("/openai/deployments/gpt5-eastus/chat/completions?api-version=2024-10-21");
        assertThat(received.headers().get("api-key")).isEqualTo(PROVIDER_KEY);
        assertThat(received.headers().get("authorization")).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"turn1-request.json", "turn2-request.json"})
    void claudeCodesRequestBecomesAValidChatCompletionAndStreamsBack(String fixture) throws Exception {
        CapturedRequest captured = ClaudeCodeFixtures.load(fixture);
        String body = new String(captured.body(), StandardCharsets.UTF_8).replace("\"model\":\"sonnet-model\"", "\"model\":\"openai/gpt-5\"");
        HttpResponse<String> response = harness.replay(captured, body, Map.of("authorization", "Bearer " + KEY));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).startsWith("event: message_start").contains("event: message_stop").doesNotContain("event: error");
        JsonNode sent = sent(0);
        assertThat(sent.path("reasoning_effort").asText()).isEqualTo("high");
        assertThat(sent.path("tools").size()).isEqualTo(JSON.readTree(captured.body()).path("tools").size());
    }

    @Test
    void aServerToolIsRefusedBeforeAnythingIsSent() throws Exception {
        HttpResponse<String> response = harness.post("/anthropic/v1/messages",
                "{\"model\":\"openai/gpt-5\",\"max_tokens\":64,\"tools\":[{\"type\":\"web_search_20250305\",\"name\":\"web_search\"}],"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"news?\"}]}",
                "authorization", "Bearer " + KEY, "content-type", "application/json");
        assertThat(response.statusCode()).isEqualTo(400);
        JsonNode error = JSON.readTree(response.body());
        assertThat(error.path("error").path("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.path("error").path("message").asText()).contains("web_search_20250305").contains("openai");
        assertThat(simulator.requests()).isEmpty();
    }

    @Test
    void countTokensHasNoEquivalent() throws Exception {
        HttpResponse<String> response = harness.post("/anthropic/v1/messages/count_tokens",
                "{\"model\":\"openai/gpt-5\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "authorization", "Bearer " + KEY, "content-type", "application/json");
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(response.body()).path("error").path("message").asText()).contains("count_tokens");
    }

    @Test
    void rateLimitsKeepTheProvidersWording() {
        simulator.enqueue(Reply.status(429, "rate_limit_error", "Rate limit reached for gpt-5 in organization org-1 on tokens per min"));
        assertThatThrownBy(() -> client.messages().create(MessageCreateParams.builder().model("openai/gpt-5").maxTokens(5)
                .addUserMessage("hi").build()))
                .isInstanceOf(RateLimitException.class).hasMessageContaining("Rate limit reached for gpt-5");
    }

    @Test
    void aStreamThatEndsBeforeFinishingIsAnErrorEvent() throws Exception {
        simulator.enqueue(Reply.endWithoutMessageStop());
        HttpResponse<String> response = harness.post("/anthropic/v1/messages",
                "{\"model\":\"openai/gpt-5\",\"max_tokens\":5,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "authorization", "Bearer " + KEY, "content-type", "application/json");
        assertThat(response.body()).contains("event: message_start").contains("event: error").doesNotContain("event: message_stop");
    }
}

package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.testkit.RecordedRequest;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.UnauthorizedException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI surface: the official OpenAI Java SDK against {@code /openai/v1/chat/completions}
 * reaches Claude on an Anthropic-format provider, streaming and tool calls included; a RoutingRule
 * can match {@code api == "openai"}.
 */
class OpenAiSurfaceIT extends SimulatedProviderTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        harness = new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("anthropic-sim", simulator.baseUrl(), null))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .write("rules.yaml", """
                        apiVersion: finops.ai/v1alpha1
                        kind: RoutingRule
                        metadata: {name: gpt-to-claude}
                        spec:
                          when: 'api == "openai" && model == "gpt-4o"'
                          targets: [{model: anthropic-sim/claude-sonnet-4-6}]
                        """)
                .start();
        client = OpenAIOkHttpClient.builder().baseUrl(harness.baseUrl() + "/openai/v1").apiKey(KEY).maxRetries(0).build();
    }

    static ChatCompletionFunctionTool bash() {
        return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name("Bash").description("Run a shell command")
                .parameters(FunctionParameters.builder().putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("command", Map.of("type", "string")))).build())
                .build()).build();
    }

    @Test
    void nonStreamingThroughARuleOnTheOpenAiApi() throws Exception {
        simulator.enqueue(Reply.text("Hello, OpenAI client."));
        ChatCompletion completion = client.chat().completions().create(ChatCompletionCreateParams.builder().model("gpt-4o")
                .addSystemMessage("Be brief.").addUserMessage("hi").build());
        assertThat(completion.choices().get(0).message().content()).contains("Hello, OpenAI client.");
        assertThat(completion.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
        assertThat(completion.usage().get().completionTokens()).isPositive();
        assertThat(harness.metrics()).as("counted as a request of the OpenAI surface")
                .containsPattern("finops_gateway_requests_total\\{api=\"openai\",[^}]*route=\"gpt-to-claude\"[^}]*\\} 1.0");
        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.uri()).isEqualTo("/v1/messages");
        assertThat(received.headers().get("anthropic-version")).isEqualTo("2023-06-01");
        assertThat(received.headers().get("x-api-key")).isEqualTo(PROVIDER_KEY);
        JsonNode body = JSON.readTree(received.body());
        assertThat(body.path("model").asText()).isEqualTo("claude-sonnet-4-6");
        assertThat(body.path("system").asText()).isEqualTo("Be brief.");
        assertThat(body.path("max_tokens").asInt()).isEqualTo(4096);
    }

    @Test
    void streamingToolCallsAndTheToolMessageFollowUp() throws Exception {
        String input = "{\"command\":\"ls -la /tmp && echo \\\"done\\\"\",\"description\":\"List files\"}";
        simulator.enqueue(Reply.toolUse("Bash", input, 7), Reply.text("The listing is done."));
        ChatCompletionCreateParams first = ChatCompletionCreateParams.builder().model("anthropic-sim/claude-sonnet-4-6")
                .addTool(bash()).addUserMessage("List /tmp")
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
        int[] argumentChunks = {0};
        boolean[] usageChunk = {false};
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(first)) {
            stream.stream().forEach(chunk -> {
                acc.accumulate(chunk);
                chunk.choices().forEach(c -> c.delta().toolCalls().ifPresent(calls -> calls.forEach(call ->
                        call.function().flatMap(f -> f.arguments()).filter(a -> !a.isEmpty()).ifPresent(a -> argumentChunks[0]++))));
                usageChunk[0] |= chunk.choices().isEmpty() && chunk.usage().isPresent();
            });
        }
        ChatCompletion completion = acc.chatCompletion();
        assertThat(argumentChunks[0]).isEqualTo(7);
        assertThat(usageChunk[0]).isTrue();
        assertThat(completion.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        ChatCompletionMessage message = completion.choices().get(0).message();
        ChatCompletionMessageFunctionToolCall call = message.toolCalls().get().get(0).asFunction();
        assertThat(call.function().name()).isEqualTo("Bash");
        assertThat(JSON.readTree(call.function().arguments())).isEqualTo(JSON.readTree(input));

        ChatCompletion second = client.chat().completions().create(first.toBuilder().streamOptions(java.util.Optional.empty())
                .addMessage(message)
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("a b c").build())
                .build());
        assertThat(second.choices().get(0).message().content()).contains("The listing is done.");
        JsonNode sent = JSON.readTree(simulator.requests().get(1).body());
        assertThat(sent.path("messages").get(1).path("content").get(0).path("type").asText()).isEqualTo("tool_use");
        assertThat(sent.path("messages").get(1).path("content").get(0).path("input")).isEqualTo(JSON.readTree(input));
        assertThat(sent.path("messages").get(2).path("content").get(0).path("type").asText()).isEqualTo("tool_result");
        assertThat(sent.path("messages").get(2).path("content").get(0).path("tool_use_id").asText()).isEqualTo(call.id());
    }

    @Test
    void theUnprefixedPathAndErrorsInOpenAisForm() throws Exception {
        OpenAIClient unprefixed = OpenAIOkHttpClient.builder().baseUrl(harness.baseUrl() + "/v1").apiKey(KEY).maxRetries(0).build();
        simulator.enqueue(Reply.text("fine"));
        assertThat(unprefixed.chat().completions().create(ChatCompletionCreateParams.builder().model("gpt-4o").addUserMessage("hi").build())
                .choices().get(0).message().content()).contains("fine");

        OpenAIClient wrongKey = OpenAIOkHttpClient.builder().baseUrl(harness.baseUrl() + "/openai/v1").apiKey("vk-wrong-0123456789abcdef")
                .maxRetries(0).build();
        assertThatThrownBy(() -> wrongKey.chat().completions().create(ChatCompletionCreateParams.builder().model("gpt-4o")
                .addUserMessage("hi").build()))
                .isInstanceOf(UnauthorizedException.class).hasMessageContaining("invalid virtual key");
        var response = harness.post("/openai/v1/chat/completions", "{\"model\":\"gpt-4o\",\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "authorization", "Bearer " + KEY, "content-type", "application/json");
        assertThat(response.statusCode()).isEqualTo(400);
        JsonNode error = JSON.readTree(response.body());
        assertThat(error.path("error").path("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.path("error").path("message").asText()).contains("n:");
    }

    @Test
    void aProviderErrorMidStreamIsAnErrorChunk() throws Exception {
        simulator.enqueue(Reply.resetAfterFirstByte());
        var response = harness.post("/openai/v1/chat/completions",
                "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "authorization", "Bearer " + KEY, "content-type", "application/json");
        assertThat(response.body()).contains("\"object\":\"chat.completion.chunk\"").contains("\"error\"").doesNotContain("[DONE]");
    }
}

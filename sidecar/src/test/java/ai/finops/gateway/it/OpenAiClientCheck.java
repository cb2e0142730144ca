package ai.finops.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;

/** The official OpenAI SDK on the gateway's OpenAI surface: a streamed tool call, for any provider behind it. */
final class OpenAiClientCheck {
    private OpenAiClientCheck() {}

    static OpenAIClient client(String gatewayUrl) {
        return OpenAIOkHttpClient.builder().baseUrl(gatewayUrl + "/openai/v1").apiKey(GatewayHarness.KEY).maxRetries(0).build();
    }

    /** Streams {@code model} with the Bash tool; the scripted tool call's arguments must arrive whole. */
    static void streamedToolCall(GatewayHarness harness, String model, String expectedArguments) throws Exception {
        streamedToolCall(harness.baseUrl(), model, expectedArguments);
    }

    /** As above, through the gateway (or via-gateway sidecar) at {@code gatewayUrl}. */
    static void streamedToolCall(String gatewayUrl, String model, String expectedArguments) throws Exception {
        ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> stream = client(gatewayUrl).chat().completions().createStreaming(ChatCompletionCreateParams.builder()
                .model(model).addTool(OpenAiSurfaceIT.bash()).addUserMessage("run it").build())) {
            stream.stream().forEach(acc::accumulate);
        }
        ChatCompletion completion = acc.chatCompletion();
        assertThat(completion.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        ChatCompletionMessageFunctionToolCall call = completion.choices().get(0).message().toolCalls().get().get(0).asFunction();
        assertThat(call.function().name()).isEqualTo("Bash");
        ObjectMapper json = new ObjectMapper();
        assertThat(json.readTree(call.function().arguments())).isEqualTo(json.readTree(expectedArguments));
    }
}

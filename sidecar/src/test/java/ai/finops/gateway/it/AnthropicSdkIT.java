package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.RecordedRequest;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.anthropic.client.AnthropicClient;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.NotFoundException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The official Anthropic Java SDK as the client, through the gateway, to the simulator. */
@ExtendWith(NettyLeakDetector.class)
class AnthropicSdkIT extends SimulatedProviderTest {
    static AnthropicClient client;

    @BeforeAll
    static void start() throws Exception {
        simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        harness = GatewayHarness.claudeCodeSetup(simulator);
        client = harness.anthropicClient();
    }

    private static MessageCreateParams params(String model) {
        return MessageCreateParams.builder().model(model).maxTokens(1024).addUserMessage("Say hello").build();
    }

    @Test
    void nonStreaming() {
        simulator.enqueue(Reply.text("Hello there, developer."));
        Message message = client.messages().create(params("claude-sonnet-4-6"));
        assertThat(message.content()).hasSize(1);
        assertThat(message.content().get(0).asText().text()).isEqualTo("Hello there, developer.");
        assertThat(message.usage().inputTokens()).isPositive();
        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.headers().get("x-api-key")).isEqualTo(PROVIDER_KEY);
        assertThat(received.headers().get("authorization")).isNull();
    }

    @Test
    void streamingText() {
        simulator.enqueue(Reply.text("one two three four five six seven"));
        MessageAccumulator acc = MessageAccumulator.create();
        List<String> types = new ArrayList<>();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params("claude-haiku-4-6"))) {
            stream.stream().forEach(e -> {
                acc.accumulate(e);
                types.add(e.isMessageStart() ? "start" : e.isMessageStop() ? "stop" : e.isContentBlockDelta() ? "delta" : "other");
            });
        }
        Message message = acc.message();
        assertThat(message.content().get(0).asText().text()).isEqualTo("one two three four five six seven");
        assertThat(types.get(0)).isEqualTo("start");
        assertThat(types.get(types.size() - 1)).isEqualTo("stop");
        assertThat(types.stream().filter("delta"::equals).count()).isGreaterThan(1);
    }

    @Test
    void theAliasIsOnlyForClaudeCode() {
        // the SDK's own user agent does not start with claude-cli: the rule does not match
        assertThatThrownBy(() -> client.messages().create(params("sonnet-model")))
                .isInstanceOf(NotFoundException.class)
                .hasMessageContaining("sonnet-model");
        assertThat(simulator.requests()).isEmpty();
    }

    @Test
    void streamingToolUseThroughTheAlias() {
        String input = "{\"command\":\"ls -la /tmp && echo \\\"done\\\"\",\"description\":\"List files\"}";
        simulator.enqueue(Reply.toolUse("Bash", input, 7));
        AnthropicClient claudeCode = client.withOptions(o -> o.putHeader("user-agent", "claude-cli/2.1.328 (external, sdk-cli)"));
        StreamedMessage streamed = StreamedMessage.read(claudeCode.messages().createStreaming(params("sonnet-model")));
        Message message = streamed.message();
        assertThat(streamed.inputJsonFragments()).isEqualTo(7);
        assertThat(message.stopReason()).contains(StopReason.TOOL_USE);
        ContentBlock block = message.content().get(0);
        assertThat(block.isToolUse()).isTrue();
        assertThat(block.asToolUse().name()).isEqualTo("Bash");
        assertThat(block.asToolUse()._input().toString()).contains("ls -la /tmp");
        // the provider received the provider-side model, nothing else changed
        assertThat(new String(simulator.requests().get(0).body())).contains("\"model\":\"claude-sonnet-4-6\"");
    }

    @Test
    void thinkingSignaturesArriveByteIdentical() {
        String signature = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxDYXJzb24gaXMgZ3JlYXQiMHVPaGT+/=";
        simulator.enqueue(Reply.thinking("Let me think about this carefully.", signature, "The answer is 42."));
        MessageAccumulator acc = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params("claude-opus-4-6"))) {
            stream.stream().forEach(acc::accumulate);
        }
        Message message = acc.message();
        assertThat(message.content().get(0).isThinking()).isTrue();
        assertThat(message.content().get(0).asThinking().signature()).isEqualTo(signature);
        assertThat(message.content().get(0).asThinking().thinking()).isEqualTo("Let me think about this carefully.");
        assertThat(message.content().get(1).asText().text()).isEqualTo("The answer is 42.");
    }
}

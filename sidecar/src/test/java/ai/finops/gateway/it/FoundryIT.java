package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.testkit.ClaudeCodeFixtures;
import ai.finops.testkit.ClaudeCodeFixtures.CapturedRequest;
import ai.finops.testkit.RecordedRequest;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.anthropic.client.AnthropicClient;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Claude on Microsoft Foundry ({@code azure}): the Messages API under the resource's {@code /anthropic} path, {@code api-key}, deployment names. */
class FoundryIT extends SimulatedProviderTest {
    static AnthropicClient client;

    @BeforeAll
    static void start() throws Exception {
        simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        harness = new GatewayHarness()
                .write("providers.yaml", """
                        apiVersion: finops.ai/v1alpha1
                        kind: ProviderDeployment
                        metadata: {name: foundry-eu}
                        spec:
                          provider: azure
                          endpoint: %s/anthropic
                          credentials: {secretRef: {name: provider-key}}
                          models:
                            - {name: claude-sonnet-4-6, deployment: team-sonnet}
                          timeouts: {connect: 1s, firstByte: 5s, idle: 5s}
                        """.formatted(simulator.baseUrl()))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .start();
        client = harness.anthropicClient();
    }

    @Test
    void streamingToolUseWithTheDeploymentNameAsModel() {
        simulator.enqueue(Reply.toolUse("Bash", "{\"command\":\"pwd\"}", 4));
        MessageAccumulator acc = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(
                MessageCreateParams.builder().model("azure/claude-sonnet-4-6").maxTokens(256).addUserMessage("where am I").build())) {
            stream.stream().forEach(acc::accumulate);
        }
        Message message = acc.message();
        assertThat(message.stopReason()).contains(StopReason.TOOL_USE);
        assertThat(message.content().get(0).asToolUse()._input().toString()).contains("pwd");
        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.uri()).isEqualTo("/anthropic/v1/messages");
        assertThat(received.headers().get("api-key")).isEqualTo(PROVIDER_KEY);
        assertThat(received.headers().get("x-api-key")).isNull();
        assertThat(received.headers().get("authorization")).isNull();
        assertThat(new String(received.body(), StandardCharsets.UTF_8)).contains("\"model\":\"team-sonnet\"");
    }

    @Test
    void nonStreamingAndTheToolResultFollowUp() {
        simulator.enqueue(Reply.toolUse("Bash", "{\"command\":\"pwd\"}", 1), Reply.text("You are in /work."));
        MessageCreateParams first = MessageCreateParams.builder().model("azure/claude-sonnet-4-6").maxTokens(256).addUserMessage("where am I").build();
        Message call = client.messages().create(first);
        assertThat(call.stopReason()).contains(StopReason.TOOL_USE);
        Message answer = client.messages().create(first.toBuilder().addMessage(call)
                .addUserMessageOfContentBlockParams(java.util.List.of(com.anthropic.models.messages.ContentBlockParam.ofToolResult(
                        com.anthropic.models.messages.ToolResultBlockParam.builder().toolUseId(call.content().get(0).asToolUse().id())
                                .content("/work").build()))).build());
        assertThat(answer.content().get(0).asText().text()).isEqualTo("You are in /work.");
        assertThat(new String(simulator.requests().get(1).body(), StandardCharsets.UTF_8)).contains("\"tool_result\"");
    }

    @Test
    void anOpenAiClientReachesClaudeOnFoundry() throws Exception {
        String input = "{\"command\":\"ls\"}";
        simulator.enqueue(Reply.toolUse("Bash", input, 2));
        OpenAiClientCheck.streamedToolCall(harness, "azure/claude-sonnet-4-6", input);
        assertThat(simulator.requests().get(0).uri()).isEqualTo("/anthropic/v1/messages");
    }

    @ParameterizedTest
    @ValueSource(strings = {"turn1-request.json", "turn2-request.json"})
    void claudeCodesRequestGoesVerbatimButTheModel(String fixture) throws Exception {
        CapturedRequest captured = ClaudeCodeFixtures.load(fixture);
        String body = new String(captured.body(), StandardCharsets.UTF_8).replace("\"model\":\"sonnet-model\"", "\"model\":\"azure/claude-sonnet-4-6\"");
        HttpResponse<String> response = harness.replay(captured, body, Map.of("authorization", "Bearer " + KEY));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("event: message_stop").doesNotContain("event: error");
        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.uri()).isEqualTo("/anthropic/v1/messages?beta=true");
        assertThat(new String(received.body(), StandardCharsets.UTF_8))
                .isEqualTo(body.replace("\"model\":\"azure/claude-sonnet-4-6\"", "\"model\":\"team-sonnet\""));
        assertThat(received.headers().get("anthropic-beta")).isEqualTo(captured.headers().get("anthropic-beta"));
    }
}

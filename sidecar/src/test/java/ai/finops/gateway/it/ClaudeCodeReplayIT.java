package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.testkit.ClaudeCodeFixtures;
import com.anthropic.client.AnthropicClient;
import com.anthropic.models.messages.MessageCreateParams;
import ai.finops.testkit.ClaudeCodeFixtures.CapturedRequest;
import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.RecordedRequest;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Replays what the real Claude Code sends and checks what the provider receives. */
@ExtendWith(NettyLeakDetector.class)
class ClaudeCodeReplayIT extends SimulatedProviderTest {
    /** Headers the JDK client computes itself. */
    private static final Set<String> RESTRICTED = Set.of("connection", "host", "content-length", "expect", "upgrade");


    @BeforeAll
    static void start() throws Exception {
        simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        harness = GatewayHarness.claudeCodeSetup(simulator);
    }

    private HttpResponse<String> replay(CapturedRequest captured, Map<String, String> authHeaders) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(harness.baseUrl() + "/anthropic" + captured.path()))
                .timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofByteArray(captured.body()));
        captured.headers().forEach((name, value) -> {
            if (!RESTRICTED.contains(name) && !name.equals("authorization")) {
                b.header(name, value);
            }
        });
        authHeaders.forEach(b::header);
        return harness.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"turn1-request.json", "turn2-request.json"})
    void theProviderReceivesExactlyWhatClaudeCodeSentButTheModel(String fixture) throws Exception {
        CapturedRequest captured = ClaudeCodeFixtures.load(fixture);
        HttpResponse<String> response = replay(captured, Map.of("authorization", "Bearer " + KEY));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
        assertThat(response.body()).contains("event: message_stop").doesNotContain("event: error");
        assertThat(response.headers().firstValue("request-id")).isPresent();
        assertThat(response.headers().firstValue("x-finops-request-id")).isPresent();

        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.uri()).isEqualTo("/v1/messages?beta=true");
        String sent = new String(captured.body(), StandardCharsets.UTF_8);
        String expected = sent.replaceFirst("\"model\":\"sonnet-model\"", "\"model\":\"claude-sonnet-4-6\"");
        assertThat(expected).isNotEqualTo(sent);
        assertThat(new String(received.body(), StandardCharsets.UTF_8)).isEqualTo(expected);
        assertThat(received.body()).hasSize(expected.getBytes(StandardCharsets.UTF_8).length);
        assertThat(received.headers().get("anthropic-beta")).isEqualTo(captured.headers().get("anthropic-beta"));
        assertThat(received.headers().get("anthropic-version")).isEqualTo("2023-06-01");
        assertThat(received.headers().get("x-claude-code-session-id")).isEqualTo(captured.headers().get("x-claude-code-session-id"));
        assertThat(received.headers().get("x-api-key")).isEqualTo(PROVIDER_KEY);
        assertThat(received.headers().get("authorization")).isNull();
        assertThat(received.headers().get("x-bf-vk")).isNull();
    }

    @Test
    void virtualKeyInXBfVkWinsOverADummyApiKey() throws Exception {
        CapturedRequest captured = ClaudeCodeFixtures.load("turn1-request.json");
        HttpResponse<String> response = replay(captured, Map.of("x-bf-vk", KEY, "x-api-key", "sk-ant-personal-dummy-key"));
        assertThat(response.statusCode()).isEqualTo(200);
        RecordedRequest received = simulator.requests().get(0);
        assertThat(received.headers().get("x-api-key")).isEqualTo(PROVIDER_KEY);
        assertThat(received.headers().getAll("x-api-key")).hasSize(1);
        assertThat(received.headers().get("x-bf-vk")).isNull();
        String everything = received.headers().toString() + new String(received.body(), StandardCharsets.UTF_8);
        assertThat(everything).doesNotContain("sk-ant-personal-dummy-key").doesNotContain(KEY);
    }

    @Test
    void virtualKeyInXApiKey() throws Exception {
        CapturedRequest captured = ClaudeCodeFixtures.load("turn2-request.json");
        HttpResponse<String> response = replay(captured, Map.of("x-api-key", KEY));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(simulator.requests().get(0).headers().get("x-api-key")).isEqualTo(PROVIDER_KEY);
    }

    @Test
    void usageAndCostAreMetered() throws Exception {
        CapturedRequest captured = ClaudeCodeFixtures.load("turn1-request.json");
        assertThat(replay(captured, Map.of("authorization", "Bearer " + KEY)).statusCode()).isEqualTo(200);
        String metrics = harness.metrics();
        assertThat(metrics).contains("gen_ai_client_token_usage").contains("gen_ai_token_type=\"input\"");
        assertThat(metrics).containsPattern("finops_gateway_cost_usd_total\\{[^}]*model=\"claude-sonnet-4-6\"[^}]*\\} [0-9.E-]+");
        assertThat(metrics).contains("finops_gateway_requests_total").contains("route=\"claude-code-sonnet\"");
    }

    /**
     * A request is accounted before the end of its response reaches the client: metrics read as soon
     * as the client has its response show the request whole, count, tokens and cost together. Each
     * request names a model not used before, so its meters are registered while it is accounted (the
     * longest accounting there is); the paths alternate: SDK streaming and not, OpenAI surface.
     */
    @Test
    void aRequestIsAccountedWholeBeforeItsResponseEnds() throws Exception {
        List<String> models = List.of("claude-opus-4-6", "claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-5", "claude-haiku-4-6",
                "claude-sonnet-4", "claude-opus-4-1", "claude-3-7-sonnet", "claude-3-5-haiku");
        AnthropicClient client = harness.anthropicClient();
        for (int i = 0; i < models.size(); i++) {
            String model = models.get(i);
            String api = "anthropic";
            MessageCreateParams params = MessageCreateParams.builder().model(model).maxTokens(64).addUserMessage("hi").build();
            switch (i % 4) {
                case 0 -> assertThat(client.messages().create(params).usage().outputTokens()).isPositive();
                case 1 -> assertThat(StreamedMessage.read(client.messages().createStreaming(params)).message().usage().outputTokens()).isPositive();
                default -> {
                    boolean stream = i % 4 == 3;
                    HttpResponse<String> r = harness.post("/openai/v1/chat/completions", "{\"model\":\"" + model + "\",\"stream\":" + stream
                            + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "authorization", "Bearer " + KEY,
                            "content-type", "application/json");
                    assertThat(r.statusCode()).isEqualTo(200);
                    assertThat(r.body()).contains(stream ? "[DONE]" : "\"usage\"");
                }
            }
            String metrics = harness.metrics();
            assertThat(sample(metrics, "finops_gateway_requests_total", "model", model)).as("requests of %s", model).isEqualTo(1.0);
            assertThat(sample(metrics, "finops_gateway_request_duration_seconds_count", "deployment", "anthropic-sim")).isEqualTo(
                    sample(metrics, "finops_gateway_requests_total", "deployment", "anthropic-sim"));
            for (String type : List.of("input", "output")) {
                assertThat(sample(metrics, "gen_ai_client_token_usage_count", "gen_ai_request_model", model, "gen_ai_token_type", type))
                        .as("%s tokens of %s", type, model).isEqualTo(1.0);
            }
            assertThat(sample(metrics, "gen_ai_client_operation_duration_seconds_count", "gen_ai_request_model", model)).isEqualTo(1.0);
            for (String type : List.of("input", "output", "cache_write", "cache_read")) {
                assertThat(metrics).as("%s tokens of %s", type, model)
                        .containsPattern("finops_gateway_tokens_total\\{[^}]*model=\"" + model + "\",team=\"[^\"]*\",token_type=\"" + type + "\"");
            }
            assertThat(sample(metrics, "finops_gateway_cost_usd_total", "model", model)).as("cost of %s", model).isPositive();
        }
    }

    /** The sum of the samples {@code name} whose labels include {@code labels} (name, value, ...); 0 when there is none. */
    static double sample(String metrics, String name, String... labels) {
        double sum = 0;
        for (String line : metrics.split("\n")) {
            if (!line.startsWith(name + "{")) {
                continue;
            }
            String labelText = line.substring(name.length(), line.lastIndexOf('}') + 1);
            boolean all = true;
            for (int i = 0; i < labels.length; i += 2) {
                all &= labelText.contains(labels[i] + "=\"" + labels[i + 1] + "\"");
            }
            if (all) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }
}

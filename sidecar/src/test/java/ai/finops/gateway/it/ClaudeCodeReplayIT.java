package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.testkit.ClaudeCodeFixtures;
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
}

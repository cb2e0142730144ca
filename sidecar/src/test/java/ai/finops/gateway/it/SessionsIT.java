package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.testkit.ClaudeCodeFixtures;
import ai.finops.testkit.ClaudeCodeFixtures.CapturedRequest;
import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A Claude Code session's cost: both captured turns of one session replayed through the gateway against the
 * simulator, then {@code GET /sessions} on the operations port, checked against the usage the simulator reported
 * and claude-sonnet-4-6's prices; the access lines carry the session id; {@code /metrics} answers OpenMetrics to
 * a scraper that asks for it.
 */
@ExtendWith(NettyLeakDetector.class)
class SessionsIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SESSION = "00000000-0000-4000-8000-000000000001";

    @Test
    void bothTurnsOfOneSessionAreOneSessionWithTheirSummedCost() throws Exception {
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
                GatewayHarness harness = GatewayHarness.claudeCodeSetup(simulator);
                AccessLines access = new AccessLines()) {
            // input, output, cache write, cache read, as the simulator reports them in the stream
            simulator.enqueue(Reply.text("turn one").withUsage(1000, 200, 300, 5000), Reply.text("turn two").withUsage(10, 50, 0, 6000),
                    Reply.text("elsewhere").withUsage(7, 7, 0, 0));
            for (String fixture : List.of("turn1-request.json", "turn2-request.json")) {
                CapturedRequest captured = ClaudeCodeFixtures.load(fixture);
                assertThat(captured.headers().get("x-claude-code-session-id")).isEqualTo(SESSION);
                HttpResponse<String> r = harness.replay(captured, new String(captured.body(), StandardCharsets.UTF_8),
                        Map.of("authorization", "Bearer " + KEY));
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).contains("message_stop");
            }
            assertThat(harness.post("/v1/messages", "{\"model\":\"claude-sonnet-4-6\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\","
                    + "\"content\":\"hi\"}]}", "x-api-key", KEY, "x-claude-code-session-id", "another-session").statusCode()).isEqualTo(200);

            HttpResponse<String> answer = harness.get(harness.adminUrl() + "/sessions?virtualKey=dev&since=1h");
            assertThat(answer.statusCode()).isEqualTo(200);
            assertThat(answer.headers().firstValue("content-type")).hasValue("application/json");
            JsonNode body = JSON.readTree(answer.body());
            assertThat(body.get("virtualKey").asText()).isEqualTo("dev");
            JsonNode sessions = body.get("sessions");
            assertThat(sessions).hasSize(2);
            assertThat(sessions.get(0).get("sessionId").asText()).as("the most recent first").isEqualTo("another-session");
            JsonNode session = sessions.get(1);
            assertThat(session.get("sessionId").asText()).isEqualTo(SESSION);
            assertThat(session.get("virtualKey").asText()).isEqualTo("dev");
            assertThat(session.get("requests").asLong()).isEqualTo(2);
            assertThat(session.get("inputTokens").asLong()).isEqualTo(1010);
            assertThat(session.get("outputTokens").asLong()).isEqualTo(250);
            assertThat(session.get("cacheWriteTokens").asLong()).isEqualTo(300);
            assertThat(session.get("cacheReadTokens").asLong()).isEqualTo(11000);
            // per million tokens: input $3, output $15, cache write $3.75, cache read $0.30
            // turn 1: 1000 x 3 + 200 x 15 + 300 x 3.75 + 5000 x 0.30 = 8625; turn 2: 10 x 3 + 50 x 15 + 6000 x 0.30 = 2580
            assertThat(session.get("costUsd").asText()).isEqualTo("0.011205");
            assertThat(session.get("models")).extracting(JsonNode::asText).containsExactly("claude-sonnet-4-6");
            assertThat(session.get("firstSeen").asText()).isLessThanOrEqualTo(session.get("lastSeen").asText());

            assertThat(JSON.readTree(harness.get(harness.adminUrl() + "/sessions?virtualKey=nobody").body()).get("sessions")).isEmpty();
            HttpResponse<String> bad = harness.get(harness.adminUrl() + "/sessions?since=yesterday");
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(JSON.readTree(bad.body()).get("error").asText()).contains("yesterday");

            List<Map<String, String>> lines = access.lines();
            assertThat(lines).filteredOn(l -> SESSION.equals(l.get("session_id"))).hasSize(2);
            assertThat(lines).allSatisfy(l -> assertThat(l).doesNotContainValue("null").doesNotContainKey("trace_id"));
        }
    }

    @Test
    void metricsAnswerOpenMetricsToAScraperThatAsksForIt() throws Exception {
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
                GatewayHarness harness = GatewayHarness.claudeCodeSetup(simulator)) {
            HttpResponse<String> open = harness.http.send(HttpRequest.newBuilder(URI.create(harness.adminUrl() + "/metrics"))
                    .header("accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5").GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(open.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/openmetrics-text"));
            assertThat(open.body()).endsWith("# EOF\n");
            HttpResponse<String> text = harness.get(harness.adminUrl() + "/metrics");
            assertThat(text.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain; version=0.0.4"));
            assertThat(text.body()).doesNotContain("# EOF");
        }
    }
}

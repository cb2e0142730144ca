package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/** Rules, weights, stickiness and fallbacks on real sockets; the dry-run endpoint agrees with real traffic. */
@ExtendWith(NettyLeakDetector.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RoutingIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static Simulator east;
    static Simulator west;
    static GatewayHarness harness;

    @BeforeAll
    static void start() throws Exception {
        east = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        west = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        harness = new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("east", east.baseUrl(), null)
                        + "---\n" + GatewayHarness.anthropicDeployment("west", west.baseUrl(), null))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .write("rules.yaml", GatewayHarness.SONNET_ALIAS_RULE + """
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: RoutingRule
                        metadata: {name: split}
                        spec:
                          priority: 20
                          when: 'model == "split-model"'
                          targets:
                          - {model: east/claude-sonnet-4-6, weight: 3}
                          - {model: west/claude-sonnet-4-6, weight: 1}
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: RoutingRule
                        metadata: {name: overloaded-east}
                        spec:
                          priority: 30
                          when: 'model == "east-first"'
                          targets: [{model: east/claude-haiku-4-6}]
                          fallbacks: [west/claude-haiku-4-6]
                        """)
                .start();
    }

    @AfterAll
    static void stop() throws Exception {
        harness.close();
        east.close();
        west.close();
    }

    @BeforeEach
    void clear() {
        east.clearRequests();
        west.clearRequests();
    }

    private HttpResponse<String> send(String model, String session) throws Exception {
        String body = "{\"model\":\"" + model + "\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        return harness.post("/v1/messages", body, "x-api-key", KEY, "x-claude-code-session-id", session,
                "user-agent", "claude-cli/2.1.328 (external, sdk-cli)");
    }

    private JsonNode explain(String model, String session) throws Exception {
        String body = JSON.writeValueAsString(Map.of("model", model, "virtualKey", "dev",
                "headers", Map.of("x-claude-code-session-id", session, "user-agent", "claude-cli/2.1.328 (external, sdk-cli)")));
        HttpResponse<String> r = harness.http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(harness.adminUrl() + "/explain"))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    @Test
    @Order(1)
    void weightedTargetsAreStickyPerSessionAndTheDryRunAgrees() throws Exception {
        Map<String, String> chosen = new HashMap<>();
        int sessions = 200;
        for (int i = 0; i < sessions; i++) {
            String session = "00000000-0000-4000-8000-" + String.format("%012d", i);
            int eastBefore = east.requests().size();
            assertThat(send("split-model", session).statusCode()).isEqualTo(200);
            String went = east.requests().size() > eastBefore ? "east" : "west";
            chosen.put(session, went);
            JsonNode dry = explain("split-model", session);
            assertThat(dry.get("rule").asText()).isEqualTo("split");
            assertThat(dry.get("attempts").get(0).get("deployment").asText()).as("dry run for %s", session).isEqualTo(went);
        }
        long toEast = chosen.values().stream().filter("east"::equals).count();
        assertThat(toEast / (double) sessions).isBetween(0.6, 0.9);
        // the same sessions again: every one lands where it did before
        for (Map.Entry<String, String> e : chosen.entrySet()) {
            int eastBefore = east.requests().size();
            send("split-model", e.getKey());
            assertThat(east.requests().size() > eastBefore ? "east" : "west").isEqualTo(e.getValue());
        }
    }

    /** Last: east cools down afterwards. */
    @Test
    @Order(3)
    void fallbackBeforeTheFirstByteOnly() throws Exception {
        east.enqueue(Reply.status(529, "overloaded_error", "Overloaded"));
        HttpResponse<String> r = send("east-first", "s-fallback");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(east.requests()).hasSize(1);
        assertThat(west.requests()).hasSize(1);
        assertThat(new String(west.requests().get(0).body())).contains("\"model\":\"claude-haiku-4-6\"");
        JsonNode dry = explain("east-first", "s-fallback");
        assertThat(dry.get("attempts").get(0).get("deployment").asText()).as("east cools down after its 529").isEqualTo("west");
        assertThat(dry.get("steps").toString()).contains("cooling down");
    }

    @Test
    @Order(2)
    void theDryRunExplainsAMiss() throws Exception {
        JsonNode dry = explain("sonnet-model", "s");
        assertThat(dry.get("rule").asText()).isEqualTo("claude-code-sonnet");
        assertThat(dry.get("attempts").get(0).get("providerModel").asText()).isEqualTo("claude-sonnet-4-6");
        JsonNode miss = explain("opus-model", "s");
        assertThat(miss.get("error").get("status").asInt()).isEqualTo(404);
        assertThat(miss.get("steps").toString()).contains("claude-code-sonnet").contains("when is false");
    }
}

package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every upstream fault and what the client sees: before the first byte, the next attempt and then
 * a status in Anthropic error JSON; after it, an SSE error event and a closed connection, never
 * message_stop, and no fallback.
 */
@ExtendWith(NettyLeakDetector.class)
class FaultsIT {
    static Simulator primary;
    static Simulator secondary;
    static int closedPort;
    GatewayHarness harness;

    @BeforeAll
    static void simulators() throws Exception {
        primary = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        secondary = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
    }

    @AfterAll
    static void stopSimulators() {
        primary.close();
        secondary.close();
    }

    @BeforeEach
    void start() throws Exception {
        primary.clearRequests();
        secondary.clearRequests();
        harness = new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("primary", primary.baseUrl(), null)
                        + "---\n" + GatewayHarness.anthropicDeployment("secondary", secondary.baseUrl(), null)
                        + "---\n" + GatewayHarness.anthropicDeployment("dead", "http://127.0.0.1:" + closedPort, null))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .write("rules.yaml", """
                        apiVersion: finops.ai/v1alpha1
                        kind: RoutingRule
                        metadata: {name: with-fallback}
                        spec:
                          when: 'model == "fallback-model"'
                          targets: [{model: primary/claude-sonnet-4-6}]
                          fallbacks: [secondary/claude-sonnet-4-6]
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: RoutingRule
                        metadata: {name: solo}
                        spec:
                          when: 'model == "solo-model"'
                          targets: [{model: primary/claude-sonnet-4-6}]
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: RoutingRule
                        metadata: {name: dead-first}
                        spec:
                          when: 'model == "dead-model"'
                          targets: [{model: dead/claude-sonnet-4-6}]
                          fallbacks: [secondary/claude-sonnet-4-6]
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: RoutingRule
                        metadata: {name: dead-only}
                        spec:
                          when: 'model == "dead-only-model"'
                          targets: [{model: dead/claude-sonnet-4-6}]
                        """)
                .start();
    }

    @AfterEach
    void stop() throws Exception {
        harness.close();
        // No connection outlives the gateway, whatever fault came before: the gateway closes every
        // upstream connection itself at shutdown, pooled ones included (a pooled connection that had
        // been reused could outlive the event loops' own shutdown).
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(primary.openConnections())
                .as("open connections (accepted %d, closed %d): %s", primary.connectionsAccepted(), primary.connectionsClosed(),
                        primary.describeOpenConnections())
                .isZero());
    }

    private HttpResponse<String> send(String model, boolean stream) throws Exception {
        return harness.message(model, stream);
    }

    @Test
    void refusedConnectionMovesToTheFallback() throws Exception {
        HttpResponse<String> r = send("dead-model", true);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("event: message_stop");
        assertThat(secondary.requests()).hasSize(1);
    }

    @Test
    void refusedWithNoFallbackIs502() throws Exception {
        HttpResponse<String> r = send("dead-only-model", true);
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(r.body()).startsWith("{\"type\":\"error\",\"error\":{\"type\":\"api_error\"")
                .contains("dead: cannot connect: connection refused")
                .as("what failed in words: no endpoint, address or exception class").doesNotContain("127.0.0.1", "Exception", "http://");
    }

    @Test
    void resetBeforeTheFirstByteMovesOnThen502() throws Exception {
        primary.enqueue(Reply.resetBeforeFirstByte());
        HttpResponse<String> ok = send("fallback-model", true);
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(secondary.requests()).hasSize(1);

        primary.enqueue(Reply.resetBeforeFirstByte(), Reply.resetBeforeFirstByte(), Reply.resetBeforeFirstByte());
        HttpResponse<String> failed = send("solo-model", false);
        assertThat(failed.statusCode()).isEqualTo(502);
        assertThat(failed.body()).contains("\"type\":\"api_error\"");
    }

    @Test
    void noFirstByteInTimeMovesOnThen504() throws Exception {
        primary.enqueue(Reply.stallBeforeFirstByte());
        HttpResponse<String> ok = send("fallback-model", true);
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(secondary.requests()).hasSize(1);

        primary.enqueue(Reply.stallBeforeFirstByte());
        HttpResponse<String> failed = send("solo-model", true);
        assertThat(failed.statusCode()).isEqualTo(504);
        assertThat(failed.body()).contains("\"type\":\"timeout_error\"");
    }

    @Test
    void overloadedAndRateLimitedFallBackThenKeepTheirStatusAndRetryAfter() throws Exception {
        primary.enqueue(Reply.status(529, "overloaded_error", "Overloaded"));
        HttpResponse<String> ok = send("fallback-model", true);
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(secondary.requests()).hasSize(1);

        primary.enqueue(Reply.status(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit").retryAfter("7"));
        HttpResponse<String> limited = send("solo-model", true);
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.headers().firstValue("retry-after")).hasValue("7");
        assertThat(limited.body()).contains("rate_limit_error").contains("per-minute rate limit");
    }

    @Test
    void aDeploymentThatAnswered429IsSkippedWhileItCoolsDown() throws Exception {
        primary.enqueue(Reply.status(429, "rate_limit_error", "slow down").retryAfter("30"));
        assertThat(send("fallback-model", false).statusCode()).isEqualTo(200);
        assertThat(primary.requests()).hasSize(1);
        for (int i = 0; i < 3; i++) {
            assertThat(send("fallback-model", false).statusCode()).isEqualTo(200);
        }
        assertThat(primary.requests()).as("cooling down: not tried again").hasSize(1);
        assertThat(secondary.requests()).hasSize(4);
        assertThat(harness.metrics()).contains("finops_gateway_upstream_errors_total{deployment=\"primary\",kind=\"status_429\"}");
    }

    @Test
    void resetAfterTheFirstByteIsAnErrorEventAndNoFallback() throws Exception {
        primary.enqueue(Reply.resetAfterFirstByte());
        assertMidStreamError(send("fallback-model", true));
    }

    @Test
    void stallAfterTheFirstByteIsAnErrorEvent() throws Exception {
        primary.enqueue(Reply.stallAfterFirstByte());
        assertMidStreamError(send("fallback-model", true));
    }

    @Test
    void malformedStreamIsAnErrorEvent() throws Exception {
        primary.enqueue(Reply.malformedSseAfterFirstByte());
        assertMidStreamError(send("fallback-model", true));
    }

    @Test
    void aStreamThatEndsWithoutMessageStopIsAnErrorEvent() throws Exception {
        primary.enqueue(Reply.endWithoutMessageStop());
        assertMidStreamError(send("fallback-model", true));
    }

    private void assertMidStreamError(HttpResponse<String> r) {
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("event: message_start");
        assertThat(r.body()).contains("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\"");
        assertThat(r.body()).doesNotContain("event: message_stop");
        assertThat(r.body()).endsWith("\n\n");
        assertThat(secondary.requests()).as("no fallback after the first byte").isEmpty();
    }
}

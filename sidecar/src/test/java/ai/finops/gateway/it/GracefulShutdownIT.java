package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Shutdown: not ready at once, no new connections, streams in flight finish within the grace period. */
@ExtendWith(NettyLeakDetector.class)
class GracefulShutdownIT {

    /** Sends {@code body} and returns once the provider has the request, with the response still to come. */
    private static CompletableFuture<HttpResponse<String>> streamInFlight(GatewayHarness harness, Simulator simulator, String body) {
        CompletableFuture<HttpResponse<String>> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return harness.post("/v1/messages", body, "x-api-key", KEY);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> simulator.requests().size() == 1);
        return inFlight;
    }

    @Test
    void streamsInFlightFinishBeforeTheGatewayStops() throws Exception {
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).tokensPerSecond(5).build())) {
            GatewayHarness harness = new GatewayHarness();
            harness.settings("""
                    shutdownGracePeriod: 10s
                    """)
                    .write("providers.yaml", GatewayHarness.anthropicDeployment("sim", simulator.baseUrl(), null))
                    .write("keys.yaml", GatewayHarness.keyAndSecrets())
                    .start();
            simulator.enqueue(Reply.text("one two three four five six seven eight nine ten eleven twelve thirteen fourteen"));
            String body = "{\"model\":\"claude-haiku-4-6\",\"max_tokens\":64,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
            CompletableFuture<HttpResponse<String>> inFlight = streamInFlight(harness, simulator, body);
            String base = harness.baseUrl();
            CompletableFuture<Void> closing = CompletableFuture.runAsync(harness.gateway::close);

            // about 3 s of stream left (14 words at 5 a second) while the gateway is not ready and takes no new connection:
            // it turns not ready, then closes its listener, so the two are awaited together
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(harness.get(harness.adminUrl() + "/readyz").statusCode()).isEqualTo(503);
                assertThatThrownBy(() -> harness.http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/")).build(),
                        HttpResponse.BodyHandlers.ofString())).as("no new connections").isInstanceOf(java.io.IOException.class);
            });

            HttpResponse<String> r = inFlight.get(10, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("fourteen").contains("message_stop");
            closing.get(10, TimeUnit.SECONDS);
            harness.gateway = null;
            harness.close();
        }
    }

    @Test
    void aStreamStillRunningWhenTheGracePeriodEndsGetsAnErrorEventAndIsLoggedAsCut() throws Exception {
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).tokensPerSecond(5).build());
                AccessLines access = new AccessLines()) {
            GatewayHarness harness = new GatewayHarness();
            harness.write("providers.yaml", GatewayHarness.anthropicDeployment("sim", simulator.baseUrl(), "timeouts: {idle: 30s}"))
                    .write("keys.yaml", GatewayHarness.keyAndSecrets())
                    .start();
            simulator.enqueue(Reply.text("word ".repeat(100).trim()));     // 20 s at 5 tokens a second: longer than the grace
            String body = "{\"model\":\"claude-haiku-4-6\",\"max_tokens\":256,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
            CompletableFuture<HttpResponse<String>> inFlight = streamInFlight(harness, simulator, body);
            harness.gateway.close();
            harness.gateway = null;

            HttpResponse<String> r = inFlight.get(10, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("event: error").contains("the gateway is shutting down").doesNotContain("message_stop");
            assertThat(access.lines()).singleElement().satisfies(line -> assertThat(line)
                    .containsEntry("outcome", "cut_by_shutdown").containsEntry("status", "200"));
            harness.close();
        }
    }
}

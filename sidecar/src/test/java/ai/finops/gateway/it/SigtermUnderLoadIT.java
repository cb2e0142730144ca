package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real SIGTERM to the gateway jar running as a child process while {@link #STREAMS} streams are
 * open: not ready at once, new connections refused, the streams drained (or, past the grace
 * period, each cut with an SSE {@code error} event), the process gone, and the counts in its log.
 */
class SigtermUnderLoadIT {
    static final int STREAMS = 100;
    private static final String BODY = "{\"model\":\"claude-haiku-4-6\",\"max_tokens\":512,\"stream\":true,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    /** What the clients received and what the gateway logged. */
    record Outcome(List<HttpResponse<String>> responses, String log, Duration exit) {}

    /**
     * Starts the gateway with {@code grace}, opens the streams (each {@code words} words at 10 words a
     * second), sends SIGTERM once the provider holds all of them, and checks what must hold at once.
     */
    private static Outcome sigtermWithStreamsOpen(Path dir, String grace, int words) throws Exception {
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).tokensPerSecond(10).build())) {
            simulator.defaultReply(Reply.text("word ".repeat(words).trim()));
            Path config = Files.createDirectories(dir.resolve("config"));
            Files.writeString(config.resolve("gateway.yaml"), "apiVersion: finops.ai/v1alpha1\nkind: GatewaySettings\n"
                    + "metadata: {name: gateway}\nshutdownGracePeriod: " + grace + "\n---\n"
                    + GatewayHarness.anthropicDeployment("sim", simulator.baseUrl(), "timeouts: {idle: 60s}") + "\n---\n"
                    + GatewayHarness.keyAndSecrets());
            int port = PlatformIdentityIT.freePort();
            int admin = PlatformIdentityIT.freePort();
            Path log = dir.resolve("gateway.log");
            Process gateway = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-jar", Path.of("target/finops-gateway.jar").toAbsolutePath().toString(),
                    "--config", config.toString(), "--port", String.valueOf(port), "--admin-port", String.valueOf(admin), "--bind", "127.0.0.1")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                URI readyz = URI.create("http://127.0.0.1:" + admin + "/readyz");
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
                        http.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
                List<CompletableFuture<HttpResponse<String>>> streams = new ArrayList<>();
                for (int i = 0; i < STREAMS; i++) {
                    streams.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/messages"))
                            .header("x-api-key", KEY).header("content-type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(BODY)).build(), HttpResponse.BodyHandlers.ofString()));
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> simulator.requests().size() == STREAMS);

                long sigterm = System.nanoTime();
                gateway.destroy();      // SIGTERM
                // the JVM runs its shutdown hook when it gets to it, with 30 streams and the simulator on the same cores
                await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() ->
                        http.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 503);
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThatThrownBy(() -> new Socket("127.0.0.1", port).close())
                        .as("new connections refused").isInstanceOf(ConnectException.class));

                List<HttpResponse<String>> responses = new ArrayList<>();
                for (CompletableFuture<HttpResponse<String>> stream : streams) {
                    responses.add(stream.get(30, TimeUnit.SECONDS));
                }
                assertThat(gateway.waitFor(30, TimeUnit.SECONDS)).as("the process exits").isTrue();
                return new Outcome(responses, Files.readString(log), Duration.ofNanos(System.nanoTime() - sigterm));
            } finally {
                gateway.destroyForcibly().waitFor();
            }
        }
    }

    @Test
    void everyStreamInFlightFinishesWithinTheGracePeriodAndTheLogCountsThem(@TempDir Path dir) throws Exception {
        Outcome outcome = sigtermWithStreamsOpen(dir, "20s", 30);      // about 3 s a stream

        assertThat(outcome.responses()).allSatisfy(r -> {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("message_stop").doesNotContain("event: error");
        });
        assertThat(outcome.exit()).as("gone once the streams ended, not at the end of the grace period").isLessThan(Duration.ofSeconds(15));
        assertThat(outcome.log()).containsPattern("shutdown complete.*in_flight_at_start=\"?" + STREAMS + "\"? drained=\"?" + STREAMS
                + "\"? cut=\"?0\"?");
    }

    @Test
    void streamsStillRunningAtTheDeadlineEachGetAnErrorEventAndTheLogCountsThemCut(@TempDir Path dir) throws Exception {
        Outcome outcome = sigtermWithStreamsOpen(dir, "2s", 300);      // about 30 s a stream

        assertThat(outcome.responses()).allSatisfy(r -> {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("event: error").contains("the gateway is shutting down").doesNotContain("message_stop");
        });
        assertThat(outcome.exit()).as("the grace period, then at most the cut and the close").isLessThan(Duration.ofSeconds(8));
        assertThat(outcome.log()).containsPattern("shutdown complete.*in_flight_at_start=\"?" + STREAMS + "\"? drained=\"?0\"? cut=\"?"
                + STREAMS + "\"?");
    }
}

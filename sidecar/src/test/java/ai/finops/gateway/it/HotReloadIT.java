package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Config edits while traffic flows: applied within a second, no request fails, bad edits rejected whole. */
@ExtendWith(NettyLeakDetector.class)
class HotReloadIT {
    Simulator blue;
    Simulator green;
    GatewayHarness harness;

    static String rule(String target) {
        return """
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: switch}
                spec:
                  when: 'model == "app-model"'
                  targets: [{model: %s/claude-sonnet-4-6}]
                """.formatted(target);
    }

    @BeforeEach
    void start() throws Exception {
        blue = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        green = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        harness = new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("blue", blue.baseUrl(), null)
                        + "---\n" + GatewayHarness.anthropicDeployment("green", green.baseUrl(), null))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .write("rules.yaml", rule("blue"))
                .start();
    }

    @AfterEach
    void stop() throws Exception {
        harness.close();
        blue.close();
        green.close();
    }

    private HttpResponse<String> send(String key, boolean stream) throws Exception {
        String body = "{\"model\":\"app-model\",\"max_tokens\":16,\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        return harness.post("/v1/messages", body, "x-api-key", key);
    }

    @Test
    void ruleChangesApplyWithinASecondAndNoRequestFails() throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger sent = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        for (int t = 0; t < 4; t++) {
            boolean stream = t % 2 == 0;
            pool.execute(() -> {
                while (running.get()) {
                    try {
                        HttpResponse<String> r = send(KEY, stream);
                        sent.incrementAndGet();
                        if (r.statusCode() != 200 || (stream && !r.body().contains("message_stop"))) {
                            failures.add(r.statusCode() + " " + r.body());
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
            });
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> blue.requests().size() > 20);

        long edited = System.nanoTime();
        harness.write("rules.yaml", rule("green"));
        int greenBefore = green.requests().size();
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(10)).until(() -> green.requests().size() > greenBefore);
        long appliedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - edited);
        assertThat(appliedMillis).as("applied within a second").isLessThan(1000);
        int blueAfter = blue.requests().size();
        Thread.sleep(300);
        assertThat(blue.requests().size() - blueAfter).as("no request goes to the old target once switched").isLessThanOrEqualTo(4);

        // an invalid edit is rejected whole: green keeps serving
        harness.write("rules.yaml", rule("green").replace("model == \"app-model\"", "model == "));
        await().atMost(Duration.ofSeconds(10)).until(() -> harness.metrics().contains("finops_gateway_config_reloads_total{outcome=\"rejected\"} 1.0"));
        int greenNow = green.requests().size();
        await().atMost(Duration.ofSeconds(10)).until(() -> green.requests().size() > greenNow);

        running.set(false);
        pool.shutdown();
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(failures).as("failed requests out of %d", sent.get()).isEmpty();
    }

    @Test
    void streamsInFlightFinishOnTheOldConfig() throws Exception {
        blue.enqueue(Reply.text("a slow answer that takes its time to arrive word by word").delay(Duration.ofMillis(800)));
        CompletableFuture<HttpResponse<String>> slow = CompletableFuture.supplyAsync(() -> {
            try {
                return send(KEY, true);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> blue.requests().size() == 1);
        harness.write("rules.yaml", rule("green"));
        await().atMost(Duration.ofSeconds(10)).until(() -> harness.metrics().contains("finops_gateway_config_reloads_total{outcome=\"accepted\"} 1.0"));
        HttpResponse<String> r = slow.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("a slow answer").contains("message_stop");
        assertThat(send(KEY, false).statusCode()).isEqualTo(200);
        assertThat(green.requests()).hasSize(1);
    }

    @Test
    void keyRotationAndProviderEndpointChanges() throws Exception {
        assertThat(send(KEY, false).statusCode()).isEqualTo(200);
        harness.write("keys.yaml", GatewayHarness.keyAndSecrets().replace(KEY, "vk-rotated-0123456789abcdef"));
        await().atMost(Duration.ofSeconds(10)).until(() -> send(KEY, false).statusCode() == 401);
        assertThat(send("vk-rotated-0123456789abcdef", false).statusCode()).isEqualTo(200);

        // the deployment named blue now points at the green simulator
        harness.write("providers.yaml", GatewayHarness.anthropicDeployment("blue", green.baseUrl(), null)
                + "---\n" + GatewayHarness.anthropicDeployment("green", green.baseUrl(), null));
        int before = green.requests().size();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            send("vk-rotated-0123456789abcdef", false);
            return green.requests().size() > before;
        });
    }

    @Test
    void aBrokenReferenceIsRejectedAndNamesTheProblem() throws Exception {
        harness.write("rules.yaml", rule("purple"));
        await().atMost(Duration.ofSeconds(10)).until(() -> harness.metrics().contains("finops_gateway_config_reloads_total{outcome=\"rejected\"} 1.0"));
        assertThat(send(KEY, false).statusCode()).isEqualTo(200);
        assertThat(blue.requests()).isNotEmpty();
        List<ai.finops.crds.validation.Problem> problems = ai.finops.gateway.config.ConfigService.validate(List.of(harness.dir), null, harness.env::get);
        assertThat(problems).anySatisfy(p -> assertThat(p.toString()).contains("RoutingRule/switch").contains("purple"));
    }

    @Test
    void readyzAndTheConfigMetersShowARejectedChangeAndTheGenerationServing() throws Exception {
        HttpResponse<String> ready = harness.get(harness.adminUrl() + "/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).matches("ready: config generation 1 \\(sha256 [0-9a-f]{12}\\) serving since \\S+Z\ngovernance: .+\n");
        String hash = ready.body().substring(ready.body().indexOf("sha256 "), ready.body().indexOf(')'));
        String metrics = harness.metrics();
        assertThat(metrics).contains("finops_gateway_config_generation 1.0\n", "finops_gateway_config_last_reload_success 1.0\n",
                "finops_gateway_config_reloads_total{outcome=\"accepted\"} 0.0\n", "finops_gateway_config_reloads_total{outcome=\"rejected\"} 0.0\n");

        harness.write("rules.yaml", rule("purple"));
        await().atMost(Duration.ofSeconds(10)).until(() -> harness.metrics().contains("finops_gateway_config_reloads_total{outcome=\"rejected\"} 1.0"));
        ready = harness.get(harness.adminUrl() + "/readyz");
        assertThat(ready.statusCode()).as("the last good config serves: still ready").isEqualTo(200);
        assertThat(ready.body()).startsWith("ready: config generation 1 (" + hash + ") serving since ")
                .containsPattern("\nlast reload rejected at \\S+Z \\(\\d+ problems?, all in the log; generation 1 keeps serving\\): "
                        + "RoutingRule/switch: [^\n]*purple");
        assertThat(harness.metrics()).contains("finops_gateway_config_generation 1.0\n", "finops_gateway_config_last_reload_success 0.0\n");
        assertThat(send(KEY, false).statusCode()).isEqualTo(200);

        harness.write("rules.yaml", rule("green"));
        // a reload is counted once it is published: the count comes last
        await().atMost(Duration.ofSeconds(10)).until(() -> harness.metrics().contains("finops_gateway_config_reloads_total{outcome=\"accepted\"} 1.0"));
        assertThat(harness.metrics()).contains("finops_gateway_config_generation 2.0\n", "finops_gateway_config_last_reload_success 1.0\n");
        ready = harness.get(harness.adminUrl() + "/readyz");
        assertThat(ready.body()).startsWith("ready: config generation 2 (sha256 ").doesNotContain(hash).doesNotContain("rejected");
    }
}

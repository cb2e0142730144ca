package ai.finops.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.crds.validation.ResourceValidator;
import ai.finops.gateway.Gateway;
import ai.finops.testkit.KubeletVolume;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway as it runs in Kubernetes: {@code --config} on the operator's bundle ConfigMap and
 * {@code --credentials} on its credentials Secret, both mounted by kubelet (files behind a
 * {@code ..data} symlink swapped atomically). A rotated provider key and a new bundle are picked up
 * without a restart.
 */
class MountedBundleIT {
    static final String TOKEN = "vk-mounted-0123456789abcdef";
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static String bundle(String endpoint, String targetModel) {
        return """
                apiVersion: finops.ai/v1alpha1
                kind: ProviderDeployment
                metadata: {name: anthropic-sim}
                spec:
                  provider: anthropic
                  endpoint: %s
                  credentials: {secretRef: {name: anthropic-key}}
                  timeouts: {connect: 1s, firstByte: 5s, idle: 5s}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: alias}
                spec:
                  when: 'model == "sonnet-model"'
                  targets: [{model: "anthropic-sim/%s"}]
                ---
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: dev}
                spec:
                  tokenSha256: %s
                """.formatted(endpoint, targetModel, ResourceValidator.sha256Hex(TOKEN));
    }

    HttpResponse<String> send(Gateway gateway) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.apiPort() + "/anthropic/v1/messages"))
                .header("x-api-key", TOKEN).header("anthropic-version", "2023-06-01").header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"sonnet-model\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesFromMountedBundleAndCredentialsAndFollowsTheirUpdates(@TempDir Path tmp) throws Exception {
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().record(true).build())) {
            KubeletVolume config = new KubeletVolume(tmp.resolve("bundle"));
            KubeletVolume credentials = new KubeletVolume(tmp.resolve("credentials"));
            config.write(Map.of("bundle.yaml", bundle(simulator.baseUrl(), "claude-sonnet-4-6").getBytes(StandardCharsets.UTF_8)));
            credentials.write(Map.of("anthropic-key.apiKey", "sk-first".getBytes(StandardCharsets.UTF_8),
                    "other.apiKey", "sk-unrelated".getBytes(StandardCharsets.UTF_8)));
            assertThat(Files.isSymbolicLink(config.dir().resolve("bundle.yaml"))).isTrue();

            try (Gateway gateway = Gateway.start(List.of(config.dir()), credentials.dir(), name -> null, "127.0.0.1", 0, 0)) {
                assertThat(send(gateway).statusCode()).isEqualTo(200);
                assertThat(simulator.requests().get(0).headers().get("x-api-key")).isEqualTo("sk-first");
                assertThat(simulator.requests().get(0).body()).asString(StandardCharsets.UTF_8).contains("\"model\":\"claude-sonnet-4-6\"");

                // the operator copies a rotated provider key into the credentials Secret; kubelet swaps ..data
                credentials.write(Map.of("anthropic-key.apiKey", "sk-rotated".getBytes(StandardCharsets.UTF_8)));
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
                    simulator.clearRequests();
                    assertThat(send(gateway).statusCode()).isEqualTo(200);
                    assertThat(simulator.requests().get(0).headers().get("x-api-key")).isEqualTo("sk-rotated");
                });

                // a new bundle (the rule now targets another model) replaces the old one
                config.write(Map.of("bundle.yaml", bundle(simulator.baseUrl(), "claude-haiku-4-5").getBytes(StandardCharsets.UTF_8)));
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
                    simulator.clearRequests();
                    assertThat(send(gateway).statusCode()).isEqualTo(200);
                    assertThat(simulator.requests().get(0).body()).asString(StandardCharsets.UTF_8).contains("\"model\":\"claude-haiku-4-5\"");
                });

                // a credentials Secret that loses the key the bundle needs is rejected whole: the last good config serves
                credentials.write(Map.of("other.apiKey", "sk-unrelated".getBytes(StandardCharsets.UTF_8)));
                // the counter is there from the start, at 0: the rejection is what is awaited
                await().atMost(Duration.ofSeconds(10)).until(() -> gateway.metrics().registry().find(ai.finops.gateway.observability.Metrics.CONFIG_RELOADS)
                        .tag("outcome", "rejected").counter() != null && gateway.metrics().registry().find(
                        ai.finops.gateway.observability.Metrics.CONFIG_RELOADS).tag("outcome", "rejected").counter().count() >= 1);
                simulator.clearRequests();
                assertThat(send(gateway).statusCode()).isEqualTo(200);
                assertThat(simulator.requests().get(0).headers().get("x-api-key")).isEqualTo("sk-rotated");
            }
        }
    }
}

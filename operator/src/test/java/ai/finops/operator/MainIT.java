package ai.finops.operator;

import static ai.finops.operator.Resources.anthropic;
import static ai.finops.operator.Resources.secret;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.operator.bundle.Names;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line as a user runs it: options, the operations port, JOSDK's reconciliation meters and ours. */
class MainIT {
    final HttpClient http = HttpClient.newHttpClient();

    String get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString())
                .body();
    }

    @Test
    void servesTheListedNamespacesAndReportsReconciliationsOnItsMetricsPort() throws Exception {
        try (MockCluster cluster = new MockCluster().namespace("team-a").namespace("ignored")) {
            Main main = new Main();
            new CommandLine(main).parseArgs("--namespaces", "team-a", "--metrics-port", "0", "--bind", "127.0.0.1", "--no-leader-election");
            try (Main.Running running = main.start(cluster.operatorClient())) {
                for (String ns : new String[] {"team-a", "ignored"}) {
                    cluster.client.resource(secret(ns, "anthropic-key", Map.of("apiKey", "sk-1"))).create();
                    cluster.client.resource(anthropic(ns, "anthropic-prod", "https://api.anthropic.com", "anthropic-key")).create();
                }
                // the bundle is visible before its write is counted, and the reconciliation that wrote it goes on (credentials,
                // statuses) before it counts as a success: the meters are awaited with the ConfigMap
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    assertThat(cluster.client.configMaps().inNamespace("team-a").withName(Names.BUNDLE_CONFIG_MAP).get()).isNotNull();
                    assertThat(get(running.metricsPort(), "/metrics")).contains("operator_sdk_reconciliations_started_total",
                            "operator_sdk_reconciliations_success_total", "finops_operator_writes_total{object=\"configmap\",purpose=\"bundle\"}");
                });
                assertThat(cluster.client.configMaps().inNamespace("ignored").withName(Names.BUNDLE_CONFIG_MAP).get()).isNull();

                assertThat(get(running.metricsPort(), "/healthz")).isEqualTo("ok\n");
                assertThat(get(running.metricsPort(), "/readyz")).isEqualTo("ready\n");
                assertThat(get(running.metricsPort(), "/metrics")).doesNotContain("sk-1");
            }
        }
    }
}

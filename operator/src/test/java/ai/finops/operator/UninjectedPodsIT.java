package ai.finops.operator;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.operator.inject.SidecarInjector;
import ai.finops.operator.inject.UninjectedPods;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** With the webhook's failures ignored, the operator finds labelled pods that run without the sidecar. */
class UninjectedPodsIT {
    MockCluster cluster;
    KubernetesClient client;

    @BeforeEach
    void start() {
        cluster = new MockCluster();
        client = cluster.client;
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    void pod(String ns, String name, Map<String, String> labels, Map<String, String> annotations, boolean sidecar, String phase) {
        PodBuilder b = new PodBuilder().withNewMetadata().withName(name).withNamespace(ns).withLabels(labels).withAnnotations(annotations)
                .endMetadata().withNewSpec().addNewContainer().withName("app").withImage("app:1").endContainer().endSpec()
                .withNewStatus().withPhase(phase).endStatus();
        if (sidecar) {
            b.editSpec().addNewInitContainer().withName(SidecarInjector.CONTAINER).withImage("finops-gateway:0.1.0").endInitContainer().endSpec();
        }
        client.resource(b.build()).create();
    }

    @Test
    void findsThemCountsThemAndRecordsOneEventEach() {
        client.resource(new NamespaceBuilder().withNewMetadata().withName("dev").addToLabels(SidecarInjector.INJECT, "enabled").endMetadata().build()).create();
        client.resource(new NamespaceBuilder().withNewMetadata().withName("other").endMetadata().build()).create();
        Map<String, String> key = Map.of(SidecarInjector.VIRTUAL_KEY, "alice");
        pod("dev", "missed", Map.of(), key, false, "Running");
        pod("dev", "injected", Map.of(), key, true, "Running");
        pod("dev", "opted-out", Map.of(SidecarInjector.INJECT, "false"), key, false, "Running");
        pod("dev", "finished", Map.of(), key, false, "Succeeded");
        pod("other", "labelled", Map.of(SidecarInjector.INJECT, "true"), key, false, "Pending");
        pod("other", "unlabelled", Map.of(), key, false, "Running");

        OperatorMetrics metrics = new OperatorMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        UninjectedPods detector = new UninjectedPods(client, metrics, Set.of(), Clock.systemUTC());
        assertThat(detector.scan()).extracting(p -> p.getMetadata().getName()).containsExactlyInAnyOrder("missed", "labelled");
        assertThat(metrics.registry().get(UninjectedPods.METRIC).tag("namespace", "dev").gauge().value()).isEqualTo(1.0);
        assertThat(metrics.registry().get(UninjectedPods.METRIC).tag("namespace", "other").gauge().value()).isEqualTo(1.0);
        var events = client.v1().events().inAnyNamespace().list().getItems();
        assertThat(events).hasSize(2).allSatisfy(e -> {
            assertThat(e.getReason()).isEqualTo(UninjectedPods.REASON);
            assertThat(e.getType()).isEqualTo("Warning");
            assertThat(e.getInvolvedObject().getKind()).isEqualTo("Pod");
        });

        // the pod is recreated with the sidecar: the count drops, and nothing is reported twice
        client.pods().inNamespace("dev").withName("missed").delete();
        pod("dev", "missed-again", Map.of(), key, true, "Running");
        detector.scan();
        assertThat(metrics.registry().get(UninjectedPods.METRIC).tag("namespace", "dev").gauge().value()).isZero();
        assertThat(client.v1().events().inAnyNamespace().list().getItems()).hasSize(2);
    }

}

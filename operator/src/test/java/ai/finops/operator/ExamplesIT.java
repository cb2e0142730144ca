package ai.finops.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.crds.ResourceStatus;
import ai.finops.operator.inject.InjectCommand;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The Kubernetes examples as a user applies them: {@code examples/kubernetes/} and the resources Argo CD
 * syncs from {@code examples/gitops/resources/} become Ready on the mock API server; {@code examples/dev-pod/}
 * gets the sidecar with the example VirtualKey.
 */
class ExamplesIT {
    static final Path EXAMPLES = Path.of("../examples");
    @SuppressWarnings({"unchecked", "rawtypes"})
    static final Map<String, Class<? extends CustomResource<?, ? extends ResourceStatus>>> TYPES = (Map) Map.of(
            "ProviderDeployment", ai.finops.crds.ProviderDeployment.class, "RoutingRule", ai.finops.crds.RoutingRule.class,
            "VirtualKey", ai.finops.crds.VirtualKey.class, "Budget", ai.finops.crds.Budget.class,
            "McpServer", ai.finops.crds.McpServer.class);

    @ParameterizedTest
    @ValueSource(strings = {"kubernetes", "gitops/resources"})
    void everyResourceBecomesReady(String folder) throws Exception {
        try (MockCluster cluster = new MockCluster().namespace("dev");
                FinopsOperator operator = FinopsOperator.start(cluster.operatorClient(), FinopsOperator.Settings.of(Set.of(), null),
                        new OperatorMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)))) {
            cluster.client.resource(Resources.secret("dev", "anthropic-api", Map.of("apiKey", "sk-ant-example"))).create();
            List<HasMetadata> applied = new ArrayList<>();
            try (Stream<Path> files = Files.list(EXAMPLES.resolve(folder))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                    try (InputStream in = Files.newInputStream(file)) {
                        for (HasMetadata r : cluster.client.load(in).items()) {
                            r.getMetadata().setNamespace("dev");
                            applied.add(cluster.client.resource(r).create());
                        }
                    }
                }
            }
            assertThat(applied).hasSizeGreaterThanOrEqualTo(3);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                for (HasMetadata r : applied) {
                    CustomResource<?, ? extends ResourceStatus> now = cluster.client.resources(TYPES.get(r.getKind())).inNamespace("dev")
                            .withName(r.getMetadata().getName()).get();
                    assertThat(now.getStatus()).as(r.getKind() + "/" + r.getMetadata().getName()).isNotNull();
                    Condition ready = now.getStatus().conditions.stream().filter(c -> c.getType().equals("Ready")).findFirst().orElse(null);
                    assertThat(ready).as(r.getKind() + "/" + r.getMetadata().getName() + " has no Ready condition yet").isNotNull();
                    assertThat(ready.getStatus()).as(r.getKind() + "/" + r.getMetadata().getName() + ": " + now.getStatus().conditions).isEqualTo("True");
                }
            });
        }
    }

    @Test
    void theDevPodGetsTheSidecarWithTheExampleVirtualKey() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            assertThat(new CommandLine(new InjectCommand()).execute("-f", EXAMPLES.resolve("dev-pod/pod.yaml").toString(),
                    "--resources", EXAMPLES.resolve("kubernetes").toString())).isZero();
        } finally {
            System.setOut(original);
        }
        Pod pod = Serialization.unmarshal(out.toString(StandardCharsets.UTF_8), Pod.class);
        assertThat(pod.getSpec().getInitContainers().get(0).getName()).isEqualTo("finops-gateway");
        assertThat(pod.getSpec().getContainers().get(0).getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("ANTHROPIC_AUTH_TOKEN");
            assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo("vk-alice");
        });
        assertThat(pod.getSpec().getContainers().get(0).getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("ANTHROPIC_DEFAULT_SONNET_MODEL");
            assertThat(e.getValue()).isEqualTo("sonnet-model");
        });
    }

    @Test
    void theViaGatewayExampleKeepsProviderKeysInTheSharedGatewaysNamespace() throws Exception {
        String shared = "finops-system";
        try (MockCluster cluster = new MockCluster().namespace(shared);
                FinopsOperator operator = FinopsOperator.start(cluster.operatorClient(),
                        FinopsOperator.Settings.of(Set.of(), null).withSharedGateway(shared),
                        new OperatorMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)))) {
            cluster.client.resource(Resources.secret(shared, "anthropic-api", Map.of("apiKey", "sk-ant-example"))).create();
            for (String file : new String[] {"shared-gateway.yaml", "dev.yaml"}) {
                try (InputStream in = Files.newInputStream(EXAMPLES.resolve("via-gateway").resolve(file))) {
                    for (HasMetadata r : cluster.client.load(in).items()) {
                        if (r instanceof Pod) {
                            continue;   // the webhook's part, below
                        }
                        if (r.getMetadata().getNamespace() == null && !(r instanceof io.fabric8.kubernetes.api.model.Namespace)) {
                            r.getMetadata().setNamespace(shared);
                        }
                        cluster.client.resource(r).create();
                    }
                }
            }
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                var bundle = cluster.client.configMaps().inNamespace(shared).withName(ai.finops.operator.bundle.Names.BUNDLE_CONFIG_MAP).get();
                assertThat(bundle).isNotNull();
                assertThat(bundle.getData().get(ai.finops.operator.bundle.Names.BUNDLE_KEY))
                        .contains("name: claude-code-sonnet", "name: alice.dev", "limitUsd: \"50.00\"");
                // the dev namespace's own reconciliation writes its credentials before alice's status: once that is
                // there, whatever the dev namespace would ever hold of provider keys is there too
                var alice = cluster.client.resources(ai.finops.crds.VirtualKey.class).inNamespace("dev").withName("alice").get();
                assertThat(alice.getStatus()).isNotNull();
                assertThat(alice.getStatus().conditions).extracting(Condition::getType).contains("Ready");
            });
            var devCredentials = cluster.client.secrets().inNamespace("dev").withName(ai.finops.operator.bundle.Names.CREDENTIALS_SECRET).get();
            assertThat(devCredentials == null || devCredentials.getData() == null || devCredentials.getData().isEmpty()).isTrue();
        }

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            assertThat(new CommandLine(new InjectCommand()).execute("-f", EXAMPLES.resolve("via-gateway/dev.yaml").toString(),
                    "--resources", EXAMPLES.resolve("via-gateway").toString(),
                    "--sidecar-gateway-url", "http://finops-gateway.finops-system.svc:8080")).isZero();
        } finally {
            System.setOut(original);
        }
        Pod pod = Serialization.unmarshal(java.util.Arrays.stream(out.toString(StandardCharsets.UTF_8).split("(?m)^---\\s*$"))
                .filter(doc -> doc.contains("kind: \"Pod\"")).findFirst().orElseThrow(), Pod.class);
        assertThat(pod.getSpec().getInitContainers().get(0).getArgs()).containsSequence("--relay-to", "http://finops-gateway.finops-system.svc:8080");
        assertThat(pod.getSpec().getVolumes()).noneMatch(v -> v.getSecret() != null || v.getConfigMap() != null);
    }
}

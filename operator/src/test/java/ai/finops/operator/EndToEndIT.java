package ai.finops.operator;

import static ai.finops.operator.Resources.anthropic;
import static ai.finops.operator.Resources.key;
import static ai.finops.operator.Resources.rule;
import static ai.finops.operator.Resources.secret;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ai.finops.crds.RoutingRule;
import ai.finops.crds.RoutingRuleSpec;
import ai.finops.crds.VirtualKey;
import ai.finops.gateway.Gateway;
import ai.finops.operator.bundle.Names;
import ai.finops.testkit.KubeletVolume;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resource to request in one JVM: resources on the mock API server, the operator derives the bundle,
 * a kubelet stand-in projects the ConfigMap and Secret into folders the way kubelet mounts volumes,
 * a gateway started as in a pod ({@code --config} and {@code --credentials}) reloads, and the official
 * Anthropic SDK's requests reach the simulator as the RoutingRule says. Editing the rule, or rotating
 * the virtual key's token, reaches the running gateway with no restart.
 */
class EndToEndIT {
    static final String NS = "team-a";
    static final String PROVIDER_KEY = "sk-ant-e2e-provider";
    static final Duration WAIT = Duration.ofSeconds(30);

    /** Kubelet's part: every version of a ConfigMap or Secret written into a volume folder. */
    static <T extends io.fabric8.kubernetes.api.model.HasMetadata> SharedIndexInformer<T> project(SharedIndexInformer<T> informer,
            KubeletVolume volume, Function<T, Map<String, byte[]>> files) {
        informer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                volume.write(files.apply(obj));
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                volume.write(files.apply(newObj));
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
                volume.write(Map.of());
            }
        });
        informer.start();
        return informer;
    }

    /** A namespace's bundle ConfigMap and credentials Secret as kubelet mounts them, kept current until closed. */
    record Mounted(KubeletVolume bundle, KubeletVolume credentials, SharedIndexInformer<ConfigMap> bundleInformer,
            SharedIndexInformer<Secret> credentialsInformer) implements AutoCloseable {
        static Mounted of(io.fabric8.kubernetes.client.KubernetesClient client, String namespace, Path tmp) {
            KubeletVolume bundle = new KubeletVolume(tmp.resolve("bundle"));
            KubeletVolume credentials = new KubeletVolume(tmp.resolve("credentials"));
            return new Mounted(bundle, credentials,
                    project(client.configMaps().inNamespace(namespace).withName(Names.BUNDLE_CONFIG_MAP).runnableInformer(0), bundle,
                            EndToEndIT::configMapFiles),
                    project(client.secrets().inNamespace(namespace).withName(Names.CREDENTIALS_SECRET).runnableInformer(0), credentials,
                            EndToEndIT::secretFiles));
        }

        @Override
        public void close() {
            bundleInformer.close();
            credentialsInformer.close();
        }
    }

    static Map<String, byte[]> configMapFiles(ConfigMap cm) {
        Map<String, byte[]> files = new TreeMap<>();
        cm.getData().forEach((k, v) -> files.put(k, v.getBytes(StandardCharsets.UTF_8)));
        return files;
    }

    static Map<String, byte[]> secretFiles(Secret secret) {
        Map<String, byte[]> files = new TreeMap<>();
        if (secret.getData() != null) {
            secret.getData().forEach((k, v) -> files.put(k, Base64.getDecoder().decode(v)));
        }
        return files;
    }

    static MessageCreateParams sonnet() {
        return MessageCreateParams.builder().model("sonnet-model").maxTokens(256).addUserMessage("Say hello").build();
    }

    @Test
    void aRuleAppliedToTheClusterRoutesTheNextRequest(@TempDir Path tmp) throws Exception {
        try (MockCluster cluster = new MockCluster().namespace(NS);
                Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).record(true).build());
                FinopsOperator operator = FinopsOperator.start(cluster.operatorClient(), FinopsOperator.Settings.of(Set.of(), null),
                        new OperatorMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)))) {
            var client = cluster.client;
            client.resource(secret(NS, "anthropic-key", Map.of("apiKey", PROVIDER_KEY))).create();
            client.resource(anthropic(NS, "anthropic-sim", simulator.baseUrl(), "anthropic-key")).create();
            client.resource(rule(NS, "claude-code", "model == \"sonnet-model\"", "anthropic-sim/claude-sonnet-4-6")).create();
            client.resource(key(NS, "alice", "vk-alice")).create();

            try (Mounted mounted = Mounted.of(client, NS, tmp)) {
                KubeletVolume bundle = mounted.bundle();
                KubeletVolume credentials = mounted.credentials();
                // each kind comes through its own watch: a bundle may hold the key before the rule that the first request needs
                await().atMost(WAIT).until(() -> Files.exists(bundle.dir().resolve("bundle.yaml"))
                        && Files.readString(bundle.dir().resolve("bundle.yaml")).contains("kind: VirtualKey")
                        && Files.readString(bundle.dir().resolve("bundle.yaml")).contains("name: claude-code")
                        && Files.exists(credentials.dir().resolve("anthropic-key.apiKey")));
                String token = new String(Base64.getDecoder().decode(
                        client.secrets().inNamespace(NS).withName("vk-alice").get().getData().get("token")), StandardCharsets.UTF_8);

                try (Gateway gateway = Gateway.start(List.of(bundle.dir()), credentials.dir(), name -> null, "127.0.0.1", 0, 0)) {
                    String base = "http://127.0.0.1:" + gateway.apiPort() + "/anthropic";
                    AnthropicClient sdk = AnthropicOkHttpClient.builder().baseUrl(base).authToken(token).maxRetries(0).build();
                    Message first = sdk.messages().create(sonnet());
                    assertThat(first.content()).isNotEmpty();
                    assertThat(lastModel(simulator)).isEqualTo("claude-sonnet-4-6");
                    assertThat(simulator.requests().get(simulator.requests().size() - 1).headers().get("x-api-key")).isEqualTo(PROVIDER_KEY);

                    // kubectl edit rr claude-code: the next requests follow the new target
                    long edited = System.nanoTime();
                    RoutingRule rr = client.resources(RoutingRule.class).inNamespace(NS).withName("claude-code").get();
                    rr.getSpec().targets = List.of(new RoutingRuleSpec.Target("anthropic-sim/claude-haiku-4-5", null));
                    cluster.edit(rr, "/spec");
                    await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
                        sdk.messages().create(sonnet());
                        assertThat(lastModel(simulator)).isEqualTo("claude-haiku-4-5");
                    });
                    long propagationMillis = Duration.ofNanos(System.nanoTime() - edited).toMillis();
                    System.out.println("e2e: RoutingRule edit to first request routed by it: " + propagationMillis + " ms");

                    // rotate the virtual key: the new token works, the old one is refused
                    String rotated = "vk-rotated-e2e-0123456789abcdef";
                    Secret vkSecret = client.secrets().inNamespace(NS).withName("vk-alice").get();
                    vkSecret.setData(Map.of("token", Base64.getEncoder().encodeToString(rotated.getBytes(StandardCharsets.UTF_8))));
                    cluster.edit(vkSecret, "/data");
                    AnthropicClient rotatedSdk = AnthropicOkHttpClient.builder().baseUrl(base).authToken(rotated).maxRetries(0).build();
                    await().atMost(WAIT).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                            .until(() -> !rotatedSdk.messages().create(sonnet()).content().isEmpty());
                    assertThatThrownBy(() -> sdk.messages().create(sonnet())).isInstanceOf(UnauthorizedException.class);
                }
            }
        }
    }

    /**
     * The via-gateway journey: providers, their keys and the rules live in the shared gateway's
     * namespace; the dev namespace (labelled for the shared gateway) holds only alice's VirtualKey. A
     * pod injected in via-gateway mode relays Claude Code to the shared gateway, which routes it.
     */
    @Test
    void aViaGatewayPodIsRoutedByTheSharedGatewayWithNoProviderKeyInItsNamespace(@TempDir Path tmp) throws Exception {
        String shared = "finops-system";
        try (MockCluster cluster = new MockCluster().namespace(shared);
                Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
                FinopsOperator operator = FinopsOperator.start(cluster.operatorClient(),
                        FinopsOperator.Settings.of(Set.of(), null).withSharedGateway(shared),
                        new OperatorMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)))) {
            var client = cluster.client;
            client.resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName(NS)
                    .addToLabels(BundleReconciler.SHARED_GATEWAY_LABEL, "enabled").endMetadata().build()).create();
            client.resource(secret(shared, "anthropic-key", Map.of("apiKey", PROVIDER_KEY))).create();
            client.resource(anthropic(shared, "anthropic-sim", simulator.baseUrl(), "anthropic-key")).create();
            client.resource(rule(shared, "claude-code", "model == \"sonnet-model\"", "anthropic-sim/claude-sonnet-4-6")).create();
            client.resource(key(NS, "alice", "vk-alice")).create();

            try (Mounted mounted = Mounted.of(client, shared, tmp)) {
                KubeletVolume bundle = mounted.bundle();
                KubeletVolume credentials = mounted.credentials();
                await().atMost(WAIT).until(() -> Files.exists(bundle.dir().resolve("bundle.yaml"))
                        && Files.readString(bundle.dir().resolve("bundle.yaml")).contains("name: alice." + NS)
                        && Files.readString(bundle.dir().resolve("bundle.yaml")).contains("name: claude-code")
                        && Files.exists(credentials.dir().resolve("anthropic-key.apiKey")));
                // the dev namespace's own reconciliation writes its credentials before alice's status: once that is there,
                // whatever the dev namespace would ever hold of provider keys is there too
                await().atMost(WAIT).until(() -> {
                    VirtualKey alice = client.resources(VirtualKey.class).inNamespace(NS).withName("alice").get();
                    return alice.getStatus() != null && alice.getStatus().conditions.stream().anyMatch(c -> "Ready".equals(c.getType()));
                });
                Secret devCredentials = client.secrets().inNamespace(NS).withName(Names.CREDENTIALS_SECRET).get();
                assertThat(devCredentials == null || devCredentials.getData() == null || devCredentials.getData().isEmpty())
                        .as("no provider key in the dev namespace").isTrue();

                try (Gateway gateway = Gateway.start(List.of(bundle.dir()), credentials.dir(), name -> null, "127.0.0.1", 0, 0)) {
                    String sharedUrl = "http://127.0.0.1:" + gateway.apiPort();
                    io.fabric8.kubernetes.api.model.PodSpec spec = new io.fabric8.kubernetes.api.model.PodSpecBuilder()
                            .addNewContainer().withName("devbox").withImage("devbox").endContainer().build();
                    var injector = new ai.finops.operator.inject.SidecarInjector(ai.finops.operator.inject.SidecarSettings.defaults()
                            .withMode(ai.finops.operator.inject.SidecarSettings.Mode.VIA_GATEWAY, sharedUrl));
                    assertThat(injector.inject(spec, Map.of(), new java.util.HashMap<>(Map.of("finops.ai/virtual-key", "alice")),
                            name -> client.resources(ai.finops.crds.VirtualKey.class).inNamespace(NS).withName(name).get().getSpec().secretRef)
                            .injected()).isTrue();
                    assertThat(spec.getVolumes()).noneMatch(v -> v.getSecret() != null);
                    List<String> args = spec.getInitContainers().get(0).getArgs();
                    String token = new String(Base64.getDecoder().decode(
                            client.secrets().inNamespace(NS).withName("vk-alice").get().getData().get("token")), StandardCharsets.UTF_8);

                    try (Gateway sidecar = Gateway.relay(java.net.URI.create(args.get(args.indexOf("--relay-to") + 1)), token,
                            "127.0.0.1", null, 0, 0)) {
                        AnthropicClient claudeCode = AnthropicOkHttpClient.builder().baseUrl("http://127.0.0.1:" + sidecar.apiPort() + "/anthropic")
                                .authToken(token).maxRetries(0).build();
                        assertThat(claudeCode.messages().create(sonnet()).content()).isNotEmpty();
                        assertThat(lastModel(simulator)).isEqualTo("claude-sonnet-4-6");
                        assertThat(gateway.metrics().scrape()).contains("virtual_key=\"alice." + NS + "\"");
                    }
                }
            }
        }
    }

    static String lastModel(Simulator simulator) {
        var requests = simulator.requests();
        String body = new String(requests.get(requests.size() - 1).body(), StandardCharsets.UTF_8);
        int at = body.indexOf("\"model\":\"") + 9;
        return body.substring(at, body.indexOf('"', at));
    }
}

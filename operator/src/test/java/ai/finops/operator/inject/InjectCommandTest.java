package ai.finops.operator.inject;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.crds.VirtualKey;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * {@code finops-operator inject} on golden files: {@code inject/<case>.yaml} gives {@code inject/<case>.out.yaml}
 * ({@code -Dfinops.updateGolden=true} rewrites them); injecting the output again changes nothing.
 */
class InjectCommandTest {
    /** The mock API server logs every request at INFO through java.util.logging; kept as a field so the level sticks. */
    private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    static final Path DIR = Path.of("src/test/resources/inject");

    static final String SHARED_GATEWAY = "http://finops-gateway.finops-system.svc:8080";

    static String run(Path input) {
        Run run = run(input, "--sidecar-gateway-url", SHARED_GATEWAY);
        assertThat(run.code()).as(run.err()).isZero();
        return run.out();
    }

    record Run(int code, String out, String err) {}

    static Run run(Path input, String... options) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("-f", input.toString(), "--resources", DIR.resolve("resources").toString()));
        args.addAll(java.util.List.of(options));
        return run(new InjectCommand(), args.toArray(String[]::new));
    }

    static Run run(InjectCommand command, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        command.err = new PrintStream(err, true, StandardCharsets.UTF_8);
        int code = new CommandLine(command).execute(args);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** {@code inject -f input} without {@code --resources}, with VirtualKeys read from the cluster {@code cluster} configures. */
    static Run runOnCluster(Path input, Supplier<Config> cluster) {
        InjectCommand command = new InjectCommand();
        command.cluster = cluster;
        return run(command, "-f", input.toString(), "--sidecar-gateway-url", SHARED_GATEWAY);
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev-pod", "user-env", "init-container", "opt-out", "deployment", "via-gateway"})
    void goldenAndIdempotent(String name, @org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        String injected = run(DIR.resolve(name + ".yaml"));
        Path golden = DIR.resolve(name + ".out.yaml");
        if (Boolean.getBoolean("finops.updateGolden")) {
            Files.writeString(golden, injected);
        }
        assertThat(injected).isEqualTo(Files.readString(golden));
        Path again = tmp.resolve("again.yaml");
        Files.writeString(again, injected);
        assertThat(run(again)).as("injecting twice changes nothing").isEqualTo(injected);
    }

    static Pod pod(String name) {
        return Serialization.unmarshal(run(DIR.resolve(name + ".yaml")), Pod.class);
    }

    @Test
    void theSidecarIsANativeSidecarOnLoopbackWithTheBundleMountedAsDirectories() {
        Pod pod = pod("dev-pod");
        Container sidecar = pod.getSpec().getInitContainers().get(0);
        assertThat(sidecar.getName()).isEqualTo("finops-gateway");
        assertThat(sidecar.getRestartPolicy()).isEqualTo("Always");
        assertThat(String.join(" ", sidecar.getArgs())).contains("--bind 127.0.0.1 --port 4000").contains("--admin-bind 0.0.0.0 --admin-port 4001");
        assertThat(sidecar.getStartupProbe().getHttpGet().getPath()).isEqualTo("/readyz");
        assertThat(sidecar.getVolumeMounts()).allSatisfy(m -> assertThat(m.getSubPath()).isNull());
        assertThat(sidecar.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(sidecar.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(sidecar.getSecurityContext().getRunAsUser()).as("numeric, so kubelet can verify runAsNonRoot").isEqualTo(65532L);
        assertThat(sidecar.getSecurityContext().getRunAsGroup()).isEqualTo(65532L);
        assertThat(sidecar.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        Map<String, EnvVar> env = pod.getSpec().getContainers().get(0).getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
        assertThat(env.get("ANTHROPIC_BASE_URL").getValue()).isEqualTo("http://127.0.0.1:4000/anthropic");
        assertThat(env.get("OPENAI_BASE_URL").getValue()).isEqualTo("http://127.0.0.1:4000/openai/v1");
        assertThat(env.get("ANTHROPIC_AUTH_TOKEN").getValueFrom().getSecretKeyRef().getName()).isEqualTo("vk-alice");
        assertThat(env.get("OPENAI_API_KEY").getValueFrom().getSecretKeyRef().getKey()).isEqualTo("token");
    }

    static Map<String, EnvVar> sidecarEnv(String output) {
        Pod pod = Serialization.unmarshal(output, Pod.class);
        return pod.getSpec().getInitContainers().get(0).getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
    }

    @Test
    void aDirectSidecarGetsItsNamespaceAndTheSharedCounterStoreWhenOneIsConfigured() {
        Map<String, EnvVar> embedded = sidecarEnv(run(DIR.resolve("dev-pod.yaml")));
        assertThat(embedded.get("FINOPS_NAMESPACE").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.namespace");
        assertThat(embedded).doesNotContainKeys("FINOPS_REDIS_URL", "FINOPS_REDIS_PASSWORD");

        Run run = run(DIR.resolve("dev-pod.yaml"), "--sidecar-redis-url", "redis://finops-redis.finops-system.svc:6379",
                "--sidecar-redis-password-secret", "redis-auth");
        assertThat(run.code()).as(run.err()).isZero();
        Map<String, EnvVar> shared = sidecarEnv(run.out());
        assertThat(shared.get("FINOPS_REDIS_URL").getValue()).isEqualTo("redis://finops-redis.finops-system.svc:6379");
        assertThat(shared.get("FINOPS_REDIS_PASSWORD").getValueFrom().getSecretKeyRef().getName()).isEqualTo("redis-auth");
        assertThat(shared.get("FINOPS_REDIS_PASSWORD").getValueFrom().getSecretKeyRef().getKey()).isEqualTo("password");

        // a relay charges nothing: it gets none of them
        Run relay = run(DIR.resolve("via-gateway.yaml"), "--sidecar-gateway-url", SHARED_GATEWAY, "--sidecar-redis-url", "redis://r:6379");
        assertThat(relay.code()).as(relay.err()).isZero();
        assertThat(sidecarEnv(relay.out())).doesNotContainKeys("FINOPS_NAMESPACE", "FINOPS_REDIS_URL", "FINOPS_REDIS_PASSWORD");
    }

    @Test
    void aVariableTheUserSetIsNeverOverwrittenAndTheirInitContainersRunAfterTheSidecar() {
        Pod pod = pod("user-env");
        EnvVar base = pod.getSpec().getContainers().get(0).getEnv().stream().filter(e -> e.getName().equals("ANTHROPIC_BASE_URL")).findFirst().get();
        assertThat(base.getValue()).isEqualTo("https://proxy.example.com/anthropic");
        assertThat(pod.getSpec().getContainers().get(1).getEnv()).extracting(EnvVar::getName).contains("ANTHROPIC_BASE_URL", "OPENAI_API_KEY");
        assertThat(String.join(" ", pod.getSpec().getInitContainers().get(0).getArgs())).contains("--port 5000");
        Pod withInit = pod("init-container");
        assertThat(withInit.getSpec().getInitContainers()).extracting(Container::getName).containsExactly("finops-gateway", "clone");
        assertThat(pod("opt-out").getSpec().getInitContainers()).isEmpty();
    }

    @Test
    void viaGatewayRelaysWithThePodsKeyAndMountsNoProviderCredential() {
        Pod pod = pod("via-gateway");
        Container sidecar = pod.getSpec().getInitContainers().get(0);
        assertThat(String.join(" ", sidecar.getArgs())).startsWith("--relay-to " + SHARED_GATEWAY + " --bind 127.0.0.1 --port 4000")
                .doesNotContain("--config").doesNotContain("--credentials");
        EnvVar key = sidecar.getEnv().stream().filter(e -> e.getName().equals("FINOPS_VIRTUAL_KEY")).findFirst().orElseThrow();
        assertThat(key.getValue()).isNull();
        assertThat(key.getValueFrom().getSecretKeyRef().getName()).isEqualTo("vk-alice");
        assertThat(sidecar.getVolumeMounts()).extracting(m -> m.getMountPath()).containsExactly("/tmp");
        assertThat(pod.getSpec().getVolumes()).extracting(v -> v.getName()).containsExactly("finops-tmp");
        assertThat(pod.getSpec().getVolumes()).allSatisfy(v -> assertThat(v.getSecret()).isNull());
        assertThat(sidecar.getResources().getRequests().get("cpu").toString()).isEqualTo("100m");
        assertThat(sidecar.getResources().getLimits().get("memory").toString()).isEqualTo("384Mi");
        Map<String, EnvVar> env = pod.getSpec().getContainers().get(0).getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
        assertThat(env.get("ANTHROPIC_BASE_URL").getValue()).isEqualTo("http://127.0.0.1:4000/anthropic");
        assertThat(env.get("ANTHROPIC_AUTH_TOKEN").getValueFrom().getSecretKeyRef().getName()).isEqualTo("vk-alice");
    }

    @Test
    void theChartsModeAppliesToEveryPodAndAnAnnotationSwitchesItBack(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Pod viaGateway = Serialization.unmarshal(run(DIR.resolve("dev-pod.yaml"), "--sidecar-mode", "via-gateway",
                "--sidecar-gateway-url", SHARED_GATEWAY).out(), Pod.class);
        assertThat(viaGateway.getSpec().getInitContainers().get(0).getArgs()).contains("--relay-to");
        Path direct = tmp.resolve("direct.yaml");
        Files.writeString(direct, Files.readString(DIR.resolve("dev-pod.yaml"))
                .replace("annotations: {finops.ai/virtual-key: alice}", "annotations: {finops.ai/virtual-key: alice, finops.ai/sidecar-mode: direct}"));
        Pod pod = Serialization.unmarshal(run(direct, "--sidecar-mode", "via-gateway", "--sidecar-gateway-url", SHARED_GATEWAY).out(), Pod.class);
        assertThat(pod.getSpec().getInitContainers().get(0).getArgs()).contains("--config").doesNotContain("--relay-to");
    }

    @Test
    void aPodThatCannotHaveWhatItAsksForIsLeftAloneWithTheReason(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Run noGateway = run(DIR.resolve("via-gateway.yaml"), new String[0]);
        assertThat(noGateway.code()).as("a pod that cannot be injected as asked fails the run").isEqualTo(1);
        assertThat(noGateway.err()).contains("via-gateway mode, but no shared gateway is configured");
        assertThat(Serialization.unmarshal(noGateway.out(), Pod.class).getSpec().getInitContainers()).isEmpty();
        Path typo = tmp.resolve("typo.yaml");
        Files.writeString(typo, Files.readString(DIR.resolve("via-gateway.yaml")).replace("sidecar-mode: via-gateway", "sidecar-mode: via_gateway"));
        Run unknownMode = run(typo, "--sidecar-gateway-url", SHARED_GATEWAY);
        assertThat(unknownMode.err()).contains("unknown sidecar mode 'via_gateway' (direct or via-gateway)");
        assertThat(Serialization.unmarshal(unknownMode.out(), Pod.class).getSpec().getInitContainers()).isEmpty();
        Files.writeString(typo, Files.readString(DIR.resolve("via-gateway.yaml")).replace("memory-limit: 384Mi", "memory-limit: lots"));
        assertThat(run(typo, "--sidecar-gateway-url", SHARED_GATEWAY).err()).contains("memory limit 'lots' is not a Kubernetes quantity");
        Files.writeString(typo, Files.readString(DIR.resolve("via-gateway.yaml")).replace("finops.ai/sidecar-cpu: 100m", "finops.ai/sidecar-memory: 1Gi"));
        assertThat(run(typo, "--sidecar-gateway-url", SHARED_GATEWAY).err()).contains("the sidecar's memory request 1Gi exceeds its limit 384Mi");
        Files.writeString(typo, Files.readString(DIR.resolve("via-gateway.yaml")).replace("finops.ai/sidecar-memory-limit: 384Mi",
                "finops.ai/sidecar-memory-limit: \"\""));
        Pod unlimited = Serialization.unmarshal(run(typo, "--sidecar-gateway-url", SHARED_GATEWAY).out(), Pod.class);
        assertThat(unlimited.getSpec().getInitContainers().get(0).getResources().getLimits()).as("an empty annotation drops the limit").isNullOrEmpty();
        Run badUrl = run(DIR.resolve("dev-pod.yaml"), "--sidecar-gateway-url", "http://finops_gateway:8080?x=1");
        assertThat(badUrl.code()).isEqualTo(2);
        assertThat(badUrl.err()).contains("sidecar settings rejected: the shared gateway URL");
    }

    @Test
    void documentsThatHoldNoPodPassThroughWithoutAWord(@TempDir Path tmp) throws Exception {
        Path mixed = Files.writeString(tmp.resolve("mixed.yaml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings}
                data: {editor: vim}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec: {ports: [{port: 80}]}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: alice}
                spec: {secretRef: {name: vk-alice}}
                ---
                """ + Files.readString(DIR.resolve("dev-pod.yaml")));
        Run run = run(mixed, "--sidecar-gateway-url", SHARED_GATEWAY);
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.err().lines()).as("one line per pod, none for the other documents")
                .singleElement().asString().startsWith("Pod/alice-dev: injected finops-gateway:0.1.0 (direct) with VirtualKey 'alice'");
        assertThat(documents(run.out())).extracting(HasMetadata::getKind).containsExactly("ConfigMap", "Service", "VirtualKey", "Pod");
    }

    static List<HasMetadata> documents(String yaml) {
        return Arrays.stream(yaml.split("(?m)^---\\s*$")).filter(d -> !d.isBlank()).map(d -> (HasMetadata) Serialization.unmarshal(d)).toList();
    }

    static final String NEEDS_ONE_OR_THE_OTHER =
            "inject needs --resources DIR (a folder with the VirtualKeys) or a reachable cluster to find VirtualKey 'alice': ";

    /** The configuration fabric8 finds on a machine with no kubeconfig, outside a pod. */
    static Config nothingConfigured(Path tmp) {
        Map<String, String> properties = Map.of(Config.KUBERNETES_KUBECONFIG_FILE, tmp.resolve("no-kubeconfig").toString(),
                Config.KUBERNETES_AUTH_TRYSERVICEACCOUNT_SYSTEM_PROPERTY, "false", Config.KUBERNETES_TRYNAMESPACE_PATH_SYSTEM_PROPERTY, "false");
        Map<String, String> before = new HashMap<>();
        properties.forEach((k, v) -> before.put(k, System.setProperty(k, v)));
        try {
            return Config.autoConfigure(null);
        } finally {
            before.forEach((k, v) -> {
                if (v == null) {
                    System.clearProperty(k);
                } else {
                    System.setProperty(k, v);
                }
            });
        }
    }

    @Test
    void aMissingFileOrOneThatIsNotYamlIsOneLineNotAStackTrace(@TempDir Path tmp) throws Exception {
        Run missing = run(tmp.resolve("absent.yaml"), new String[0]);
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err().strip()).isEqualTo("no such file: " + tmp.resolve("absent.yaml"));
        Path broken = Files.writeString(tmp.resolve("broken.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n");
        Run notYaml = run(broken, new String[0]);
        assertThat(notYaml.code()).isEqualTo(2);
        assertThat(notYaml.out()).isEmpty();
        assertThat(notYaml.err().lines()).singleElement().asString()
                .startsWith(broken + ": a document is not a Kubernetes manifest: ").doesNotContain("Exception", "\tat ");
    }

    @Test
    @Timeout(30)
    void withoutResourcesOrAReachableClusterItSaysItNeedsOneOrTheOther(@TempDir Path tmp) throws Exception {
        Run none = runOnCluster(DIR.resolve("dev-pod.yaml"), () -> nothingConfigured(tmp));
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        Config unreachable = Config.fromKubeconfig("""
                apiVersion: v1
                kind: Config
                clusters: [{name: gone, cluster: {server: "https://127.0.0.1:%d"}}]
                users: [{name: alice, user: {token: not-a-real-token}}]
                contexts: [{name: gone, context: {cluster: gone, user: alice, namespace: dev}}]
                current-context: gone
                """.formatted(closed));
        Run down = runOnCluster(DIR.resolve("dev-pod.yaml"), () -> unreachable);
        for (Run run : List.of(none, down)) {
            assertThat(run.code()).as(run.err()).isEqualTo(2);
            assertThat(run.out()).as("no half output").isEmpty();
            assertThat(run.err().lines()).as("one line, no stack trace").singleElement().asString().startsWith(NEEDS_ONE_OR_THE_OTHER)
                    .doesNotContain("Exception");
        }
        assertThat(none.err()).contains("no cluster is configured (no kubeconfig, and not running in a pod)");
        assertThat(down.err()).contains("https://127.0.0.1:" + closed + "/ cannot be reached (connection refused)");

        Run noKeyNeeded = runOnCluster(DIR.resolve("opt-out.yaml"), () -> nothingConfigured(tmp));
        assertThat(noKeyNeeded.code()).as("manifests whose pods name no VirtualKey need no cluster: " + noKeyNeeded.err()).isZero();
    }

    @Test
    void withoutResourcesTheVirtualKeyIsReadFromTheClusterInThePodsNamespace() {
        KubernetesMockServer server = new KubernetesMockServer(false);
        server.init();
        try {
            server.expect().get().withPath("/apis/finops.ai/v1alpha1/namespaces/dev/virtualkeys/alice")
                    .andReturn(200, Serialization.unmarshal("""
                            apiVersion: finops.ai/v1alpha1
                            kind: VirtualKey
                            metadata: {name: alice, namespace: dev}
                            spec: {secretRef: {name: vk-alice-in-cluster}}
                            """, VirtualKey.class)).always();
            Config config = new ConfigBuilder().withMasterUrl(server.url("/")).withTrustCerts(true).withNamespace("kubeconfig-namespace").build();
            Run run = runOnCluster(DIR.resolve("dev-pod.yaml"), () -> config);   // dev-pod.yaml is in namespace dev
            assertThat(run.code()).as(run.err()).isZero();
            Pod pod = Serialization.unmarshal(run.out(), Pod.class);
            EnvVar token = pod.getSpec().getContainers().get(0).getEnv().stream().filter(e -> e.getName().equals("ANTHROPIC_AUTH_TOKEN"))
                    .findFirst().orElseThrow();
            assertThat(token.getValueFrom().getSecretKeyRef().getName()).isEqualTo("vk-alice-in-cluster");
        } finally {
            server.destroy();
        }
    }
}

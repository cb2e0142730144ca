package ai.finops.operator.inject;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * {@code finops-operator inject} on golden files: {@code inject/<case>.yaml} gives {@code inject/<case>.out.yaml}
 * ({@code -Dfinops.updateGolden=true} rewrites them); injecting the output again changes nothing.
 */
class InjectCommandTest {
    static final Path DIR = Path.of("src/test/resources/inject");

    static final String SHARED_GATEWAY = "http://finops-gateway.finops-system.svc:8080";

    static String run(Path input) {
        Run run = run(input, "--sidecar-gateway-url", SHARED_GATEWAY);
        assertThat(run.code()).as(run.err()).isZero();
        return run.out();
    }

    record Run(int code, String out, String err) {}

    static Run run(Path input, String... options) {
        InjectCommand command = new InjectCommand();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        command.err = new PrintStream(err, true, StandardCharsets.UTF_8);
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("-f", input.toString(), "--resources", DIR.resolve("resources").toString()));
        args.addAll(java.util.List.of(options));
        int code = new CommandLine(command).execute(args.toArray(String[]::new));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
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
}

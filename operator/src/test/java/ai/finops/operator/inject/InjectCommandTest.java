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

    static String run(Path input) {
        InjectCommand command = new InjectCommand();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        command.err = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        int code = new CommandLine(command).execute("-f", input.toString(), "--resources", DIR.resolve("resources").toString());
        assertThat(code).isZero();
        return out.toString(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev-pod", "user-env", "init-container", "opt-out", "deployment"})
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
}

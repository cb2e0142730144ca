package ai.finops.operator.inject;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.crds.SecretKeyRef;
import ai.finops.testkit.TestCertificates;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@link SidecarInjector} writes into a pod spec for the settings it is given. */
class SidecarInjectorTest {
    static final String GATEWAY = "https://finops-gateway.finops-system.svc:8080";

    static PodSpec pod() {
        return new PodSpecBuilder().addNewContainer().withName("devbox").withImage("devbox").endContainer().build();
    }

    static SidecarInjector.Outcome inject(SidecarSettings settings, PodSpec spec) {
        return new SidecarInjector(settings).inject(spec, Map.of(), new HashMap<>(Map.of(SidecarInjector.VIRTUAL_KEY, "alice")),
                name -> new SecretKeyRef("vk-alice", null));
    }

    static Container sidecar(PodSpec spec) {
        return spec.getInitContainers().get(0);
    }

    static EnvVar env(Container c, String name) {
        return c.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst().orElse(null);
    }

    static SidecarSettings viaGateway(Path ca) {
        return SidecarSettings.defaults().withMode(SidecarSettings.Mode.VIA_GATEWAY, GATEWAY).withGatewayCaFile(ca);
    }

    @Test
    void aRelayToAnHttpsGatewayGetsTheCaFilesPemAndTheHttpsUrl(@TempDir Path dir) throws Exception {
        String pem = TestCertificates.selfSigned("finops-gateway-ca").certificatePem();
        Path ca = Files.writeString(dir.resolve("ca.crt"), pem);
        PodSpec spec = pod();
        assertThat(inject(viaGateway(ca), spec).injected()).isTrue();
        Container sidecar = sidecar(spec);
        assertThat(sidecar.getArgs()).containsSequence("--relay-to", GATEWAY);
        assertThat(env(sidecar, "FINOPS_RELAY_CA").getValue()).isEqualToIgnoringWhitespace(pem).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(spec.getVolumes()).as("a public CA needs no volume and no object in the pod's namespace")
                .noneMatch(v -> v.getSecret() != null || v.getConfigMap() != null);

        PodSpec direct = pod();
        assertThat(new SidecarInjector(viaGateway(ca)).inject(direct, Map.of(), new HashMap<>(Map.of(SidecarInjector.VIRTUAL_KEY, "alice",
                SidecarSettings.MODE_ANNOTATION, "direct")), name -> new SecretKeyRef("vk-alice", null)).injected()).isTrue();
        assertThat(env(sidecar(direct), "FINOPS_RELAY_CA")).as("a direct sidecar relays to no gateway").isNull();

        PodSpec trustStore = pod();
        assertThat(inject(viaGateway(null), trustStore).injected()).isTrue();
        assertThat(env(sidecar(trustStore), "FINOPS_RELAY_CA")).as("no CA configured: the JVM's trust store").isNull();
    }

    @Test
    void eachInjectionReadsTheCaFileSoARotatedCaReachesTheNextPod(@TempDir Path dir) throws Exception {
        String before = TestCertificates.selfSigned("ca-2025").certificatePem();
        String after = TestCertificates.selfSigned("ca-2026").certificatePem();
        Path ca = Files.writeString(dir.resolve("ca.crt"), before);
        SidecarInjector injector = new SidecarInjector(viaGateway(ca));
        PodSpec first = pod();
        assertThat(injector.inject(first, Map.of(), new HashMap<>(Map.of(SidecarInjector.VIRTUAL_KEY, "alice")),
                name -> new SecretKeyRef("vk-alice", null)).injected()).isTrue();
        Files.writeString(ca, after + before);      // the new CA and the old, as a bundle during the overlap
        PodSpec second = pod();
        assertThat(injector.inject(second, Map.of(), new HashMap<>(Map.of(SidecarInjector.VIRTUAL_KEY, "alice")),
                name -> new SecretKeyRef("vk-alice", null)).injected()).isTrue();
        assertThat(env(sidecar(first), "FINOPS_RELAY_CA").getValue()).isEqualToIgnoringWhitespace(before);
        assertThat(env(sidecar(second), "FINOPS_RELAY_CA").getValue()).isEqualToIgnoringWhitespace(after + before);
    }

    @Test
    void aCaFileThatIsMissingOrHoldsNoCertificateLeavesTheRelayUninjectedWithTheReason(@TempDir Path dir) throws Exception {
        PodSpec spec = pod();
        SidecarInjector.Outcome missing = inject(viaGateway(dir.resolve("ca.crt")), spec);
        assertThat(missing.injected()).isFalse();
        assertThat(missing.problem()).isTrue();
        assertThat(missing.reason()).contains("the shared gateway's CA file").contains("cannot be read");
        assertThat(spec.getInitContainers()).as("the spec is left as it was").isNullOrEmpty();
        assertThat(spec.getContainers().get(0).getEnv()).isNullOrEmpty();

        Path garbage = Files.writeString(dir.resolve("garbage.crt"), "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
        SidecarInjector.Outcome bad = inject(viaGateway(garbage), pod());
        assertThat(bad.problem()).isTrue();
        assertThat(bad.reason()).contains("holds no PEM certificate");

        PodSpec direct = pod();
        assertThat(inject(viaGateway(dir.resolve("ca.crt")).withMode(SidecarSettings.Mode.DIRECT, GATEWAY), direct).injected())
                .as("a direct sidecar needs no CA").isTrue();
    }

    @Test
    void aCaIsForAnHttpsGateway(@TempDir Path dir) {
        assertThatThrownBy(() -> SidecarSettings.defaults().withMode(SidecarSettings.Mode.VIA_GATEWAY, "http://finops-gateway:8080")
                .withGatewayCaFile(dir.resolve("ca.crt")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is for an https:// gateway URL");
    }

    @Test
    void withTracingEitherSidecarGetsTheOtelVariablesNamingItsPodAndWithoutItNone() {
        SidecarSettings.Tracing tracing = new SidecarSettings.Tracing("http://otel-collector.observability:4317", "grpc",
                "parentbased_traceidratio", "0.25");
        for (SidecarSettings settings : new SidecarSettings[] {SidecarSettings.defaults().withTracing(tracing),
                SidecarSettings.defaults().withMode(SidecarSettings.Mode.VIA_GATEWAY, GATEWAY).withTracing(tracing)}) {
            PodSpec spec = pod();
            assertThat(inject(settings, spec).injected()).isTrue();
            Container sidecar = sidecar(spec);
            assertThat(env(sidecar, "OTEL_EXPORTER_OTLP_ENDPOINT").getValue()).isEqualTo("http://otel-collector.observability:4317");
            assertThat(env(sidecar, "OTEL_EXPORTER_OTLP_PROTOCOL").getValue()).isEqualTo("grpc");
            assertThat(env(sidecar, "OTEL_TRACES_SAMPLER").getValue()).isEqualTo("parentbased_traceidratio");
            assertThat(env(sidecar, "OTEL_TRACES_SAMPLER_ARG").getValue()).isEqualTo("0.25");
            assertThat(env(sidecar, "OTEL_SERVICE_NAME").getValue()).isEqualTo("finops-sidecar");
            assertThat(env(sidecar, "FINOPS_POD_NAME").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");
            assertThat(env(sidecar, "FINOPS_POD_NAMESPACE").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.namespace");
            assertThat(env(sidecar, "OTEL_RESOURCE_ATTRIBUTES").getValue())
                    .isEqualTo("k8s.namespace.name=$(FINOPS_POD_NAMESPACE),k8s.pod.name=$(FINOPS_POD_NAME),k8s.container.name=finops-gateway");
            // kubelet expands $(VAR) only from variables defined before it
            java.util.List<String> names = sidecar.getEnv().stream().map(EnvVar::getName).toList();
            assertThat(names.indexOf("OTEL_RESOURCE_ATTRIBUTES")).isGreaterThan(names.indexOf("FINOPS_POD_NAME"))
                    .isGreaterThan(names.indexOf("FINOPS_POD_NAMESPACE"));
            assertThat(spec.getContainers().get(0).getEnv()).as("the app's own tracing is its own").noneMatch(e -> e.getName().startsWith("OTEL_"));
        }

        PodSpec sparse = pod();
        inject(SidecarSettings.defaults().withTracing(new SidecarSettings.Tracing("http://collector:4318", "", null, " ")), sparse);
        assertThat(sidecar(sparse).getEnv()).extracting(EnvVar::getName).contains("OTEL_EXPORTER_OTLP_ENDPOINT")
                .doesNotContain("OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG");

        for (SidecarSettings.Tracing off : new SidecarSettings.Tracing[] {SidecarSettings.Tracing.OFF,
                new SidecarSettings.Tracing("", "grpc", "always_on", "1")}) {
            PodSpec spec = pod();
            inject(SidecarSettings.defaults().withTracing(off), spec);
            assertThat(sidecar(spec).getEnv()).noneMatch(e -> e.getName().startsWith("OTEL_") || e.getName().startsWith("FINOPS_POD_"));
        }
        assertThatThrownBy(() -> new SidecarSettings.Tracing("collector:4317", null, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("OTLP endpoint");
    }
}

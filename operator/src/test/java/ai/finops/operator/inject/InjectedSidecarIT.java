package ai.finops.operator.inject;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.crds.SecretKeyRef;
import ai.finops.crds.validation.ResourceValidator;
import ai.finops.gateway.Gateway;
import ai.finops.gateway.config.GatewaySettings;
import ai.finops.gateway.observability.tracing.Tracing;
import ai.finops.testkit.ClaudeCodeFixtures;
import ai.finops.testkit.KubeletVolume;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import ai.finops.testkit.TestCertificates;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The injected sidecar as kubelet would run it: its own command line and environment, a local
 * process of the gateway jar; in direct mode on kubelet-style mounted bundle and credentials
 * folders, in via-gateway mode relaying to a shared gateway that has them. Either way the app
 * container's injected variables lead a Claude Code request from the fixtures to the provider.
 */
class InjectedSidecarIT {
    static final String TOKEN = "vk-alice-injected-0123456789";
    static final Set<String> RESTRICTED = Set.of("connection", "host", "content-length", "expect", "upgrade");

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The bundle both modes route by: Claude Code's alias rule to an Anthropic deployment, and alice's key. */
    static String bundle(Simulator simulator) {
        return """
                apiVersion: finops.ai/v1alpha1
                kind: ProviderDeployment
                metadata: {name: anthropic-prod}
                spec:
                  provider: anthropic
                  endpoint: %s
                  credentials: {secretRef: {name: anthropic-key}}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: claude-code-sonnet}
                spec:
                  when: 'model == "sonnet-model" && headers["user-agent"].startsWith("claude-cli")'
                  targets: [{model: anthropic-prod/claude-sonnet-4-6}]
                ---
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: alice}
                spec: {tokenSha256: %s}
                """.formatted(simulator.baseUrl(), ResourceValidator.sha256Hex(TOKEN));
    }

    /** Injects into a one-container pod; returns the spec. */
    static PodSpec injected(SidecarSettings settings) {
        PodSpec spec = new PodSpecBuilder().addNewContainer().withName("devbox").withImage("devbox").endContainer().build();
        Map<String, String> annotations = new HashMap<>(Map.of(SidecarInjector.VIRTUAL_KEY, "alice"));
        assertThat(new SidecarInjector(settings).inject(spec, Map.of(), annotations, name -> new SecretKeyRef("vk-alice", null)).injected()).isTrue();
        return spec;
    }

    @Test
    void theInjectedSidecarServesClaudeCodeFromTheMountedBundle(@TempDir Path tmp) throws Exception {
        int port = freePort();
        PodSpec spec = injected(new SidecarSettings("finops-gateway:test", port, freePort(), "INFO"));
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey("sk-ant-injected").build())) {
            KubeletVolume bundle = new KubeletVolume(tmp.resolve("bundle"));
            KubeletVolume credentials = new KubeletVolume(tmp.resolve("credentials"));
            bundle.write(Map.of("bundle.yaml", bundle(simulator).getBytes(StandardCharsets.UTF_8)));
            credentials.write(Map.of("anthropic-key.apiKey", "sk-ant-injected".getBytes(StandardCharsets.UTF_8)));
            serveClaudeCode(spec, tmp, Map.of("/etc/finops/bundle", bundle.dir().toString(), "/etc/finops/credentials", credentials.dir().toString()),
                    simulator, true);
        }
    }

    @Test
    void theInjectedViaGatewaySidecarRelaysClaudeCodeToTheSharedGateway(@TempDir Path tmp) throws Exception {
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey("sk-ant-injected").build())) {
            KubeletVolume bundle = new KubeletVolume(tmp.resolve("shared-bundle"));
            KubeletVolume credentials = new KubeletVolume(tmp.resolve("shared-credentials"));
            bundle.write(Map.of("bundle.yaml", bundle(simulator).getBytes(StandardCharsets.UTF_8)));
            credentials.write(Map.of("anthropic-key.apiKey", "sk-ant-injected".getBytes(StandardCharsets.UTF_8)));
            try (Gateway shared = Gateway.start(List.of(bundle.dir()), credentials.dir(), name -> null, "127.0.0.1", 0, 0)) {
                String sharedUrl = "http://127.0.0.1:" + shared.apiPort();
                PodSpec spec = injected(new SidecarSettings("finops-gateway:test", freePort(), freePort(), "INFO")
                        .withMode(SidecarSettings.Mode.VIA_GATEWAY, sharedUrl));
                assertThat(spec.getVolumes()).noneMatch(v -> v.getSecret() != null || v.getConfigMap() != null);
                // the client sends no key: the sidecar adds the one kubelet put in its environment
                serveClaudeCode(spec, tmp, Map.of(), simulator, false);
                assertThat(shared.metrics().scrape()).contains("virtual_key=\"alice\"");
            }
        }
    }

    @Test
    void theInjectedViaGatewaySidecarVerifiesTheSharedGatewaysTlsWithTheCaItWasHanded(@TempDir Path tmp) throws Exception {
        TestCertificates.Certificate ca = TestCertificates.selfSigned("finops-gateway-ca");
        TestCertificates.Certificate serving = TestCertificates.signedBy(ca, "127.0.0.1");
        Path cert = Files.writeString(tmp.resolve("tls.crt"), serving.certificatePem());
        Path key = Files.writeString(tmp.resolve("tls.key"), serving.privateKeyPem());
        // what the chart mounts into the operator: the ca.crt of the gateway's cert-manager Secret
        Path caFile = Files.writeString(tmp.resolve("ca.crt"), ca.certificatePem());
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey("sk-ant-injected").build())) {
            KubeletVolume bundle = new KubeletVolume(tmp.resolve("shared-bundle"));
            KubeletVolume credentials = new KubeletVolume(tmp.resolve("shared-credentials"));
            bundle.write(Map.of("bundle.yaml", bundle(simulator).getBytes(StandardCharsets.UTF_8)));
            credentials.write(Map.of("anthropic-key.apiKey", "sk-ant-injected".getBytes(StandardCharsets.UTF_8)));
            try (Gateway shared = Gateway.start(List.of(bundle.dir()), credentials.dir(), name -> null, "127.0.0.1", null, 0, 0,
                    Gateway.Governance.inMemory(), Tracing.OFF, new GatewaySettings.Tls(cert, key, false))) {
                SidecarSettings viaGateway = new SidecarSettings("finops-gateway:test", freePort(), freePort(), "INFO")
                        .withMode(SidecarSettings.Mode.VIA_GATEWAY, "https://127.0.0.1:" + shared.apiPort());
                PodSpec handed = injected(viaGateway.withGatewayCaFile(caFile));
                assertThat(handed.getInitContainers().get(0).getEnv()).anySatisfy(e -> assertThat(e.getName()).isEqualTo("FINOPS_RELAY_CA"));
                serveClaudeCode(handed, tmp, Map.of(), simulator, false);

                // without the CA, the sidecar's JVM trust store does not know the gateway's issuer: nothing is sent
                HttpResponse<String> refused = claudeCodeThroughSidecar(injected(viaGateway), tmp, Map.of(), false);
                assertThat(refused.statusCode()).as(refused.body()).isEqualTo(502);
                assertThat(refused.body()).containsIgnoringCase("certif");
                assertThat(simulator.requests()).as("only the verified relay's request reached the provider").hasSize(1);
            }
        }
    }

    /**
     * Runs the sidecar as kubelet would (its args, with {@code paths} mapped to local folders; its env,
     * secretKeyRefs resolved to the token) and sends Claude Code's captured request where the app
     * container's injected variables point, with the app's token when {@code sendKey}.
     */
    static void serveClaudeCode(PodSpec spec, Path tmp, Map<String, String> paths, Simulator simulator, boolean sendKey) throws Exception {
        HttpResponse<String> response = claudeCodeThroughSidecar(spec, tmp, paths, sendKey);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).contains("event: message_stop").doesNotContain("event: error");
        assertThat(new String(simulator.requests().get(0).body(), StandardCharsets.UTF_8)).contains("\"model\":\"claude-sonnet-4-6\"");
        Container sidecar = spec.getInitContainers().get(0);
        int port = Integer.parseInt(sidecar.getArgs().get(sidecar.getArgs().indexOf("--port") + 1));
        assertThat(spec.getContainers().get(0).getEnv()).anySatisfy(e -> assertThat(e.getName() + "=" + e.getValue())
                .isEqualTo("OPENAI_BASE_URL=http://127.0.0.1:" + port + "/openai/v1"));
    }

    /** The answer to Claude Code's captured request, sent through the sidecar run as {@link #serveClaudeCode} says; the sidecar stops after. */
    static HttpResponse<String> claudeCodeThroughSidecar(PodSpec spec, Path tmp, Map<String, String> paths, boolean sendKey) throws Exception {
        Container sidecar = spec.getInitContainers().get(0);
        Map<String, String> appEnv = new HashMap<>();
        for (EnvVar e : spec.getContainers().get(0).getEnv()) {
            appEnv.put(e.getName(), e.getValue() != null ? e.getValue() : TOKEN);   // the secretKeyRef, as kubelet resolves it
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                Path.of("../sidecar/target/finops-gateway.jar").toAbsolutePath().toString()));
        for (String arg : sidecar.getArgs()) {
            command.add(arg.equals("0.0.0.0") ? "127.0.0.1" : paths.getOrDefault(arg, arg));   // 0.0.0.0: the pod IP, here
        }
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(tmp.resolve("sidecar.log").toFile());
        pb.environment().remove("FINOPS_VIRTUAL_KEY");
        pb.environment().remove("FINOPS_RELAY_CA");
        // as kubelet resolves them: the pod's namespace for a fieldRef, the token for a secretKeyRef
        sidecar.getEnv().forEach(e -> pb.environment().put(e.getName(), e.getValue() != null ? e.getValue()
                : e.getValueFrom().getFieldRef() != null ? "dev" : TOKEN));
        Process process = pb.start();
        try {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            int adminPort = sidecar.getStartupProbe().getHttpGet().getPort().getIntVal();
            String probe = sidecar.getStartupProbe().getHttpGet().getPath();
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + adminPort + probe)).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200);

            ClaudeCodeFixtures.CapturedRequest captured = ClaudeCodeFixtures.load("turn1-request.json");
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(appEnv.get("ANTHROPIC_BASE_URL") + captured.path()))
                    .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofByteArray(captured.body()));
            captured.headers().forEach((name, value) -> {
                if (!RESTRICTED.contains(name) && !name.equals("authorization")) {
                    b.header(name, value);
                }
            });
            if (sendKey) {
                b.header("authorization", "Bearer " + appEnv.get("ANTHROPIC_AUTH_TOKEN"));
            }
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } finally {
            process.destroy();
            process.waitFor();
        }
    }
}

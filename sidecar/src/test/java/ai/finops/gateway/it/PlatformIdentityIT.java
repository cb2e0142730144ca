package ai.finops.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.crds.validation.ResourceValidator;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deployments without {@code credentials} use the platform's identity. The gateway jar runs as its
 * own process with the environment a pod would have (IRSA and Workload Identity set the same kind of
 * variables): the AWS SDK's default chain finds the keys in the environment, Google's Application
 * Default Credentials find the service account through {@code GOOGLE_APPLICATION_CREDENTIALS}. The
 * simulator checks the SigV4 signature and the OAuth token; the process's output never shows a secret.
 */
class PlatformIdentityIT {
    static final String TOKEN = "vk-platform-identity-0123456789";
    static final String AWS_SECRET = "platform/secret+from+the+environment";

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void bedrockAndVertexWithoutCredentialsUseTheDefaultChains(@TempDir Path dir) throws Exception {
        KeyPair keys = VertexIT.rsa();
        try (Simulator aws = Simulator.start(SimulatorOptions.builder().aws("AKIDPLATFORM", AWS_SECRET, "platform-session").build());
                Simulator gcp = Simulator.start(SimulatorOptions.builder().google(VertexIT.EMAIL, keys.getPublic(), Duration.ofHours(1)).build())) {
            Path saFile = dir.resolve("sa.json");
            Files.writeString(saFile, VertexIT.serviceAccountJson(keys, gcp));
            Path config = Files.createDirectories(dir.resolve("config"));
            Files.writeString(config.resolve("resources.yaml"), """
                    apiVersion: finops.ai/v1alpha1
                    kind: ProviderDeployment
                    metadata: {name: bedrock-irsa}
                    spec:
                      provider: bedrock
                      endpoint: %s
                      bedrock: {region: eu-west-1}
                    ---
                    apiVersion: finops.ai/v1alpha1
                    kind: ProviderDeployment
                    metadata: {name: vertex-wi}
                    spec:
                      provider: vertex
                      endpoint: %s
                      vertex: {projectId: %s, region: global}
                    ---
                    apiVersion: finops.ai/v1alpha1
                    kind: VirtualKey
                    metadata: {name: dev}
                    spec: {tokenSha256: %s}
                    """.formatted(aws.baseUrl(), gcp.baseUrl(), VertexIT.PROJECT, ResourceValidator.sha256Hex(TOKEN)));
            int port = freePort();
            int admin = freePort();
            Path log = dir.resolve("gateway.log");
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-jar", Path.of("target/finops-gateway.jar").toAbsolutePath().toString(),
                    "--config", config.toString(), "--port", String.valueOf(port), "--admin-port", String.valueOf(admin), "--bind", "127.0.0.1")
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            Map<String, String> env = pb.environment();
            env.put("AWS_ACCESS_KEY_ID", "AKIDPLATFORM");
            env.put("AWS_SECRET_ACCESS_KEY", AWS_SECRET);
            env.put("AWS_SESSION_TOKEN", "platform-session");
            env.put("AWS_EC2_METADATA_DISABLED", "true");
            env.put("AWS_CONFIG_FILE", dir.resolve("none").toString());
            env.put("AWS_SHARED_CREDENTIALS_FILE", dir.resolve("none").toString());
            env.put("GOOGLE_APPLICATION_CREDENTIALS", saFile.toString());
            Process gateway = pb.start();
            try {
                HttpClient http = HttpClient.newHttpClient();
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + admin + "/readyz")).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
                for (String model : List.of("bedrock/global.anthropic.claude-haiku-4-6", "vertex/claude-haiku-4-6")) {
                    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/messages"))
                            .header("authorization", "Bearer " + TOKEN).header("content-type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + model
                                    + "\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(response.statusCode()).as(model + ": " + response.body()).isEqualTo(200);
                }
                assertThat(aws.requests().get(0).headers().get("authorization")).contains("Credential=AKIDPLATFORM/").contains("/eu-west-1/bedrock/");
                assertThat(aws.requests().get(0).headers().get("x-amz-security-token")).isEqualTo("platform-session");
                assertThat(gcp.tokensIssued()).isEqualTo(1);
            } finally {
                gateway.destroy();
                gateway.waitFor();
            }
            String output = Files.readString(log);
            assertThat(output).contains("configuration loaded").doesNotContain(AWS_SECRET).doesNotContain("PRIVATE KEY").doesNotContain(TOKEN);
        }
    }
}

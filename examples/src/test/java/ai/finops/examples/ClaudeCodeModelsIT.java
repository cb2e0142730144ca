package ai.finops.examples;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.gateway.Gateway;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every example that routes serves what Claude Code asks for: its two aliases ({@code sonnet-model},
 * {@code haiku-model}, as in {@code ANTHROPIC_DEFAULT_SONNET_MODEL}/{@code ANTHROPIC_DEFAULT_HAIKU_MODEL})
 * and the Claude models it names by default or on {@code /model}, asked of the gateway's {@code /explain}.
 * The Secrets that live in the cluster are added beside the example's files, as the operator's bundle
 * would carry them.
 */
class ClaudeCodeModelsIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String CLAUDE_CLI = "claude-cli/2.1.328 (external, sdk-cli)";
    static final Map<String, String> ENV = Map.of("ANTHROPIC_API_KEY", "sk-ant-example", "FINOPS_DEV_KEY", "vk-example-0123456789abcdef");
    /** What a cluster holds beside a Kubernetes example: the provider key and the generated VirtualKey token. */
    static final String CLUSTER_SECRETS = """
            apiVersion: v1
            kind: Secret
            metadata: {name: anthropic-api}
            stringData: {apiKey: sk-ant-example}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: vk-alice}
            stringData: {token: vk-alice-0123456789abcdef}
            """;
    static final String ALICE = """
            ---
            apiVersion: finops.ai/v1alpha1
            kind: VirtualKey
            metadata: {name: alice}
            spec: {secretRef: {name: vk-alice}}
            """;

    static Stream<Arguments> examples() {
        return Stream.of(
                Arguments.of(List.of("local/providers.yaml", "local/routing.yaml", "local/keys.yaml"), "", "dev"),
                Arguments.of(List.of("anthropic/providers.yaml"), "", "dev"),
                Arguments.of(List.of("kubernetes/resources.yaml"), CLUSTER_SECRETS, "alice"),
                Arguments.of(List.of("gitops/resources/providers.yaml", "gitops/resources/rules.yaml", "gitops/resources/keys.yaml"),
                        CLUSTER_SECRETS, "alice"),
                // the shared gateway's namespace; alice's VirtualKey comes from the dev namespace
                Arguments.of(List.of("via-gateway/shared-gateway.yaml"), CLUSTER_SECRETS + ALICE, "alice"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void claudeCodesAliasesAndDefaultModelsAreServed(List<String> files, String cluster, String key, @TempDir Path config)
            throws Exception {
        for (String file : files) {
            Files.copy(Path.of(file), config.resolve(file.replace('/', '-')));
        }
        if (!cluster.isEmpty()) {
            Files.writeString(config.resolve("cluster.yaml"), cluster);
        }
        Gateway gateway = Gateway.start(List.of(config), ENV::get, "127.0.0.1", 0, 0);
        try {
            HttpClient http = HttpClient.newHttpClient();
            String admin = "http://127.0.0.1:" + gateway.adminPort() + "/explain";
            Map<String, String> aliases = Map.of("sonnet-model", "claude-sonnet-4-6", "haiku-model", "claude-haiku-4-6");
            for (Map.Entry<String, String> alias : aliases.entrySet()) {
                JsonNode answer = explain(http, admin, alias.getKey(), key);
                assertThat(answer.path("rule").isTextual()).as(files + " " + alias.getKey() + ": " + answer).isTrue();
                assertThat(answer.path("attempts").path(0).path("providerModel").asText()).as(files + " " + answer)
                        .isEqualTo(alias.getValue());
            }
            for (String model : List.of("claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5", "claude-sonnet-4-5")) {
                JsonNode answer = explain(http, admin, model, key);
                assertThat(answer.has("error")).as(files + " " + model + ": " + answer).isFalse();
                assertThat(answer.path("attempts").path(0).path("providerModel").asText()).as(files + " " + answer).isEqualTo(model);
            }
        } finally {
            gateway.close();
        }
    }

    static JsonNode explain(HttpClient http, String url, String model, String key) throws Exception {
        String body = JSON.writeValueAsString(Map.of("model", model, "virtualKey", key, "headers", Map.of("user-agent", CLAUDE_CLI)));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }
}

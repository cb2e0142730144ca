package ai.finops.examples;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.crds.validation.Problem;
import ai.finops.gateway.Gateway;
import ai.finops.gateway.config.ConfigService;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.MessageCreateParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every example folder is valid as the gateway loads it, and the quick start works as the README says. */
class ExamplesIT {
    /** Example folders that are not a gateway configuration (tested by their own tests). */
    static final java.util.Set<String> NOT_GATEWAY_CONFIG = java.util.Set.of("argocd", "kubernetes", "gitops", "dev-pod", "via-gateway");

    static final Map<String, String> ENV = Map.of("ANTHROPIC_API_KEY", "sk-ant-example", "FINOPS_DEV_KEY", "vk-example-0123456789abcdef");

    static Stream<Path> folders() throws Exception {
        try (Stream<Path> dirs = Files.list(Path.of("."))) {
            return dirs.filter(Files::isDirectory)
                    .filter(d -> !NOT_GATEWAY_CONFIG.contains(d.getFileName().toString()))
                    .filter(d -> {
                        try (Stream<Path> files = Files.list(d)) {
                            return files.anyMatch(f -> f.toString().endsWith(".yaml"));
                        } catch (Exception e) {
                            return false;
                        }
                    })
                    .sorted()
                    .toList()
                    .stream();
        }
    }

    @ParameterizedTest
    @MethodSource("folders")
    void everyExampleIsValid(Path folder) {
        List<Problem> problems = ConfigService.validate(List.of(folder), null, ENV::get);
        assertThat(problems).as(folder.toString()).isEmpty();
    }

    @Test
    void theQuickStartServesClaudeCodesAlias(@TempDir Path config) throws Exception {
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey("sim-provider-key").build())) {
            try (Stream<Path> files = Files.list(Path.of("local"))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
                    Files.writeString(config.resolve(f.getFileName()), Files.readString(f).replace("http://127.0.0.1:9999", simulator.baseUrl()));
                }
            }
            Gateway gateway = Gateway.start(List.of(config), name -> null, "127.0.0.1", 0, 0);
            try {
                AnthropicClient client = AnthropicOkHttpClient.builder()
                        .baseUrl("http://127.0.0.1:" + gateway.apiPort() + "/anthropic")
                        .authToken("vk-local-dev-0123456789abcdef")
                        .putHeader("user-agent", "claude-cli/2.1.328 (external, sdk-cli)")
                        .maxRetries(0)
                        .build();
                MessageAccumulator acc = MessageAccumulator.create();
                try (var stream = client.messages().createStreaming(MessageCreateParams.builder()
                        .model("sonnet-model").maxTokens(256).addUserMessage("hello").build())) {
                    stream.stream().forEach(acc::accumulate);
                }
                assertThat(acc.message().content()).isNotEmpty();
                assertThat(new String(simulator.requests().get(0).body())).contains("\"model\":\"claude-sonnet-4-6\"");
            } finally {
                gateway.close();
            }
        }
    }
}

package ai.finops.examples;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.crds.ResourceYaml;
import ai.finops.crds.validation.Problem;
import ai.finops.gateway.Gateway;
import ai.finops.gateway.Main;
import ai.finops.gateway.config.ConfigService;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.MessageCreateParams;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

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

    /**
     * Every folder under examples/ that holds finops.ai resources, however deep, except the inputs of
     * tests ({@code testdata}, such as the Argo CD health checks' resources with a status).
     */
    static List<Path> resourceFolders() throws Exception {
        try (Stream<Path> all = Files.walk(Path.of("."))) {
            return all.filter(Files::isDirectory)
                    .map(d -> Path.of(".").relativize(d))
                    .filter(d -> !d.toString().isEmpty() && !d.startsWith("src") && !d.startsWith("target"))
                    .filter(d -> java.util.stream.StreamSupport.stream(d.spliterator(), false).noneMatch(p -> p.toString().equals("testdata")))
                    .filter(ExamplesIT::holdsFinopsResources)
                    .sorted()
                    .toList();
        }
    }

    private static boolean holdsFinopsResources(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                    .flatMap(f -> ResourceYaml.readAll(f).documents().stream())
                    .anyMatch(d -> d.apiVersion() != null && d.apiVersion().startsWith("finops.ai/"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void theResourceFoldersAreFound() throws Exception {
        assertThat(resourceFolders()).extracting(Path::toString)
                .contains("local", "anthropic", "kubernetes", "gitops/resources", "via-gateway")
                .doesNotContain("gitops", "dev-pod", "argocd");
    }

    /** As a GitOps repository's CI runs it: Secrets that live in the cluster are not in the folder. */
    @ParameterizedTest
    @MethodSource("resourceFolders")
    void everyResourceFolderValidatesWithClusterSecrets(Path folder) {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute("validate", "--cluster-secrets", folder.toString());
        assertThat(out.toString()).as(folder + ", notes: " + err).startsWith("ok");
        assertThat(code).isZero();
        if (List.of("kubernetes", "gitops/resources", "via-gateway").contains(folder.toString())) {
            assertThat(err.toString()).contains("assumed to exist in the cluster: anthropic-api, vk-alice");
        }
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

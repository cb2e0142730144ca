package ai.finops.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.gateway.Main;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code validate DIR}: the CI check for GitOps repositories. */
class ValidateCommandTest {

    private static Result run(String... args) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        PrintStream previous = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int code = new CommandLine(new Main()).execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(previous);
        }
    }

    record Result(int code, String output) {}

    @Test
    void theLocalExampleIsValid() {
        Result r = run("validate", "../examples/local");
        assertThat(r.output()).startsWith("ok");
        assertThat(r.code()).isZero();
    }

    @Test
    void everyProblemOfABrokenFolderIsListed(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("broken.yaml"), """
                apiVersion: finops.ai/v1alpha1
                kind: ProviderDeployment
                metadata: {name: vertx}
                spec:
                  provider: vertx
                  timeouts: {connect: soon}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: bad-rule}
                spec:
                  when: 'model == '
                  targets: [{model: nowhere/claude-sonnet-4-6, weight: -1}]
                ---
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: alice}
                spec:
                  secretRef: {name: missing-secret}
                  budget: {limitUsd: "lots"}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: GatewaySettings
                metadata: {name: gateway}
                maxBodySize: huge
                """);
        Result r = run("validate", dir.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.output())
                .contains("ProviderDeployment/vertx: spec.provider")
                .contains("ProviderDeployment/vertx: spec.timeouts.connect")
                .contains("RoutingRule/bad-rule: spec.when")
                .contains("RoutingRule/bad-rule: spec.targets[0]")
                .contains("VirtualKey/alice: spec.secretRef")
                .contains("VirtualKey/alice: spec.budget.limitUsd")
                .contains("maxBodySize")
                .containsPattern("\\d+ problem\\(s\\)");
    }

    @Test
    void secretsFromUnsetEnvironmentVariablesAreProblemsUnlessSkipped(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("secret.yaml"), """
                apiVersion: finops.ai/v1alpha1
                kind: ProviderDeployment
                metadata: {name: anthropic}
                spec:
                  provider: anthropic
                  credentials: {secretRef: {name: anthropic-api}}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: anthropic-api}
                stringData: {apiKey: "${FINOPS_TEST_SURELY_UNSET_VARIABLE}"}
                """);
        Result r = run("validate", dir.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.output()).contains("FINOPS_TEST_SURELY_UNSET_VARIABLE");
        assertThat(run("validate", "--no-env", dir.toString()).code()).isZero();
    }

    @Test
    void severalFoldersAreOneConfiguration(@TempDir Path dir) throws Exception {
        Path providers = Files.createDirectories(dir.resolve("providers"));
        Path keys = Files.createDirectories(dir.resolve("keys"));
        Files.writeString(providers.resolve("anthropic.yaml"), """
                apiVersion: finops.ai/v1alpha1
                kind: ProviderDeployment
                metadata: {name: anthropic-main}
                spec: {provider: anthropic, endpoint: "http://127.0.0.1:9"}
                """);
        Files.writeString(keys.resolve("alice.yaml"), """
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: alice}
                spec: {secretRef: {name: vk-alice}, allow: {providers: [anthropic-main]}}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: vk-alice}
                stringData: {token: vk-alice-0123456789abcdef}
                """);
        assertThat(run("validate", keys.toString()).code()).as("alone, the key names a provider that is not there").isEqualTo(1);
        Result both = run("validate", providers.toString(), keys.toString());
        assertThat(both.output()).startsWith("ok");
        assertThat(both.code()).isZero();
    }

    @Test
    void aYamlSyntaxErrorNamesTheFile(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("syntax.yaml"), "kind: RoutingRule\nspec: [unclosed\n");
        Result r = run("validate", dir.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.output()).contains("syntax.yaml");
    }
}

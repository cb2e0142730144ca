package ai.finops.crds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.crds.validation.Problem;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResourceYamlTest {
    static Path example() throws Exception {
        return Path.of(ResourceYamlTest.class.getResource("/design-example.yaml").toURI());
    }

    @Test
    void readsTheDesignExample() throws Exception {
        ResourceYaml.Result r = ResourceYaml.readAll(example());
        assertThat(r.problems()).isEmpty();
        assertThat(r.documents()).extracting(ParsedDocument::kind).containsExactly(
                "ProviderDeployment", "ProviderDeployment", "RoutingRule", "VirtualKey", "Secret", "Secret", "Secret", "GatewaySettings",
                "Budget");
        ProviderDeployment vertex = r.resources(ProviderDeployment.class).get(0);
        assertThat(vertex.getMetadata().getName()).isEqualTo("vertex-prod");
        assertThat(vertex.getSpec().vertex).containsEntry("projectId", "my-proj");
        assertThat(vertex.getSpec().models.get(0).pricing.outputPerMTok).isEqualTo("15.00");
        assertThat(vertex.getSpec().timeouts.firstByte).isEqualTo("600s");
        RoutingRule rule = r.resources(RoutingRule.class).get(0);
        assertThat(rule.getSpec().targets.get(0).model).isEqualTo("vertex/claude-sonnet-4-6");
        assertThat(rule.getSpec().when).startsWith("model == \"sonnet-model\"");
        VirtualKey alice = r.resources(VirtualKey.class).get(0);
        assertThat(alice.getSpec().expiresAt).isEqualTo("2027-01-01T00:00:00Z");
        assertThat(alice.getSpec().rateLimits.tokensPerMinute).isEqualTo(400000);
        assertThat(alice.getSpec().rateLimits.maxConcurrentRequests).isEqualTo(4);
        assertThat(alice.getSpec().budget.timeZone).isEqualTo("Europe/Paris");
        Budget budget = r.resources(Budget.class).get(0);
        assertThat(budget.getMetadata().getName()).isEqualTo("platform-opus");
        assertThat(budget.getSpec().scope.teams).containsExactly("platform");
        assertThat(budget.getSpec().scope.virtualKeys).containsExactly("alice");
        assertThat(budget.getSpec().scope.models).containsExactly("claude-opus-*");
        assertThat(budget.getSpec().limitUsd).isEqualTo("2000.00");
        assertThat(budget.getSpec().period).isEqualTo("Quarterly");
        assertThat(budget.getSpec().timeZone).isEqualTo("Europe/Paris");
        assertThat(budget.getSpec().action).isEqualTo("Warn");
        assertThat(budget.getSpec().alertAtPercent).containsExactly(50, 80, 95);
        ParsedDocument settings = r.ofKind("GatewaySettings").get(0);
        assertThat(settings.resource()).isInstanceOf(JsonNode.class);
        assertThat(settings.tree().path("listen").path("port").asInt()).isEqualTo(8080);
        assertThat(r.documents().get(2).line()).isEqualTo(24);
        assertThat(r.documents().get(2).source()).endsWith("design-example.yaml");
    }

    @Test
    void secretsDecodeDataAndKeepStringData() throws Exception {
        ResourceYaml.Result r = ResourceYaml.readAll(example());
        List<ResourceYaml.SecretValues> secrets = r.resources(ResourceYaml.SecretValues.class);
        assertThat(secrets).extracting(ResourceYaml.SecretValues::name).containsExactly("gcp-sa", "anthropic-key", "vk-alice");
        assertThat(secrets.get(2).values()).containsEntry("token", "sk-alice-0123456789abcdef");
        assertThat(secrets.get(1).values()).containsEntry("apiKey", "${ANTHROPIC_API_KEY}"); // not expanded while reading
        assertThat(secrets.get(2).toString()).doesNotContain("sk-alice");
        assertThat(r.documents().get(6).toString()).doesNotContain("sk-alice").doesNotContain("c2st");
    }

    @Test
    void toResourceSetExpandsEnvInSecrets() throws Exception {
        List<Problem> problems = new ArrayList<>();
        ResourceSet set = ResourceYaml.readAll(example()).toResourceSet(
                Map.of("ANTHROPIC_API_KEY", "sk-ant-secret-value")::get, ResourceSet.SecretChecks.ALL, problems);
        assertThat(problems).isEmpty();
        assertThat(set.secrets().get("anthropic-key")).containsEntry("apiKey", "sk-ant-secret-value");
        assertThat(set.deployments()).hasSize(2);
        assertThat(set.rules()).hasSize(1);
        assertThat(set.keys()).hasSize(1);
        assertThat(set.toString()).doesNotContain("sk-ant");

        List<Problem> unset = new ArrayList<>();
        ResourceYaml.readAll(example()).toResourceSet(name -> null, ResourceSet.SecretChecks.ALL, unset);
        assertThat(unset).singleElement().satisfies(p -> {
            assertThat(p.kind()).isEqualTo("Secret");
            assertThat(p.name()).isEqualTo("anthropic-key");
            assertThat(p.field()).isEqualTo("stringData.apiKey");
            assertThat(p.message()).contains("ANTHROPIC_API_KEY is not set").contains("design-example.yaml:");
        });
    }

    @Test
    void unknownFieldNamesPathAndLine() {
        String yaml = """
                apiVersion: finops.ai/v1alpha1
                kind: ProviderDeployment
                metadata: {name: pd}
                spec:
                  provider: anthropic
                  models:
                    - name: m
                      pricing: {inputPerMtok: "1.00"}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: ok}
                spec:
                  targets: [{model: m}]
                """;
        ResourceYaml.Result r = ResourceYaml.read(yaml, "pd.yaml");
        assertThat(r.problems()).singleElement().satisfies(p -> {
            assertThat(p.kind()).isEqualTo("ProviderDeployment");
            assertThat(p.name()).isEqualTo("pd");
            assertThat(p.field()).isEqualTo("spec.models[0].pricing.inputPerMtok");
            assertThat(p.message()).startsWith("pd.yaml:8:").contains("unknown field 'inputPerMtok'").contains("inputPerMTok");
        });
        // the document after the bad one is still read
        assertThat(r.resources(RoutingRule.class)).singleElement()
                .satisfies(rr -> assertThat(rr.getMetadata().getName()).isEqualTo("ok"));
    }

    @Test
    void topLevelTypoAndWrongTypes() {
        String yaml = """
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: a}
                sepc: {}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: b}
                spec: {priority: 1.5, targets: [{model: m}]}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: c}
                spec: {targets: [{model: m, weight: lots}]}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: d}
                spec: {targets: [{model: m}]}
                """;
        ResourceYaml.Result r = ResourceYaml.read(yaml, "rules.yaml");
        assertThat(r.problems()).hasSize(3);
        assertThat(r.problems().get(0).field()).isEqualTo("sepc");
        assertThat(r.problems().get(0).message()).contains("rules.yaml:4:").contains("unknown field 'sepc'");
        assertThat(r.problems().get(1).field()).isEqualTo("spec.priority");
        assertThat(r.problems().get(1).message()).contains("rules.yaml:9:");
        assertThat(r.problems().get(2).field()).isEqualTo("spec.targets[0].weight");
        assertThat(r.problems().get(2).message()).contains("'lots'").contains("an integer");
        assertThat(r.resources(RoutingRule.class)).extracting(x -> x.getMetadata().getName()).containsExactly("d");
    }

    @Test
    void kindsAndApiVersions() {
        String yaml = """
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKye
                metadata: {name: a}
                ---
                apiVersion: finops.ai/v1
                kind: VirtualKey
                metadata: {name: b}
                ---
                kind: VirtualKey
                metadata: {name: c}
                ---
                metadata: {name: d}
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: e}
                ---
                apiVersion: v2
                kind: Secret
                metadata: {name: f}
                ---
                - just a list
                """;
        ResourceYaml.Result r = ResourceYaml.read(yaml, "x.yaml");
        assertThat(r.problems()).extracting(Problem::toString).satisfiesExactly(
                p -> assertThat(p).startsWith("VirtualKye/a: kind: x.yaml:1: unknown kind 'VirtualKye'"),
                p -> assertThat(p).startsWith("VirtualKey/b: apiVersion: x.yaml:5: apiVersion 'finops.ai/v1' is not supported; expected finops.ai/v1alpha1"),
                p -> assertThat(p).startsWith("VirtualKey/c: apiVersion: x.yaml:9: missing apiVersion"),
                p -> assertThat(p).startsWith("d: kind: x.yaml:12: missing kind"),
                p -> assertThat(p).contains("expected v1"),
                p -> assertThat(p).contains("is not a mapping"));
        assertThat(r.documents()).singleElement().satisfies(d -> assertThat(d.kind()).isEqualTo("Deployment"));
    }

    @Test
    void budgetMistakesNameFieldAndLine() {
        String yaml = """
                apiVersion: finops.ai/v1alpha1
                kind: Budget
                metadata: {name: team-a}
                spec:
                  limitUsd: "100.00"
                  period: Monthly
                  alertAtPercent: [50, eighty]
                ---
                apiVersion: finops.ai/v1alpha1
                kind: Budget
                metadata: {name: team-b}
                spec:
                  limitUsd: "100.00"
                  duration: 7d
                  scope: {team: [platform]}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: Budget
                metadata: {name: team-c}
                spec:
                  action: [Block]
                  limitUsd: "1"
                ---
                apiVersion: finops.ai/v1
                kind: Budget
                metadata: {name: team-d}
                spec: {limitUsd: "1", period: Daily}
                """;
        ResourceYaml.Result r = ResourceYaml.read(yaml, "budgets.yaml");
        assertThat(r.problems()).extracting(Problem::toString).satisfiesExactly(
                p -> assertThat(p).startsWith("Budget/team-a: spec.alertAtPercent[1]: budgets.yaml:7:").contains("'eighty'")
                        .contains("expected an integer"),
                p -> assertThat(p).startsWith("Budget/team-b: spec.scope.team: budgets.yaml:15:").contains("unknown field 'team'")
                        .contains("[models, teams, virtualKeys]"),
                p -> assertThat(p).startsWith("Budget/team-c: spec.action: budgets.yaml:21:").contains("expected a string"),
                p -> assertThat(p).startsWith("Budget/team-d: apiVersion: budgets.yaml:24: apiVersion 'finops.ai/v1' is not supported"));
        assertThat(r.documents()).isEmpty();
    }

    @Test
    void emptyDocumentsAreSkipped() {
        String yaml = """
                ---
                # only a comment
                ---
                ---
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: a}
                spec: {targets: [{model: m}]}
                ---
                """;
        ResourceYaml.Result r = ResourceYaml.read(yaml, "e.yaml");
        assertThat(r.problems()).isEmpty();
        assertThat(r.documents()).singleElement().satisfies(d -> assertThat(d.line()).isEqualTo(5));
        assertThat(ResourceYaml.read("", "empty.yaml").documents()).isEmpty();
        assertThat(ResourceYaml.read("", "empty.yaml").problems()).isEmpty();
    }

    @Test
    void syntaxErrorsNeverQuoteTheText() {
        String yaml = """
                apiVersion: v1
                kind: Secret
                metadata: {name: s}
                stringData:
                  token: "sk-very-secret-token
                """;
        ResourceYaml.Result r = ResourceYaml.read(yaml, "s.yaml");
        assertThat(r.problems()).singleElement().satisfies(p -> {
            assertThat(p.message()).startsWith("s.yaml:").contains("YAML syntax error");
            assertThat(p.toString()).doesNotContain("sk-very-secret");
        });
        ResourceYaml.Result bad = ResourceYaml.read("a: [b\nc: d: e\n", "bad.yaml");
        assertThat(bad.problems()).singleElement().satisfies(p -> assertThat(p.message()).startsWith("bad.yaml:"));
    }

    @Test
    void duplicateKeysAreProblems() {
        String yaml = """
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: a}
                spec:
                  when: 'model == "a"'
                  when: 'model == "b"'
                  targets: [{model: m}]
                """;
        ResourceYaml.Result r = ResourceYaml.read(yaml, "dup.yaml");
        assertThat(r.problems()).singleElement().satisfies(p -> assertThat(p.message()).contains("dup.yaml:").containsIgnoringCase("duplicate"));
    }

    @Test
    void secretProblemsNeverQuoteValues() {
        String yaml = """
                apiVersion: v1
                kind: Secret
                metadata: {name: s}
                data: {a: "not base64 sk-leak!!"}
                stringData: {b: 012345, c: "fine"}
                extra: 1
                """;
        ResourceYaml.Result r = ResourceYaml.read(yaml, "s.yaml");
        assertThat(r.problems()).extracting(Problem::field).containsExactlyInAnyOrder("extra", "data.a", "stringData.b");
        assertThat(r.problems()).allSatisfy(p -> assertThat(p.toString()).doesNotContain("sk-leak").doesNotContain("012345"));
        assertThat(r.documents()).isEmpty();
    }

    @Test
    void duplicateSecretsAcrossFiles(@TempDir Path dir) throws Exception {
        String secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: v}\n";
        Files.writeString(dir.resolve("a.yaml"), secret);
        Files.writeString(dir.resolve("b.yml"), secret);
        Files.writeString(dir.resolve(".hidden.yaml"), "this: is [not read");
        Files.writeString(dir.resolve("notes.txt"), "this: is [not read");
        ResourceYaml.Result r = ResourceYaml.readDirectory(dir);
        assertThat(r.problems()).isEmpty();
        assertThat(r.documents()).hasSize(2);
        List<Problem> problems = new ArrayList<>();
        ResourceSet set = r.toResourceSet(null, ResourceSet.SecretChecks.ALL, problems);
        assertThat(problems).singleElement().satisfies(p -> assertThat(p.toString())
                .startsWith("Secret/s: metadata.name: ").contains("b.yml:1").contains("a.yaml:1"));
        assertThat(set.secrets()).containsOnlyKeys("s");
    }

    @Test
    void unreadableFileIsAProblem(@TempDir Path dir) {
        ResourceYaml.Result r = ResourceYaml.readAll(dir.resolve("missing.yaml"));
        assertThat(r.problems()).singleElement().satisfies(p -> assertThat(p.message()).contains("missing.yaml").contains("cannot read"));
    }

    @Test
    void expandEnv() {
        Map<String, String> env = Map.of("A", "1", "EMPTY", "");
        assertThat(ResourceYaml.expandEnv("x${A}y", env::get)).isEqualTo("x1y");
        assertThat(ResourceYaml.expandEnv("${B:-dflt}", env::get)).isEqualTo("dflt");
        assertThat(ResourceYaml.expandEnv("${EMPTY:-dflt}", env::get)).isEqualTo("dflt");
        assertThat(ResourceYaml.expandEnv("${A:-dflt}", env::get)).isEqualTo("1");
        assertThat(ResourceYaml.expandEnv("${EMPTY}", env::get)).isEqualTo("");
        assertThat(ResourceYaml.expandEnv("$${A} $A", env::get)).isEqualTo("${A} $A");
        assertThat(ResourceYaml.expandEnv("no vars", env::get)).isEqualTo("no vars");
        assertThat(ResourceYaml.expandEnv(null, env::get)).isNull();
        assertThatThrownBy(() -> ResourceYaml.expandEnv("${B}${C}", env::get))
                .hasMessage("environment variables B, C are not set");
        assertThatThrownBy(() -> ResourceYaml.expandEnv("${A", env::get)).hasMessageContaining("unterminated");
        assertThatThrownBy(() -> ResourceYaml.expandEnv("${1A}", env::get)).hasMessageContaining("invalid variable name");
        List<String> unset = new ArrayList<>();
        assertThat(ResourceYaml.expandEnv("a${B}c", env::get, unset::add)).isEqualTo("ac");
        assertThat(unset).containsExactly("B");
    }

    @Test
    void resourcesRoundTripThroughTheMapper() throws Exception {
        ResourceYaml.Result r = ResourceYaml.readAll(example());
        String yaml = ResourceYaml.mapper().writeValueAsString(r.resources(RoutingRule.class).get(0));
        ResourceYaml.Result again = ResourceYaml.read(yaml, "again.yaml");
        assertThat(again.problems()).isEmpty();
        assertThat(again.resources(RoutingRule.class).get(0).getSpec().fallbacks).containsExactly("anthropic/claude-sonnet-4-6");
    }
}

package ai.finops.crds;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The committed CustomResourceDefinitions accept and reject manifests as kube-apiserver would, checked
 * offline with {@link OfflineSchemaValidator}: OpenAPI types, enums, patterns, bounds, required fields,
 * and every {@code x-kubernetes-validations} CEL rule, each both broken and satisfied.
 */
class CrdSchemaTest {
    static final OfflineSchemaValidator PROVIDER_DEPLOYMENTS =
            OfflineSchemaValidator.forCrd(Path.of("providerdeployments.finops.ai-v1.yml"));
    static final OfflineSchemaValidator ROUTING_RULES =
            OfflineSchemaValidator.forCrd(Path.of("routingrules.finops.ai-v1.yml"));
    static final OfflineSchemaValidator VIRTUAL_KEYS =
            OfflineSchemaValidator.forCrd(Path.of("virtualkeys.finops.ai-v1.yml"));

    /** What kube-apiserver adds when a blocking schema error (type, enum, required) kept CEL rules from running. */
    static final String CEL_SKIPPED = "<nil>: Invalid value: \"null\": some validation rules were not checked because"
            + " the object was invalid; correct the existing errors to complete validation";

    static final String ANTHROPIC_SPEC = """
            provider: anthropic
            endpoint: https://api.anthropic.com
            credentials: {secretRef: {name: anthropic-key}}
            models: [{name: claude-sonnet-4-6}]
            weight: 2
            retries: {attempts: 2}
            """;
    static final String ROUTING_SPEC = """
            priority: 10
            when: 'model == "sonnet-model"'
            targets: [{model: anthropic/claude-sonnet-4-6, weight: 1}]
            fallbacks: [anthropic/claude-haiku-4-5]
            """;
    static final String VIRTUAL_KEY_SPEC = """
            secretRef: {name: vk-alice}
            owner: alice@example.com
            budget: {limitUsd: "50.00", period: Monthly}
            """;
    static final String SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    static OfflineSchemaValidator.Result providerDeployment(String spec) {
        return PROVIDER_DEPLOYMENTS.validate(manifest("ProviderDeployment", spec));
    }

    static OfflineSchemaValidator.Result routingRule(String spec) {
        return ROUTING_RULES.validate(manifest("RoutingRule", spec));
    }

    static OfflineSchemaValidator.Result virtualKey(String spec) {
        return VIRTUAL_KEYS.validate(manifest("VirtualKey", spec));
    }

    /** A full manifest (apiVersion, kind, metadata) around {@code spec}, given as YAML lines. */
    static String manifest(String kind, String spec) {
        return """
                apiVersion: finops.ai/v1alpha1
                kind: %s
                metadata:
                  name: example
                  namespace: finops
                spec:
                %s""".formatted(kind, spec.lines().map(line -> "  " + line).collect(Collectors.joining("\n", "", "\n")));
    }

    @Nested
    class ProviderDeployments {
        @Test
        void anthropicDeploymentIsValid() {
            OfflineSchemaValidator.Result result = providerDeployment(ANTHROPIC_SPEC);

            assertThat(result.errors()).isEmpty();
            assertThat(result.pruned()).isEmpty();
        }

        @Test
        void bedrockDeploymentWithRegionIsValid() {
            assertThat(providerDeployment("provider: bedrock\nbedrock: {region: us-east-1}\n").errors()).isEmpty();
        }

        @Test
        void integralFloatIsAnInteger() {
            assertThat(providerDeployment("provider: anthropic\nweight: 2.0\n").errors()).isEmpty();
        }

        @Test
        void weightMustBeAnInteger() {
            assertThat(providerDeployment("provider: anthropic\nweight: \"two\"\n").errors()).containsExactly(
                    "spec.weight: Invalid value: \"string\": spec.weight in body must be of type integer: \"string\"",
                    CEL_SKIPPED);
        }

        @Test
        void providerMustBeKnown() {
            assertThat(providerDeployment("provider: bedrok\n").errors()).containsExactly(
                    "spec.provider: Unsupported value: \"bedrok\": supported values: \"anthropic\", \"azure\","
                            + " \"azure-openai\", \"bedrock\", \"openai\", \"openai-compatible\", \"vertex\"",
                    CEL_SKIPPED);
        }

        @Test
        void providerIsRequired() {
            assertThat(providerDeployment("weight: 1\n").errors())
                    .containsExactly("spec.provider: Required value", CEL_SKIPPED);
        }

        @Test
        void weightMustNotBeNegative() {
            assertThat(providerDeployment("provider: anthropic\nweight: -1\n").errors()).containsExactly(
                    "spec.weight: Invalid value: -1: spec.weight in body should be greater than or equal to 0");
        }

        @Test
        void attemptsAreAtMostTen() {
            assertThat(providerDeployment("provider: anthropic\nretries: {attempts: 11}\n").errors()).containsExactly(
                    "spec.retries.attempts: Invalid value: 11: spec.retries.attempts in body should be less than or"
                            + " equal to 10");
            assertThat(providerDeployment("provider: anthropic\nretries: {attempts: 10}\n").errors()).isEmpty();
        }

        @Test
        void attemptsAreAtLeastOne() {
            assertThat(providerDeployment("provider: anthropic\nretries: {attempts: 0}\n").errors()).containsExactly(
                    "spec.retries.attempts: Invalid value: 0: spec.retries.attempts in body should be greater than or"
                            + " equal to 1");
        }

        @Test
        void endpointMustBeHttp() {
            assertThat(providerDeployment("provider: anthropic\nendpoint: ftp://x\n").errors()).containsExactly(
                    "spec.endpoint: Invalid value: \"ftp://x\": spec.endpoint in body should match '^https?://'");
        }

        @Test
        void credentialsNeedASecretName() {
            assertThat(providerDeployment("provider: anthropic\ncredentials: {secretRef: {key: apiKey}}\n").errors())
                    .containsExactly("spec.credentials.secretRef.name: Required value", CEL_SKIPPED);
        }

        @Test
        void providerSettingsAreStringMaps() {
            assertThat(providerDeployment("provider: bedrock\nbedrock: {region: 1}\n").errors()).containsExactly(
                    "spec.bedrock.region: Invalid value: \"integer\": spec.bedrock.region in body must be of type"
                            + " string: \"integer\"",
                    CEL_SKIPPED);
        }

        @Test
        void unknownFieldsArePrunedNotRejected() {
            OfflineSchemaValidator.Result result =
                    providerDeployment("provider: anthropic\ncolour: red\nretries: {attempts: 1, jitter: true}\n");

            assertThat(result.errors()).isEmpty();
            assertThat(result.pruned()).containsExactly("spec.colour", "spec.retries.jitter");
        }

        @Test
        void bedrockNeedsARegion() {
            String message = "spec: Invalid value: \"object\": provider bedrock needs bedrock.region";
            assertThat(providerDeployment("provider: bedrock\n").errors()).containsExactly(message);
            assertThat(providerDeployment("provider: bedrock\nbedrock: {}\n").errors()).containsExactly(message);
            assertThat(providerDeployment("provider: bedrock\nvertex: {region: us-east-1}\n").errors())
                    .containsExactly(message);
        }

        @Test
        void vertexNeedsProjectIdAndRegion() {
            String message = "spec: Invalid value: \"object\": provider vertex needs vertex.projectId and vertex.region";
            assertThat(providerDeployment("provider: vertex\nvertex: {region: europe-west1}\n").errors())
                    .containsExactly(message);
            assertThat(providerDeployment("provider: vertex\nvertex: {projectId: acme}\n").errors())
                    .containsExactly(message);
            assertThat(providerDeployment("provider: vertex\nvertex: {projectId: acme, region: europe-west1}\n").errors())
                    .isEmpty();
        }

        @Test
        void openAiCompatibleNeedsAnEndpoint() {
            assertThat(providerDeployment("provider: openai-compatible\n").errors())
                    .containsExactly("spec: Invalid value: \"object\": provider openai-compatible needs an endpoint");
            assertThat(providerDeployment("provider: openai-compatible\nendpoint: http://vllm:8000/v1\n").errors())
                    .isEmpty();
        }

        @Test
        void modelNamesMustBeUnique() {
            assertThat(providerDeployment("""
                    provider: anthropic
                    models: [{name: claude-sonnet-4-6}, {name: claude-haiku-4-5}, {name: claude-sonnet-4-6, deployment: x}]
                    """).errors())
                    .containsExactly("spec.models: Invalid value: \"array\": model names must be unique");
            assertThat(providerDeployment("""
                    provider: anthropic
                    models: [{name: claude-sonnet-4-6}, {name: claude-haiku-4-5}]
                    """).errors()).isEmpty();
        }

        @Test
        void modelsNeedAName() {
            assertThat(providerDeployment("provider: anthropic\nmodels: [{deployment: claude-sonnet-4-6}]\n").errors())
                    .containsExactly("spec.models[0].name: Required value", CEL_SKIPPED);
        }

        @Test
        void rulesAreNotEvaluatedWhenTheObjectHasABlockingError() {
            // bedrock without region breaks a CEL rule, but the wrong type of weight stops CEL evaluation.
            assertThat(providerDeployment("provider: bedrock\nweight: \"two\"\n").errors()).containsExactly(
                    "spec.weight: Invalid value: \"string\": spec.weight in body must be of type integer: \"string\"",
                    CEL_SKIPPED);
        }

        @Test
        void nonBlockingErrorsStillLetRulesRun() {
            assertThat(providerDeployment("provider: bedrock\nweight: -1\n").errors()).containsExactly(
                    "spec.weight: Invalid value: -1: spec.weight in body should be greater than or equal to 0",
                    "spec: Invalid value: \"object\": provider bedrock needs bedrock.region");
        }

        @Test
        void kindAndApiVersionMustMatchTheCrd() {
            String manifest = manifest("RoutingRule", ANTHROPIC_SPEC).replace("finops.ai/v1alpha1", "finops.ai/v1");

            assertThat(PROVIDER_DEPLOYMENTS.validate(manifest).errors()).containsExactly(
                    "apiVersion: Invalid value: \"finops.ai/v1\": must be \"finops.ai/v1alpha1\"",
                    "kind: Invalid value: \"RoutingRule\": must be \"ProviderDeployment\"");
        }
    }

    @Nested
    class RoutingRules {
        @Test
        void routingRuleIsValid() {
            OfflineSchemaValidator.Result result = routingRule(ROUTING_SPEC);

            assertThat(result.errors()).isEmpty();
            assertThat(result.pruned()).isEmpty();
        }

        @Test
        void targetsMustBeAnArray() {
            assertThat(routingRule("targets: anthropic/claude-sonnet-4-6\n").errors()).containsExactly(
                    "spec.targets: Invalid value: \"string\": spec.targets in body must be of type array: \"string\"",
                    CEL_SKIPPED);
        }

        @Test
        void priorityMustBeAnInteger() {
            assertThat(routingRule("priority: 1.5\ntargets: [{model: m}]\n").errors()).containsExactly(
                    "spec.priority: Invalid value: \"number\": spec.priority in body must be of type integer: \"number\"",
                    CEL_SKIPPED);
        }

        @Test
        void targetsAreRequired() {
            assertThat(routingRule("priority: 1\n").errors()).containsExactly("spec.targets: Required value", CEL_SKIPPED);
        }

        @Test
        void targetsNeedAtLeastOneItem() {
            // minItems does not block CEL in kube-apiserver, and exists() over an empty list is false.
            assertThat(routingRule("targets: []\n").errors()).containsExactly(
                    "spec.targets: Invalid value: 0: spec.targets in body should have at least 1 items",
                    "spec.targets: Invalid value: \"array\": at least one target needs a weight > 0");
        }

        @Test
        void targetsNeedAModel() {
            assertThat(routingRule("targets: [{model: a}, {weight: 1}]\n").errors())
                    .containsExactly("spec.targets[1].model: Required value", CEL_SKIPPED);
        }

        @Test
        void targetWeightMustNotBeNegative() {
            assertThat(routingRule("targets: [{model: a, weight: -1}, {model: b, weight: 1}]\n").errors())
                    .containsExactly("spec.targets[0].weight: Invalid value: -1: spec.targets[0].weight in body should be"
                            + " greater than or equal to 0");
        }

        @Test
        void someTargetNeedsAPositiveWeight() {
            String message = "spec.targets: Invalid value: \"array\": at least one target needs a weight > 0";
            assertThat(routingRule("targets: [{model: a, weight: 0}]\n").errors()).containsExactly(message);
            assertThat(routingRule("targets: [{model: a, weight: 0}, {model: b, weight: 0}]\n").errors())
                    .containsExactly(message);
        }

        @Test
        void onePositiveOrDefaultWeightSatisfiesTheRule() {
            assertThat(routingRule("targets: [{model: a, weight: 0}, {model: b, weight: 3}]\n").errors()).isEmpty();
            assertThat(routingRule("targets: [{model: a, weight: 0}, {model: b}]\n").errors()).isEmpty();
        }
    }

    @Nested
    class VirtualKeys {
        @Test
        void virtualKeyWithSecretRefIsValid() {
            OfflineSchemaValidator.Result result = virtualKey(VIRTUAL_KEY_SPEC);

            assertThat(result.errors()).isEmpty();
            assertThat(result.pruned()).isEmpty();
        }

        @Test
        void virtualKeyWithTokenHashIsValid() {
            assertThat(virtualKey("tokenSha256: " + SHA256 + "\nowner: bob\n").errors()).isEmpty();
        }

        @Test
        void periodIsDailyWeeklyOrMonthly() {
            assertThat(virtualKey("secretRef: {name: k}\nbudget: {limitUsd: \"5\", period: Yearly}\n").errors())
                    .containsExactly("spec.budget.period: Invalid value: \"Yearly\": spec.budget.period in body should"
                            + " match '^(Daily|Weekly|Monthly)$'");
            assertThat(virtualKey("secretRef: {name: k}\nbudget: {period: Monthlyish}\n").errors())
                    .containsExactly("spec.budget.period: Invalid value: \"Monthlyish\": spec.budget.period in body"
                            + " should match '^(Daily|Weekly|Monthly)$'");
        }

        @Test
        void limitIsADecimalString() {
            assertThat(virtualKey("secretRef: {name: k}\nbudget: {limitUsd: \"$50\"}\n").errors())
                    .containsExactly("spec.budget.limitUsd: Invalid value: \"$50\": spec.budget.limitUsd in body should"
                            + " match '^[0-9]{1,15}([.][0-9]+)?$'");
            assertThat(virtualKey("secretRef: {name: k}\nbudget: {limitUsd: 50}\n").errors()).containsExactly(
                    "spec.budget.limitUsd: Invalid value: \"integer\": spec.budget.limitUsd in body must be of type"
                            + " string: \"integer\"",
                    CEL_SKIPPED);
        }

        @Test
        void tokenHashIs64LowerCaseHexDigits() {
            String tooShort = SHA256.substring(1);
            assertThat(virtualKey("tokenSha256: " + tooShort + "\n").errors()).containsExactly(
                    "spec.tokenSha256: Invalid value: \"" + tooShort + "\": spec.tokenSha256 in body should match"
                            + " '^[0-9a-f]{64}$'");
            String upperCase = SHA256.toUpperCase();
            assertThat(virtualKey("tokenSha256: " + upperCase + "\n").errors()).containsExactly(
                    "spec.tokenSha256: Invalid value: \"" + upperCase + "\": spec.tokenSha256 in body should match"
                            + " '^[0-9a-f]{64}$'");
        }

        @Test
        void rateLimitsArePositive() {
            assertThat(virtualKey("secretRef: {name: k}\nrateLimits: {requestsPerMinute: 0}\n").errors())
                    .containsExactly("spec.rateLimits.requestsPerMinute: Invalid value: 0:"
                            + " spec.rateLimits.requestsPerMinute in body should be greater than or equal to 1");
        }

        @Test
        void exactlyOneOfSecretRefAndTokenHash() {
            String message = "spec: Invalid value: \"object\": give exactly one of secretRef and tokenSha256";
            assertThat(virtualKey("secretRef: {name: k}\ntokenSha256: " + SHA256 + "\n").errors())
                    .containsExactly(message);
            assertThat(virtualKey("owner: alice@example.com\n").errors()).containsExactly(message);
        }
    }

    /** The validator itself on a hand-written CRD: rule errors are reported, never swallowed. */
    @Nested
    class Validator {
        static OfflineSchemaValidator withRule(String rule) {
            return OfflineSchemaValidator.forCrd(OfflineSchemaValidator.parseYaml("""
                    apiVersion: apiextensions.k8s.io/v1
                    kind: CustomResourceDefinition
                    spec:
                      group: example.com
                      names: {kind: Widget}
                      versions:
                      - name: v1
                        schema:
                          openAPIV3Schema:
                            type: object
                            properties:
                              spec:
                                type: object
                                properties:
                                  size: {type: integer}
                                  tags: {type: array, items: {type: string}}
                                x-kubernetes-validations:
                                - rule: '%s'
                    """.formatted(rule.replace("'", "''"))));
        }

        static List<String> errors(OfflineSchemaValidator validator, String spec) {
            return validator.validate("apiVersion: example.com/v1\nkind: Widget\nspec: " + spec + "\n").errors();
        }

        @Test
        void ruleWithoutMessageReportsTheRule() {
            OfflineSchemaValidator validator = withRule("self.size < 10 && 'a' in self.tags");

            assertThat(errors(validator, "{size: 3, tags: [a, b]}")).isEmpty();
            assertThat(errors(validator, "{size: 3, tags: [b]}"))
                    .containsExactly("spec: Invalid value: \"object\": failed rule: self.size < 10 && 'a' in self.tags");
        }

        @Test
        void ruleThatDoesNotCompileIsReported() {
            assertThat(errors(withRule("self.size <"), "{size: 3}")).singleElement().asString()
                    .startsWith("spec: Invalid value: \"object\": rule compile error: ")
                    .endsWith("(rule: self.size <)");
        }

        @Test
        void ruleThatFailsToEvaluateIsReported() {
            assertThat(errors(withRule("self.size > 0"), "{tags: [a]}")).singleElement().asString()
                    .startsWith("spec: Invalid value: \"object\": rule evaluation error: ")
                    .endsWith("(rule: self.size > 0)");
        }

        @Test
        void prunedFieldsAreInvisibleToRules() {
            assertThat(errors(withRule("!has(self.colour)"), "{colour: red}")).isEmpty();
        }
    }
}

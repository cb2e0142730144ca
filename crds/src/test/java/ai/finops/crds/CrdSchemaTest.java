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
    static final OfflineSchemaValidator BUDGETS =
            OfflineSchemaValidator.forCrd(Path.of("budgets.finops.ai-v1.yml"));

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
    static final String BUDGET_SPEC = """
            scope: {teams: [platform], virtualKeys: [alice], models: ["claude-opus-*"]}
            limitUsd: "2000.00"
            period: Monthly
            timeZone: Europe/Paris
            action: Block
            alertAtPercent: [50, 80, 95]
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

    static OfflineSchemaValidator.Result budget(String spec) {
        return BUDGETS.validate(manifest("Budget", spec));
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
        void periodIsOneOfTheBudgetPeriods() {
            assertThat(virtualKey("secretRef: {name: k}\nbudget: {limitUsd: \"5\", period: Yearly}\n").errors())
                    .containsExactly("spec.budget.period: Unsupported value: \"Yearly\": supported values: \"Daily\", \"Monthly\","
                            + " \"Quarterly\", \"Total\", \"Weekly\"", CEL_SKIPPED);
            for (String period : List.of("Daily", "Weekly", "Monthly", "Quarterly", "Total")) {
                assertThat(virtualKey("secretRef: {name: k}\nbudget: {limitUsd: \"5\", period: " + period + "}\n").errors()).isEmpty();
            }
        }

        @Test
        void budgetTakesPeriodOrDurationAndATimeZoneWithACalendarPeriod() {
            assertThat(virtualKey("secretRef: {name: k}\nbudget: {limitUsd: \"5\", duration: 7d}\n").errors()).isEmpty();
            assertThat(virtualKey("secretRef: {name: k}\nbudget: {limitUsd: \"5\", timeZone: Europe/Paris}\n").errors()).isEmpty();
            assertThat(virtualKey("secretRef: {name: k}\nbudget: {limitUsd: \"5\", period: Daily, timeZone: Asia/Tokyo}\n").errors())
                    .isEmpty();
            assertThat(virtualKey("secretRef: {name: k}\nbudget: {limitUsd: \"5\", period: Weekly, duration: 7d}\n").errors())
                    .containsExactly("spec.budget: Invalid value: \"object\": give period or duration, not both");
            String zoneMessage = "spec.budget: Invalid value: \"object\": timeZone applies to a calendar period (Daily, Weekly,"
                    + " Monthly, Quarterly), not to Total or a rolling duration";
            assertThat(virtualKey("secretRef: {name: k}\nbudget: {limitUsd: \"5\", duration: 7d, timeZone: UTC}\n").errors())
                    .containsExactly(zoneMessage);
            assertThat(virtualKey("secretRef: {name: k}\nbudget: {limitUsd: \"5\", period: Total, timeZone: UTC}\n").errors())
                    .containsExactly(zoneMessage);
            assertThat(virtualKey("secretRef: {name: k}\nbudget: {limitUsd: \"5\", duration: 1w}\n").errors())
                    .containsExactly("spec.budget.duration: Invalid value: \"1w\": spec.budget.duration in body should match"
                            + " '^[1-9][0-9]{0,3}[dh]$'");
        }

        @Test
        void spendIsKeptInTheStatus() {
            OfflineSchemaValidator.Result result = VIRTUAL_KEYS.validate(manifest("VirtualKey", VIRTUAL_KEY_SPEC) + """
                    status:
                      observedGeneration: 1
                      conditions:
                      - {type: Ready, status: "True", reason: InBundle, observedGeneration: 1}
                      - {type: BudgetExceeded, status: "False", reason: UnderLimit, observedGeneration: 1}
                      spend: {spentUsd: "12.34", limitUsd: "50.00", percent: 24, periodStart: "2026-12-01T00:00:00Z",
                              periodEnd: "2027-01-01T00:00:00Z", updatedAt: "2026-12-04T10:00:00Z"}
                    """);
            assertThat(result.errors()).isEmpty();
            assertThat(result.pruned()).isEmpty();
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
            assertThat(virtualKey("secretRef: {name: k}\nrateLimits: {maxConcurrentRequests: 0}\n").errors())
                    .containsExactly("spec.rateLimits.maxConcurrentRequests: Invalid value: 0:"
                            + " spec.rateLimits.maxConcurrentRequests in body should be greater than or equal to 1");
            assertThat(virtualKey("secretRef: {name: k}\nrateLimits: {requestsPerMinute: 60, tokensPerMinute: 400000,"
                    + " maxConcurrentRequests: 4}\n").errors()).isEmpty();
        }

        @Test
        void exactlyOneOfSecretRefAndTokenHash() {
            String message = "spec: Invalid value: \"object\": give exactly one of secretRef and tokenSha256";
            assertThat(virtualKey("secretRef: {name: k}\ntokenSha256: " + SHA256 + "\n").errors())
                    .containsExactly(message);
            assertThat(virtualKey("owner: alice@example.com\n").errors()).containsExactly(message);
        }
    }

    @Nested
    class Budgets {
        static final String PERIOD_OR_DURATION = "spec: Invalid value: \"object\": give exactly one of period and duration";
        static final String ZONE = "spec: Invalid value: \"object\": timeZone applies to a calendar period (Daily, Weekly, Monthly,"
                + " Quarterly), not to Total or a rolling duration";

        @Test
        void aTeamBudgetIsValid() {
            OfflineSchemaValidator.Result result = budget(BUDGET_SPEC);

            assertThat(result.errors()).isEmpty();
            assertThat(result.pruned()).isEmpty();
        }

        @Test
        void aRollingBudgetWithNoScopeIsValid() {
            assertThat(budget("limitUsd: \"300\"\nduration: 7d\naction: Warn\n").errors()).isEmpty();
            assertThat(budget("limitUsd: \"300\"\nduration: 36h\n").errors()).isEmpty();
        }

        @Test
        void limitIsRequiredAndADecimalString() {
            assertThat(budget("period: Monthly\n").errors()).containsExactly("spec.limitUsd: Required value", CEL_SKIPPED);
            assertThat(budget("limitUsd: \"2,000\"\nperiod: Monthly\n").errors()).containsExactly(
                    "spec.limitUsd: Invalid value: \"2,000\": spec.limitUsd in body should match '^[0-9]{1,15}([.][0-9]+)?$'");
            assertThat(budget("limitUsd: 2000\nperiod: Monthly\n").errors()).containsExactly(
                    "spec.limitUsd: Invalid value: \"integer\": spec.limitUsd in body must be of type string: \"integer\"",
                    CEL_SKIPPED);
        }

        @Test
        void exactlyOneOfPeriodAndDuration() {
            assertThat(budget("limitUsd: \"1\"\n").errors()).containsExactly(PERIOD_OR_DURATION);
            assertThat(budget("limitUsd: \"1\"\nperiod: Weekly\nduration: 7d\n").errors()).containsExactly(PERIOD_OR_DURATION);
        }

        @Test
        void periodIsOneOfFive() {
            assertThat(budget("limitUsd: \"1\"\nperiod: Yearly\n").errors()).containsExactly(
                    "spec.period: Unsupported value: \"Yearly\": supported values: \"Daily\", \"Monthly\", \"Quarterly\","
                            + " \"Total\", \"Weekly\"", CEL_SKIPPED);
        }

        @Test
        void durationIsWholeDaysOrHours() {
            for (String bad : List.of("7", "1w", "0d", "1d12h", "90m", "7D")) {
                assertThat(budget("limitUsd: \"1\"\nduration: \"" + bad + "\"\n").errors()).as(bad).containsExactly(
                        "spec.duration: Invalid value: \"" + bad + "\": spec.duration in body should match '^[1-9][0-9]{0,3}[dh]$'");
            }
        }

        @Test
        void timeZoneGoesWithACalendarPeriod() {
            assertThat(budget("limitUsd: \"1\"\nperiod: Daily\ntimeZone: America/New_York\n").errors()).isEmpty();
            assertThat(budget("limitUsd: \"1\"\nduration: 7d\ntimeZone: Europe/Paris\n").errors()).containsExactly(ZONE);
            assertThat(budget("limitUsd: \"1\"\nperiod: Total\ntimeZone: Europe/Paris\n").errors()).containsExactly(ZONE);
            assertThat(budget("limitUsd: \"1\"\nperiod: Daily\ntimeZone: \"+02:00\"\n").errors()).containsExactly(
                    "spec.timeZone: Invalid value: \"+02:00\": spec.timeZone in body should match"
                            + " '^[A-Za-z][-+_A-Za-z0-9]*(/[-+_A-Za-z0-9]+)*$'");
        }

        @Test
        void actionIsBlockOrWarn() {
            assertThat(budget("limitUsd: \"1\"\nperiod: Daily\naction: Deny\n").errors()).containsExactly(
                    "spec.action: Unsupported value: \"Deny\": supported values: \"Block\", \"Warn\"", CEL_SKIPPED);
        }

        @Test
        void alertPercentagesAreAscendingUniqueAndWithinOneToAHundred() {
            String order = "spec.alertAtPercent: Invalid value: \"array\": alert percentages are in ascending order, each once";
            String range = "spec.alertAtPercent: Invalid value: \"array\": alert percentages are between 1 and 100";
            assertThat(budget("limitUsd: \"1\"\nperiod: Daily\nalertAtPercent: [80, 50]\n").errors()).containsExactly(order);
            assertThat(budget("limitUsd: \"1\"\nperiod: Daily\nalertAtPercent: [50, 50]\n").errors()).containsExactly(order);
            assertThat(budget("limitUsd: \"1\"\nperiod: Daily\nalertAtPercent: [0, 50]\n").errors()).containsExactly(range);
            assertThat(budget("limitUsd: \"1\"\nperiod: Daily\nalertAtPercent: [50, 101]\n").errors()).containsExactly(range);
            assertThat(budget("limitUsd: \"1\"\nperiod: Daily\nalertAtPercent: [1, 2, 3, 4, 5, 6, 7, 8, 9, 100]\n").errors()).isEmpty();
            assertThat(budget("limitUsd: \"1\"\nperiod: Daily\nalertAtPercent: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n").errors())
                    .startsWith("spec.alertAtPercent: Too many: 11: must have at most 10 items");
            assertThat(budget("limitUsd: \"1\"\nperiod: Daily\nalertAtPercent: []\n").errors()).isEmpty();
            assertThat(budget("limitUsd: \"1\"\nperiod: Daily\nalertAtPercent: [100]\n").errors()).isEmpty();
        }

        @Test
        void spendIsKeptInTheStatus() {
            OfflineSchemaValidator.Result result = BUDGETS.validate(manifest("Budget", BUDGET_SPEC) + """
                    status:
                      conditions:
                      - {type: BudgetExceeded, status: "True", reason: LimitReached, message: spent 2000.10 of 2000.00}
                      spend: {spentUsd: "2000.10", limitUsd: "2000.00", percent: 100, periodStart: "2026-12-01T00:00:00+01:00",
                              periodEnd: "2027-01-01T00:00:00+01:00", updatedAt: "2026-12-31T22:59:00Z"}
                    """);
            assertThat(result.errors()).isEmpty();
            assertThat(result.pruned()).isEmpty();
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

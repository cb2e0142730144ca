package ai.finops.gateway.config;

import ai.finops.gateway.auth.CompiledBudget;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.crds.BudgetAction;
import ai.finops.crds.BudgetPeriod;
import ai.finops.crds.validation.Problem;
import ai.finops.crds.validation.ResourceValidator;
import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.upstream.TlsContexts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Budgets in standalone mode: a folder's Budgets and the budgets and rate limits of its VirtualKeys
 * parse, validate and compile into the {@link Snapshot}: {@link Snapshot#budgets()}, {@link
 * KeyEntry#budget()} and {@link KeyEntry#rateLimits()}, immutable, money in exact micro-dollars.
 */
class BudgetsTest {
    static final String CI_TOKEN = "vk-ci-bot-0123456789abcdef";
    static final String DEV_TOKEN = "vk-dev-0123456789abcdef";
    static final String RESOURCES = """
            apiVersion: finops.ai/v1alpha1
            kind: ProviderDeployment
            metadata: {name: anthropic}
            spec: {provider: anthropic, endpoint: "http://127.0.0.1:9"}
            ---
            apiVersion: finops.ai/v1alpha1
            kind: VirtualKey
            metadata: {name: ci-bot}
            spec:
              secretRef: {name: vk-ci-bot}
              team: platform
              budget: {limitUsd: "50.00", period: Weekly, timeZone: Europe/Paris}
              rateLimits: {requestsPerMinute: 60, tokensPerMinute: 400000, maxConcurrentRequests: 4}
            ---
            apiVersion: finops.ai/v1alpha1
            kind: VirtualKey
            metadata: {name: dev}
            spec: {secretRef: {name: vk-dev}, team: research}
            ---
            apiVersion: finops.ai/v1alpha1
            kind: VirtualKey
            metadata: {name: monthly}
            spec:
              tokenSha256: 0000000000000000000000000000000000000000000000000000000000000001
              budget: {limitUsd: "0.000001"}
              rateLimits: {tokensPerMinute: 1000}
            ---
            apiVersion: finops.ai/v1alpha1
            kind: VirtualKey
            metadata: {name: rolling}
            spec:
              tokenSha256: 0000000000000000000000000000000000000000000000000000000000000002
              budget: {limitUsd: "5", duration: 36h}
            ---
            apiVersion: finops.ai/v1alpha1
            kind: Budget
            metadata: {name: platform-monthly}
            spec:
              scope: {teams: [platform]}
              limitUsd: "2000.00"
              period: Monthly
              timeZone: Europe/Paris
              alertAtPercent: [50, 80, 95]
            ---
            apiVersion: finops.ai/v1alpha1
            kind: Budget
            metadata: {name: opus-weekly}
            spec:
              scope: {virtualKeys: [dev], models: ["claude-opus-*"]}
              limitUsd: "300.5"
              duration: 7d
              action: Warn
            ---
            apiVersion: finops.ai/v1alpha1
            kind: Budget
            metadata: {name: everything}
            spec: {limitUsd: "100000", period: Total}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: vk-ci-bot}
            stringData: {token: %s}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: vk-dev}
            stringData: {token: %s}
            """.formatted(CI_TOKEN, DEV_TOKEN);

    static Snapshot load(Path dir, Path credentials) throws Exception {
        ConfigService config = new ConfigService(List.of(dir), credentials, name -> null, new GatewayMetrics(), new TlsContexts(),
                UnaryOperator.identity());
        config.loadInitial();
        return config.holder().current();
    }

    static KeyEntry key(Snapshot snapshot, String name) {
        return snapshot.keys().values().stream().filter(k -> k.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void budgetsCompileIntoTheSnapshotInMicroDollars(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("resources.yaml"), RESOURCES);
        Snapshot snapshot = load(dir, null);

        assertThat(snapshot.budgets()).extracting(CompiledBudget::name).containsExactly("everything", "opus-weekly", "platform-monthly");
        assertThat(snapshot.budgets().get(2)).isEqualTo(new CompiledBudget(CompiledBudget.Kind.BUDGET, "platform-monthly",
                List.of("platform"), List.of(), List.of(), 2_000_000_000L, BudgetPeriod.MONTHLY, null, ZoneId.of("Europe/Paris"),
                BudgetAction.BLOCK, List.of(50, 80, 95)));
        assertThat(snapshot.budgets().get(1)).isEqualTo(new CompiledBudget(CompiledBudget.Kind.BUDGET, "opus-weekly",
                List.of(), List.of("dev"), List.of("claude-opus-*"), 300_500_000L, null, Duration.ofDays(7), ZoneOffset.UTC,
                BudgetAction.WARN, List.of()));
        CompiledBudget everything = snapshot.budgets().get(0);
        assertThat(everything.limitMicros()).isEqualTo(100_000_000_000L);
        assertThat(everything.period()).isEqualTo(BudgetPeriod.TOTAL);
        assertThat(everything.rolling()).isFalse();
        assertThat(everything.id()).isEqualTo("Budget/everything");
        assertThatThrownBy(() -> snapshot.budgets().add(everything)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> everything.alertAtPercent().add(1)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void keysCarryTheirOwnBudgetAndRateLimits(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("resources.yaml"), RESOURCES);
        Snapshot snapshot = load(dir, null);

        KeyEntry ci = key(snapshot, "ci-bot");
        assertThat(ci.budget()).isEqualTo(new CompiledBudget(CompiledBudget.Kind.VIRTUAL_KEY, "ci-bot", List.of(), List.of("ci-bot"),
                List.of(), 50_000_000L, BudgetPeriod.WEEKLY, null, ZoneId.of("Europe/Paris"), BudgetAction.BLOCK, List.of()));
        assertThat(ci.budget().id()).isEqualTo("VirtualKey/ci-bot");
        assertThat(ci.rateLimits()).isEqualTo(new KeyEntry.RateLimits(60, 400_000, 4));

        KeyEntry monthly = key(snapshot, "monthly");
        assertThat(monthly.budget().period()).as("no period or duration: Monthly").isEqualTo(BudgetPeriod.MONTHLY);
        assertThat(monthly.budget().limitMicros()).isEqualTo(1L);
        assertThat(monthly.budget().timeZone()).isEqualTo(ZoneOffset.UTC);
        assertThat(monthly.rateLimits()).isEqualTo(new KeyEntry.RateLimits(0, 1000, 0));

        KeyEntry rolling = key(snapshot, "rolling");
        assertThat(rolling.budget().duration()).isEqualTo(Duration.ofHours(36));
        assertThat(rolling.budget().period()).isNull();
        assertThat(rolling.budget().rolling()).isTrue();

        KeyEntry dev = key(snapshot, "dev");
        assertThat(dev.budget()).isNull();
        assertThat(dev.rateLimits()).isSameAs(KeyEntry.RateLimits.NONE);
        assertThat(dev.rateLimits().isEmpty()).isTrue();
        assertThat(snapshot.keys()).containsKey(HexFormat.of().formatHex(dev.tokenSha256()));
    }

    @Test
    void scopeMatchesTeamsOrKeysAndThenModels(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("resources.yaml"), RESOURCES);
        Snapshot snapshot = load(dir, null);
        KeyEntry ci = key(snapshot, "ci-bot");
        KeyEntry dev = key(snapshot, "dev");
        Map<String, CompiledBudget> budgets = new java.util.HashMap<>();
        snapshot.budgets().forEach(b -> budgets.put(b.name(), b));

        assertThat(budgets.get("platform-monthly").covers(ci, "claude-sonnet-4-6")).isTrue();
        assertThat(budgets.get("platform-monthly").covers(dev, "claude-sonnet-4-6")).as("another team").isFalse();
        assertThat(budgets.get("opus-weekly").covers(dev, "sonnet-model", "claude-opus-4-6")).as("the resolved model matches").isTrue();
        assertThat(budgets.get("opus-weekly").covers(dev, "claude-sonnet-4-6")).isFalse();
        assertThat(budgets.get("opus-weekly").covers(ci, "claude-opus-4-6")).as("another key").isFalse();
        assertThat(budgets.get("opus-weekly").coversKey(dev)).isTrue();
        assertThat(budgets.get("everything").covers(ci, "anything")).isTrue();
        assertThat(budgets.get("everything").covers(dev)).isTrue();
        assertThat(ci.budget().covers(ci, "m")).isTrue();
        assertThat(ci.budget().covers(dev, "m")).isFalse();
    }

    @Test
    void aCompiledBudgetHasExactlyOneWindow() {
        assertThatThrownBy(() -> new CompiledBudget(CompiledBudget.Kind.BUDGET, "b", List.of(), List.of(), List.of(), 1, BudgetPeriod.DAILY,
                Duration.ofDays(1), null, BudgetAction.BLOCK, List.of())).hasMessageContaining("exactly one of period and duration");
        assertThatThrownBy(() -> new CompiledBudget(CompiledBudget.Kind.BUDGET, "b", List.of(), List.of(), List.of(), 1, null, null, null,
                BudgetAction.BLOCK, List.of())).hasMessageContaining("exactly one of period and duration");
        assertThat(new CompiledBudget(CompiledBudget.Kind.BUDGET, "b", List.of(), List.of(), List.of(), 1, BudgetPeriod.DAILY, null, null,
                BudgetAction.BLOCK, List.of()).timeZone()).isEqualTo(ZoneOffset.UTC);
    }

    @Test
    void aBrokenBudgetRejectsTheFolderAndNamesEveryProblem(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("resources.yaml"), RESOURCES + """
                ---
                apiVersion: finops.ai/v1alpha1
                kind: Budget
                metadata: {name: broken}
                spec:
                  scope: {virtualKeys: [nobody]}
                  limitUsd: "1,000"
                  duration: 1w
                  timeZone: Europe/Paris
                  alertAtPercent: [95, 80]
                """);
        List<Problem> problems = ConfigService.validate(List.of(dir), null, name -> null);
        assertThat(problems).extracting(Problem::toString).containsExactly(
                "Budget/broken: spec.scope.virtualKeys[0]: VirtualKey 'nobody' not found (VirtualKeys: [ci-bot, dev, monthly, rolling])",
                "Budget/broken: spec.limitUsd: amount '1,000' is not a plain decimal number of US dollars (expected e.g. \"50.00\" or \"0.25\")",
                "Budget/broken: spec.duration: window '1w' is not a rolling window (expected whole days or hours, such as 7d or 12h)",
                "Budget/broken: spec.timeZone: a rolling duration has no calendar boundaries: timeZone goes only with period Daily, Weekly,"
                        + " Monthly or Quarterly",
                "Budget/broken: spec.alertAtPercent: must be in ascending order with each value once, got [95, 80]");
        assertThatThrownBy(() -> load(dir, null)).isInstanceOf(ConfigService.InvalidConfig.class);
    }

    @Test
    void budgetsSurviveTheCredentialsFolderAndClusterSecrets(@TempDir Path dir) throws Exception {
        // a gateway running from the operator's bundle: keys as hashes, Secrets from the credentials folder
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        Path credentials = Files.createDirectories(dir.resolve("credentials"));
        Files.writeString(bundle.resolve("bundle.yaml"), """
                apiVersion: finops.ai/v1alpha1
                kind: ProviderDeployment
                metadata: {name: anthropic}
                spec:
                  provider: anthropic
                  credentials: {secretRef: {name: anthropic-key}}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: alice}
                spec: {tokenSha256: %s, team: platform}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: Budget
                metadata: {name: platform-monthly}
                spec: {scope: {teams: [platform]}, limitUsd: "2000.00", period: Monthly}
                """.formatted(ResourceValidator.sha256Hex("vk-alice-0123456789abcdef")));
        Files.writeString(credentials.resolve("anthropic-key.apiKey"), "sk-ant-test");
        assertThat(load(bundle, credentials).budgets()).extracting(CompiledBudget::name).containsExactly("platform-monthly");

        // validate --cluster-secrets: the Secret lives in the cluster
        ConfigService.Loaded loaded = ConfigService.parse(ConfigService.sources(List.of(bundle), null), name -> "x", true);
        assertThat(loaded.problems()).isEmpty();
        assertThat(loaded.assumedSecrets()).containsExactly("anthropic-key");
        assertThat(loaded.resources().budgets()).hasSize(1);
    }
}

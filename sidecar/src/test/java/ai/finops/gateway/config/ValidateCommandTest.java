package ai.finops.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.gateway.Main;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code validate DIR}: the CI check for GitOps repositories. */
class ValidateCommandTest {

    private static Result run(String... args) {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    record Result(int code, String output, String errors) {}

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

    /** A folder whose settings serve TLS from {@code cert} and {@code key}. */
    private static Result validateTls(Path dir, Path cert, Path key, String... flags) throws Exception {
        Files.writeString(dir.resolve("gateway.yaml"), """
                apiVersion: finops.ai/v1alpha1
                kind: GatewaySettings
                metadata: {name: gateway}
                tls: {certFile: %s, keyFile: %s}
                """.formatted(cert, key));
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("validate"));
        args.addAll(java.util.List.of(flags));
        args.add(dir.toString());
        return run(args.toArray(String[]::new));
    }

    @Test
    void theTlsFilesMustHoldAPairThatBelongsTogether(@TempDir Path dir, @TempDir Path tls) throws Exception {
        ai.finops.testkit.TestCertificates.Certificate good = ai.finops.testkit.TestCertificates.selfSigned("finops-gateway");
        good.writeTo(tls);
        Path cert = tls.resolve("cert.pem");
        Path key = tls.resolve("key.pem");
        assertThat(validateTls(dir, cert, key).output()).startsWith("ok");

        Result missing = validateTls(dir, tls.resolve("tls.crt"), key);
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.output()).contains("GatewaySettings/" + dir.resolve("gateway.yaml") + ":1: tls: " + tls.resolve("tls.crt")
                + " does not exist");

        Result unreadable = validateTls(dir, cert, tls);       // a folder where the key should be
        assertThat(unreadable.code()).isEqualTo(1);
        assertThat(unreadable.output()).contains("tls: cannot read " + tls);

        Files.writeString(tls.resolve("garbage.pem"), "not a certificate");
        assertThat(validateTls(dir, tls.resolve("garbage.pem"), key).output()).contains("garbage.pem holds no PEM certificate");
        assertThat(validateTls(dir, cert, cert).output()).contains("cert.pem holds no PKCS#8 private key");

        Path other = ai.finops.testkit.TestCertificates.selfSigned("another").writeTo(tls.resolve("other"));
        Result mismatched = validateTls(dir, other, key);
        assertThat(mismatched.code()).isEqualTo(1);
        assertThat(mismatched.output()).contains(key + " is not the private key of the certificate in " + other);

        assertThat(validateTls(dir, tls.resolve("tls.crt"), tls.resolve("tls.key"), "--cluster-secrets").output())
                .as("in a GitOps repository the files are the cluster's mounted Secret").startsWith("ok");

        Files.writeString(dir.resolve("gateway.yaml"), """
                apiVersion: finops.ai/v1alpha1
                kind: GatewaySettings
                metadata: {name: gateway}
                tls: {certFile: /etc/tls.crt, operations: yes-please}
                """);
        assertThat(run("validate", dir.toString()).output()).contains("tls.operations: must be true or false")
                .contains("tls: needs both certFile and keyFile");
    }

    @Test
    void theLimitsBlockIsReadWithItsDefaultsAndEachBadValueIsAProblem(@TempDir Path dir) throws Exception {
        java.util.List<ai.finops.crds.validation.Problem> problems = new java.util.ArrayList<>();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        GatewaySettings.Limits defaults = SettingsDocument.parse(json.readTree("{}"), "gateway.yaml", problems).limits();
        assertThat(defaults).isEqualTo(GatewaySettings.Limits.defaults());
        assertThat(defaults.headerTimeout()).hasSeconds(30);
        assertThat(defaults.bodyTimeout()).hasSeconds(60);
        assertThat(defaults.maxConnections()).isEqualTo(4096);
        assertThat(defaults.maxEventBytes()).isEqualTo(4 << 20);
        GatewaySettings set = SettingsDocument.parse(json.readTree(
                "{\"limits\":{\"headerTimeout\":\"1.5s\",\"bodyTimeout\":\"2m\",\"maxConnections\":100,\"maxEventSize\":\"512Ki\"}}"),
                "gateway.yaml", problems);
        assertThat(problems).isEmpty();
        assertThat(set.limits()).isEqualTo(new GatewaySettings.Limits(java.time.Duration.ofMillis(1500), java.time.Duration.ofMinutes(2), 100,
                512 << 10));
        assertThat(set.maxEventBytes()).isEqualTo(512 << 10);

        Files.writeString(dir.resolve("anthropic.yaml"), """
                apiVersion: finops.ai/v1alpha1
                kind: ProviderDeployment
                metadata: {name: anthropic-main}
                spec: {provider: anthropic, endpoint: "http://127.0.0.1:9"}
                """);
        Files.writeString(dir.resolve("gateway.yaml"), """
                apiVersion: finops.ai/v1alpha1
                kind: GatewaySettings
                metadata: {name: gateway}
                limits: {headerTimeout: 0s, bodyTimeout: soon, maxConnections: 0, maxEventSize: 10, maxRequests: 5}
                """);
        Result r = run("validate", dir.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.output())
                .contains("limits.headerTimeout: must be longer than zero")
                .contains("limits.bodyTimeout: duration 'soon'")
                .contains("limits.maxConnections: must be a whole number of at least 1")
                .contains("limits.maxEventSize: must be between 1Ki and 1Gi")
                .contains("limits.maxRequests: unknown field");
    }

    @Test
    void governanceSettingsAreCheckedAndARedisPasswordHasNoPlaceInThem(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("gateway.yaml"), """
                apiVersion: finops.ai/v1alpha1
                kind: GatewaySettings
                metadata: {name: gateway}
                governance: {onStoreFailure: Maybe, reservationTtl: 0s, storeTimeout: 1s, leases: "no"}
                redis: {url: "redis://gateway:s3cret@redis:6379", password: s3cret}
                """);
        Result r = run("validate", dir.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.output())
                .contains("governance.onStoreFailure: must be Allow or Deny")
                .contains("governance.reservationTtl: must be longer than zero")
                .contains("governance.leases: must be true or false")
                .contains("governance.storeTimeout: unknown field; known: [leases, onStoreFailure, reservationTtl]")
                .contains("redis.url: must not hold a password")
                .contains("redis.password: unknown field; known: [url] (the password comes from FINOPS_REDIS_PASSWORD")
                .doesNotContain("s3cret");
    }

    @Test
    void budgetsAreValidatedLikeTheOtherKinds(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("budgets.yaml"), """
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: ci-bot}
                spec:
                  tokenSha256: 0000000000000000000000000000000000000000000000000000000000000001
                  team: platform
                  budget: {limitUsd: "50.00", duration: 7d}
                  rateLimits: {requestsPerMinute: 60, maxConcurrentRequests: 4}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: Budget
                metadata: {name: platform-monthly}
                spec:
                  scope: {teams: [platform], models: ["claude-opus-*"]}
                  limitUsd: "2000.00"
                  period: Monthly
                  timeZone: Europe/Paris
                  action: Warn
                  alertAtPercent: [50, 80, 95]
                """);
        Result ok = run("validate", dir.toString());
        assertThat(ok.output()).startsWith("ok");
        assertThat(ok.code()).isZero();

        Files.writeString(dir.resolve("broken.yaml"), """
                apiVersion: finops.ai/v1alpha1
                kind: Budget
                metadata: {name: both}
                spec: {limitUsd: "10", period: Weekly, duration: 7d, timeZone: Europe/Pariss}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: Budget
                metadata: {name: alerts}
                spec:
                  limitUsd: "10"
                  period: Daily
                  alertAtPercent: [50, fifty]
                """);
        Result r = run("validate", dir.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.output())
                .contains("Budget/alerts: spec.alertAtPercent[1]: " + dir.resolve("broken.yaml") + ":12:")
                .contains("Budget/both: spec: give exactly one of period and duration, not both")
                .contains("Budget/both: spec.timeZone: unknown time zone 'Europe/Pariss'")
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

    @Test
    void aFolderWithoutResourcesSaysSo(@TempDir Path dir) throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Result r = run("validate", empty.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.output()).contains(empty + ": no finops.ai resources found (looked for *.yaml/*.yml").doesNotStartWith("ok");

        Path others = Files.createDirectories(dir.resolve("others"));
        Files.writeString(others.resolve("namespace.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n");
        Files.createDirectories(others.resolve("resources"));
        Files.writeString(others.resolve("resources/keys.yaml"), """
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: alice}
                spec: {tokenSha256: 0000000000000000000000000000000000000000000000000000000000000000}
                """);
        Result parent = run("validate", others.toString());
        assertThat(parent.code()).as("subfolders are not read").isEqualTo(1);
        assertThat(parent.output()).contains(others + ": no finops.ai resources found");
        assertThat(run("validate", others.resolve("resources").toString()).code()).isZero();
    }

    @Test
    void aMissingFolderSaysSo(@TempDir Path dir) {
        Path missing = dir.resolve("nonexistent");
        Result r = run("validate", missing.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.output()).startsWith("no such directory: " + missing + "\n").doesNotContain("Configuration");
        Result credentials = run("validate", "--credentials", missing.toString(), "../examples/local");
        assertThat(credentials.code()).isEqualTo(1);
        assertThat(credentials.output()).startsWith("credentials: no such directory: " + missing + "\n");
    }

    private static final String CLUSTER_RESOURCES = """
            apiVersion: finops.ai/v1alpha1
            kind: ProviderDeployment
            metadata: {name: anthropic-prod}
            spec:
              provider: anthropic
              credentials: {secretRef: {name: anthropic-api}}
            ---
            apiVersion: finops.ai/v1alpha1
            kind: VirtualKey
            metadata: {name: alice}
            spec: {secretRef: {name: vk-alice}, allow: {providers: [anthropic-prod]}}
            ---
            apiVersion: finops.ai/v1alpha1
            kind: VirtualKey
            metadata: {name: bob}
            spec: {secretRef: {name: vk-bob, key: password}}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: vk-bob}
            stringData: {token: vk-bob-0123456789abcdef}
            """;

    @Test
    void secretsOfTheClusterAreAssumedToExistAndNotedOnce(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("resources.yaml"), CLUSTER_RESOURCES.replace("key: password", "key: token"));
        Result plain = run("validate", "--no-env", dir.toString());
        assertThat(plain.code()).isEqualTo(1);
        assertThat(plain.output()).contains("Secret 'anthropic-api' not found").contains("Secret 'vk-alice' not found");

        Result r = run("validate", "--cluster-secrets", dir.toString());
        assertThat(r.output()).startsWith("ok");
        assertThat(r.errors()).isEqualTo("note: 2 Secrets not in this folder are assumed to exist in the cluster: anthropic-api, vk-alice"
                + System.lineSeparator());
        assertThat(r.code()).isZero();
    }

    @Test
    void aSecretInTheFolderIsStillCheckedWithClusterSecrets(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("resources.yaml"), CLUSTER_RESOURCES + """
                ---
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: to-nowhere}
                spec: {targets: [{model: nowhere/claude-sonnet-4-6}]}
                """);
        Result r = run("validate", "--cluster-secrets", dir.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.output())
                .contains("VirtualKey/bob: spec.secretRef.key: Secret 'vk-bob' has no key 'password'")
                .contains("RoutingRule/to-nowhere: spec.targets[0]")
                .doesNotContain("anthropic-api").doesNotContain("vk-alice");
        assertThat(r.errors()).contains("2 Secrets not in this folder are assumed to exist in the cluster: anthropic-api, vk-alice");
    }

    @Test
    void clusterSecretsImpliesNoEnv(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("secret.yaml"), """
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: alice}
                spec: {secretRef: {name: vk-alice}}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: vk-alice}
                stringData: {token: "${FINOPS_TEST_SURELY_UNSET_VARIABLE}"}
                """);
        Result r = run("validate", "--cluster-secrets", dir.toString());
        assertThat(r.output()).startsWith("ok");
        assertThat(r.errors()).as("every Secret is in the folder: no note").isEmpty();
        assertThat(r.code()).isZero();
    }
}

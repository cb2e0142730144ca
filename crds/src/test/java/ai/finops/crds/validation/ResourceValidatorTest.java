package ai.finops.crds.validation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.crds.Budget;
import ai.finops.crds.BudgetSpec;
import ai.finops.crds.ProviderDeployment;
import ai.finops.crds.ProviderDeploymentSpec;
import ai.finops.crds.ResourceSet;
import ai.finops.crds.ResourceYaml;
import ai.finops.crds.RoutingRule;
import ai.finops.crds.RoutingRuleSpec;
import ai.finops.crds.SecretKeyRef;
import ai.finops.crds.VirtualKey;
import ai.finops.crds.VirtualKeySpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class ResourceValidatorTest {
    static final String TOKEN = "sk-alice-0123456789abcdef";
    static final String API_KEY = "sk-ant-api03-SECRETSECRET";
    static final String CA = """
            -----BEGIN CERTIFICATE-----
            MIIBiTCCAS+gAwIBAgIUb8/g1e0EVbQPLeu45LWnRawmaAAwCgYIKoZIzj0EAwIw
            GTEXMBUGA1UEAwwOZmlub3BzLXRlc3QtY2EwIBcNMjYxMTI1MDIzNjQyWhgPMjEy
            NjExMDEwMjM2NDJaMBkxFzAVBgNVBAMMDmZpbm9wcy10ZXN0LWNhMFkwEwYHKoZI
            zj0CAQYIKoZIzj0DAQcDQgAEcx/YhUPZxZZOABAttCOxTDRiTCqu/gXqU3w8vYIi
            q8MMi/ITJfRoYBC3IbQsi3VAKgATtB+uy5pkEXFLQ8k9yKNTMFEwHQYDVR0OBBYE
            FPWkSmyn/yGAXM0pq3OUBZyO/G+iMB8GA1UdIwQYMBaAFPWkSmyn/yGAXM0pq3OU
            BZyO/G+iMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgOV0rSylx
            UCbzKpVkcFZ2vcT2+KYhPwN+2TEEHqQNhq4CIQD/jbJaAC+/DnTP82/lMSfh4WX7
            WqeJwDoLrQhYNrRktA==
            -----END CERTIFICATE-----
            """;

    // ------------------------------------------------------------------ builders

    static ProviderDeployment pd(String name, String provider, Consumer<ProviderDeploymentSpec> customize) {
        ProviderDeployment pd = new ProviderDeployment();
        pd.setMetadata(new ObjectMetaBuilder().withName(name).build());
        ProviderDeploymentSpec spec = new ProviderDeploymentSpec();
        spec.provider = provider;
        customize.accept(spec);
        pd.setSpec(spec);
        return pd;
    }

    static ProviderDeploymentSpec.Model model(String name) {
        ProviderDeploymentSpec.Model m = new ProviderDeploymentSpec.Model();
        m.name = name;
        return m;
    }

    static RoutingRule rule(String name, Consumer<RoutingRuleSpec> customize) {
        RoutingRule rr = new RoutingRule();
        rr.setMetadata(new ObjectMetaBuilder().withName(name).build());
        RoutingRuleSpec spec = new RoutingRuleSpec();
        customize.accept(spec);
        rr.setSpec(spec);
        return rr;
    }

    static RoutingRule target(String name, String... models) {
        return rule(name, s -> {
            for (String m : models) {
                s.targets.add(new RoutingRuleSpec.Target(m, null));
            }
        });
    }

    static VirtualKey key(String name, Consumer<VirtualKeySpec> customize) {
        VirtualKey vk = new VirtualKey();
        vk.setMetadata(new ObjectMetaBuilder().withName(name).build());
        VirtualKeySpec spec = new VirtualKeySpec();
        spec.secretRef = new SecretKeyRef("vk-" + name, null);
        customize.accept(spec);
        vk.setSpec(spec);
        return vk;
    }

    /** A key identified by the SHA-256 of its name, so that it needs no Secret. */
    static VirtualKey hashed(String name, Consumer<VirtualKeySpec> customize) {
        return key(name, s -> {
            s.secretRef = null;
            s.tokenSha256 = ResourceValidator.sha256Hex(name + "-0123456789abcdef");
            customize.accept(s);
        });
    }

    static Budget budget(String name, Consumer<BudgetSpec> customize) {
        Budget budget = new Budget();
        budget.setMetadata(new ObjectMetaBuilder().withName(name).build());
        BudgetSpec spec = new BudgetSpec();
        spec.limitUsd = "2000.00";
        spec.period = "Monthly";
        customize.accept(spec);
        budget.setSpec(spec);
        return budget;
    }

    /** A valid base: an anthropic and a vertex deployment, with their Secrets, plus a key's Secret. */
    static final class Fixture {
        final List<ProviderDeployment> deployments = new ArrayList<>();
        final List<RoutingRule> rules = new ArrayList<>();
        final List<VirtualKey> keys = new ArrayList<>();
        final List<Budget> budgets = new ArrayList<>();
        final Map<String, Map<String, String>> secrets = new LinkedHashMap<>();
        ResourceSet.SecretChecks checks = ResourceSet.SecretChecks.ALL;

        Fixture() {
            deployments.add(ResourceValidatorTest.pd("anthropic", "anthropic", s -> s.credentials = creds("anthropic-key", null)));
            deployments.add(ResourceValidatorTest.pd("vertex-prod", "vertex", s -> {
                s.vertex = Map.of("projectId", "my-proj", "region", "global");
                s.models.add(model("claude-sonnet-4-6"));
            }));
            secrets.put("anthropic-key", Map.of("apiKey", API_KEY));
            secrets.put("vk-alice", Map.of("token", TOKEN));
        }

        Fixture pd(ProviderDeployment pd) {
            deployments.add(pd);
            return this;
        }

        Fixture rule(RoutingRule rr) {
            rules.add(rr);
            return this;
        }

        Fixture key(VirtualKey vk) {
            keys.add(vk);
            return this;
        }

        Fixture budget(Budget budget) {
            budgets.add(budget);
            return this;
        }

        List<Problem> validate() {
            List<Problem> problems = ResourceValidator.validate(new ResourceSet(deployments, rules, keys, budgets, secrets, checks));
            for (Problem p : problems) {
                assertThat(p.toString()).doesNotContain(TOKEN).doesNotContain(API_KEY);
            }
            return problems;
        }
    }

    static ProviderDeploymentSpec.Credentials creds(String secret, String key) {
        ProviderDeploymentSpec.Credentials c = new ProviderDeploymentSpec.Credentials();
        c.secretRef = new SecretKeyRef(secret, key);
        return c;
    }

    static List<String> strings(List<Problem> problems) {
        return problems.stream().map(Problem::toString).toList();
    }

    // ------------------------------------------------------------------ the design example

    @Test
    void designExampleIsValid() throws Exception {
        Path file = Path.of(getClass().getResource("/design-example.yaml").toURI());
        ResourceYaml.Result read = ResourceYaml.readAll(file);
        assertThat(read.problems()).isEmpty();
        List<Problem> problems = new ArrayList<>();
        ResourceSet set = read.toResourceSet(Map.of("ANTHROPIC_API_KEY", API_KEY)::get, ResourceSet.SecretChecks.ALL, problems);
        assertThat(problems).isEmpty();
        assertThat(ResourceValidator.validate(set)).isEmpty();
    }

    @Test
    void realisticSetWithManyMistakesReportsAllInOrder() throws Exception {
        Path file = Path.of(getClass().getResource("/design-example.yaml").toURI());
        ResourceSet base = ResourceYaml.readAll(file).toResourceSet(Map.of("ANTHROPIC_API_KEY", API_KEY)::get,
                ResourceSet.SecretChecks.ALL, new ArrayList<>());
        List<RoutingRule> rules = new ArrayList<>(base.rules());
        rules.add(0, rule("zz-bad", s -> {
            s.when = "model = \"x\"";
            s.targets.add(new RoutingRuleSpec.Target("vertx/claude-sonnet-4-6", 1));
            s.targets.add(new RoutingRuleSpec.Target("vertex-prod/claude-opus-4-1", -1));
            s.fallbacks.add("a/b/c");
            s.scope = new RoutingRuleSpec.Scope();
            s.scope.virtualKeys.add("bob");
        }));
        List<VirtualKey> keys = new ArrayList<>(base.keys());
        keys.add(key("alice", s -> { }));
        ResourceSet set = new ResourceSet(base.deployments(), rules, keys, base.secrets(), base.secretChecks());
        List<Problem> problems = ResourceValidator.validate(set);
        assertThat(strings(problems)).containsExactly(
                "RoutingRule/zz-bad: spec.scope.virtualKeys[0]: VirtualKey 'bob' not found (VirtualKeys: [alice])",
                problems.get(1).toString(),
                "RoutingRule/zz-bad: spec.targets[0].model: unknown provider or deployment 'vertx' (ProviderDeployment names: "
                        + "[anthropic, vertex-prod]; provider types: [anthropic, vertex])",
                "RoutingRule/zz-bad: spec.targets[1].model: ProviderDeployment 'vertex-prod' does not list model 'claude-opus-4-1'"
                        + " (models: [claude-sonnet-4-6])",
                "RoutingRule/zz-bad: spec.targets[1].weight: must be >= 0, got -1",
                "RoutingRule/zz-bad: spec.fallbacks[0]: model reference 'a/b/c' contains more than one '/': use prefix/model or a bare model",
                "VirtualKey/alice: metadata.name: another VirtualKey has the same name");
        assertThat(problems.get(1).field()).isEqualTo("spec.when");
        assertThat(problems.get(1).message()).contains("invalid CEL expression").contains("1:");
        // deterministic
        assertThat(ResourceValidator.validate(set)).isEqualTo(problems);
        assertThat(ResourceValidator.validate(set, rules.get(0))).hasSize(6);
    }

    // ------------------------------------------------------------------ metadata

    @Test
    void names() {
        assertThat(new Fixture().validate()).isEmpty();
        assertThat(strings(new Fixture().pd(pd("Bad_Name", "anthropic", s -> { })).validate()))
                .singleElement().asString().startsWith("ProviderDeployment/Bad_Name: metadata.name: 'Bad_Name' is not a valid name");
        assertThat(strings(new Fixture().pd(pd("has.dot", "anthropic", s -> { })).validate()))
                .singleElement().asString().contains("no dots");
        assertThat(strings(new Fixture().rule(target("has.dot", "claude-sonnet-4-6")).validate())).isEmpty();
        assertThat(strings(new Fixture().pd(pd(null, "anthropic", s -> { })).validate()))
                .containsExactly("ProviderDeployment: metadata.name: is required");
        assertThat(strings(new Fixture().pd(pd("anthropic", "anthropic", s -> { })).validate()))
                .containsExactly("ProviderDeployment/anthropic: metadata.name: another ProviderDeployment has the same name");
        assertThat(strings(new Fixture().rule(target("r", "claude-x")).rule(target("r", "claude-y")).validate()))
                .containsExactly("RoutingRule/r: metadata.name: another RoutingRule has the same name");
        assertThat(new Fixture().pd(pd("x".repeat(64), "anthropic", s -> { })).validate()).hasSize(1);
        ProviderDeployment noSpec = pd("nospec", "anthropic", s -> { });
        noSpec.setSpec(null);
        assertThat(strings(new Fixture().pd(noSpec).validate())).containsExactly("ProviderDeployment/nospec: spec: is required");
    }

    // ------------------------------------------------------------------ ProviderDeployment

    @Test
    void provider() {
        assertThat(strings(new Fixture().pd(pd("x", "vertx", s -> { })).validate())).containsExactly(
                "ProviderDeployment/x: spec.provider: unknown provider 'vertx' (one of [anthropic, bedrock, vertex, azure, "
                        + "azure-openai, openai, openai-compatible])");
        assertThat(strings(new Fixture().pd(pd("x", null, s -> { })).validate())).singleElement().asString()
                .contains("spec.provider: is required");
        assertThat(new Fixture().pd(pd("x", "openai", s -> { })).validate()).isEmpty();
    }

    @Test
    void endpoint() {
        assertThat(new Fixture().pd(pd("x", "openai-compatible", s -> s.endpoint = "http://127.0.0.1:8000/v1")).validate()).isEmpty();
        assertThat(new Fixture().pd(pd("x", "anthropic", s -> s.endpoint = "https://llm.internal.example.com")).validate()).isEmpty();
        Map<String, String> bad = Map.of(
                "ftp://x.example.com", "scheme 'ftp' is not allowed",
                "/relative", "is not an absolute URL",
                "https://user:pw@x.example.com", "must not contain user info",
                "https://x.example.com/v1?key=1", "must not have a query",
                "https://x.example.com/#frag", "must not have a fragment",
                "https:///nohost", "no valid host",
                "https://x.example.com/a b", "' ' (space)",
                "", "is empty");
        bad.forEach((url, message) -> assertThat(strings(new Fixture().pd(pd("x", "anthropic", s -> s.endpoint = url)).validate()))
                .as(url).singleElement().asString().startsWith("ProviderDeployment/x: spec.endpoint: ").contains(message)
                .doesNotContain(url.contains("pw@") ? "pw" : "\u0000"));
        assertThat(strings(new Fixture().pd(pd("x", "openai-compatible", s -> { })).validate()))
                .containsExactly("ProviderDeployment/x: spec.endpoint: is required for provider openai-compatible");
    }

    @Test
    void providerBlocks() {
        assertThat(strings(new Fixture().pd(pd("x", "azure-openai", s -> { })).validate()))
                .containsExactly("ProviderDeployment/x: spec.endpoint: is required for provider azure-openai unless spec.azure.resource is set");
        assertThat(new Fixture().pd(pd("x", "azure", s -> s.azure = Map.of("resource", "my-foundry"))).validate()).isEmpty();
        assertThat(new Fixture().pd(pd("x", "azure-openai", s -> s.endpoint = "https://r.openai.azure.com")).validate()).isEmpty();
        assertThat(strings(new Fixture().pd(pd("x", "azure", s -> s.azure = Map.of("resource", "evil.com/x"))).validate()))
                .singleElement().asString().contains("spec.azure.resource");
        assertThat(strings(new Fixture().pd(pd("x", "bedrock", s -> { })).validate()))
                .containsExactly("ProviderDeployment/x: spec.bedrock.region: is required");
        assertThat(new Fixture().pd(pd("x", "bedrock", s -> s.bedrock = Map.of("region", "us-east-1"))).validate()).isEmpty();
        assertThat(strings(new Fixture().pd(pd("x", "bedrock", s -> s.bedrock = Map.of("region", "evil.com#"))).validate()))
                .singleElement().asString().contains("is not a valid region");
        assertThat(strings(new Fixture().pd(pd("x", "vertex", s -> { })).validate())).containsExactly(
                "ProviderDeployment/x: spec.vertex.region: is required",
                "ProviderDeployment/x: spec.vertex.projectId: is required for provider vertex");
        assertThat(strings(new Fixture().pd(pd("x", "vertex", s -> s.vertex = Map.of("region", "us-east5", "projectId", "../p"))).validate()))
                .singleElement().asString().contains("spec.vertex.projectId").contains("not a valid Google Cloud project id");
    }

    @Test
    void weightTimeoutsRetries() {
        assertThat(new Fixture().pd(pd("x", "openai", s -> {
            s.weight = 0;
            s.timeouts = new ProviderDeploymentSpec.Timeouts();
            s.timeouts.connect = "250ms";
            s.timeouts.firstByte = "1m30s";
            s.timeouts.idle = "0s";
            s.retries = new ProviderDeploymentSpec.Retries();
            s.retries.attempts = 10;
            s.retries.cooldown = "1.5s";
        })).validate()).isEmpty();
        assertThat(strings(new Fixture().pd(pd("x", "openai", s -> {
            s.weight = -1;
            s.timeouts = new ProviderDeploymentSpec.Timeouts();
            s.timeouts.connect = "5";
            s.timeouts.firstByte = "-1s";
            s.timeouts.idle = "1d";
            s.retries = new ProviderDeploymentSpec.Retries();
            s.retries.attempts = 11;
            s.retries.cooldown = "soon";
        })).validate())).satisfiesExactly(
                p -> assertThat(p).startsWith("ProviderDeployment/x: spec.weight: must be >= 0 (0 = drained), got -1"),
                p -> assertThat(p).startsWith("ProviderDeployment/x: spec.timeouts.connect: ").contains("missing unit"),
                p -> assertThat(p).startsWith("ProviderDeployment/x: spec.timeouts.firstByte: ").contains("negative"),
                p -> assertThat(p).startsWith("ProviderDeployment/x: spec.timeouts.idle: ").contains("unknown unit"),
                p -> assertThat(p).isEqualTo("ProviderDeployment/x: spec.retries.attempts: must be between 1 and 10, got 11"),
                p -> assertThat(p).startsWith("ProviderDeployment/x: spec.retries.cooldown: "));
        assertThat(strings(new Fixture().pd(pd("x", "openai", s -> {
            s.retries = new ProviderDeploymentSpec.Retries();
            s.retries.attempts = 0;
        })).validate())).singleElement().asString().contains("spec.retries.attempts");
    }

    @Test
    void models() {
        assertThat(new Fixture().pd(pd("x", "bedrock", s -> {
            s.bedrock = Map.of("region", "us-east-1");
            ProviderDeploymentSpec.Model m = model("claude-sonnet-4-6");
            m.deployment = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
            m.pricing = new ProviderDeploymentSpec.Pricing();
            m.pricing.inputPerMTok = "3.00";
            m.pricing.outputPerMTok = "15";
            m.pricing.cacheReadPerMTok = "0.30";
            s.models.add(m);
            ProviderDeploymentSpec.Model arn = model("my-profile");
            arn.deployment = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123";
            s.models.add(arn);
        })).validate()).isEmpty();
        assertThat(strings(new Fixture().pd(pd("x", "openai", s -> {
            s.models.add(model(null));
            s.models.add(model("vertex/m"));
            s.models.add(model("gpt-4o"));
            s.models.add(model("gpt-4o"));
            ProviderDeploymentSpec.Model m = model("ok");
            m.deployment = "../../admin";
            m.pricing = new ProviderDeploymentSpec.Pricing();
            m.pricing.inputPerMTok = "-1";
            m.pricing.cacheWritePerMTok = "1.1234567";
            s.models.add(m);
        })).validate())).satisfiesExactly(
                p -> assertThat(p).isEqualTo("ProviderDeployment/x: spec.models[0].name: is required"),
                p -> assertThat(p).startsWith("ProviderDeployment/x: spec.models[1].name: ").contains("'/'").contains("no prefix"),
                p -> assertThat(p).isEqualTo("ProviderDeployment/x: spec.models[3].name: model 'gpt-4o' is listed twice"),
                p -> assertThat(p).startsWith("ProviderDeployment/x: spec.models[4].deployment: "),
                p -> assertThat(p).startsWith("ProviderDeployment/x: spec.models[4].pricing.inputPerMTok: ").contains("negative"),
                p -> assertThat(p).startsWith("ProviderDeployment/x: spec.models[4].pricing.cacheWritePerMTok: ").contains("fractional"));
    }

    @Test
    void credentials() {
        // resolves (apiKey default key)
        assertThat(new Fixture().validate()).isEmpty();
        // custom key
        Fixture custom = new Fixture().pd(pd("x", "openai", s -> s.credentials = creds("openai", "key")));
        custom.secrets.put("openai", Map.of("key", "sk-openai-value-1234"));
        assertThat(custom.validate()).isEmpty();
        // missing Secret, missing key, empty value; never the value
        Fixture bad = new Fixture()
                .pd(pd("a", "openai", s -> s.credentials = creds("nope", null)))
                .pd(pd("b", "openai", s -> s.credentials = creds("anthropic-key", "other")))
                .pd(pd("c", "openai", s -> s.credentials = creds("empty", null)))
                .pd(pd("d", "openai", s -> s.credentials = creds("Bad_Name", null)))
                .pd(pd("e", "openai", s -> s.credentials = new ProviderDeploymentSpec.Credentials()));
        bad.secrets.put("empty", Map.of("apiKey", " "));
        assertThat(strings(bad.validate())).satisfiesExactly(
                p -> assertThat(p).isEqualTo("ProviderDeployment/a: spec.credentials.secretRef.name: Secret 'nope' not found"),
                p -> assertThat(p).isEqualTo("ProviderDeployment/b: spec.credentials.secretRef.key: Secret 'anthropic-key' has no key 'other' (keys: [apiKey])"),
                p -> assertThat(p).isEqualTo("ProviderDeployment/c: spec.credentials.secretRef.key: key 'apiKey' of Secret 'empty' is empty"),
                p -> assertThat(p).startsWith("ProviderDeployment/d: spec.credentials.secretRef.name: 'Bad_Name' is not a valid name"),
                p -> assertThat(p).startsWith("ProviderDeployment/e: spec.credentials.secretRef: is required"));
        // bedrock and vertex keys
        Fixture cloud = new Fixture()
                .pd(pd("br", "bedrock", s -> {
                    s.bedrock = Map.of("region", "us-east-1");
                    s.credentials = creds("aws", null);
                }))
                .pd(pd("vx", "vertex", s -> {
                    s.vertex = Map.of("region", "global", "projectId", "my-proj");
                    s.credentials = creds("gcp", null);
                }));
        cloud.secrets.put("aws", Map.of("accessKeyId", "AKIA0000", "sessionToken", "t"));
        cloud.secrets.put("gcp", Map.of("serviceAccountJson", "{}"));
        assertThat(strings(cloud.validate())).containsExactly(
                "ProviderDeployment/br: spec.credentials.secretRef: Secret 'aws' has no key 'secretAccessKey' (keys: [accessKeyId, sessionToken])");
        // without secret checks only the shape is validated
        Fixture none = new Fixture().pd(pd("a", "openai", s -> s.credentials = creds("nope", null)));
        none.checks = ResourceSet.SecretChecks.NONE;
        assertThat(none.validate()).isEmpty();
    }

    @Test
    void caPem() {
        assertThat(new Fixture().pd(pd("x", "openai-compatible", s -> {
            s.endpoint = "https://vllm.internal:8443/v1";
            s.tls = new ProviderDeploymentSpec.Tls();
            s.tls.caPem = CA + CA;
        })).validate()).isEmpty();
        for (String pem : List.of("not a pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" + CA)) {
            assertThat(strings(new Fixture().pd(pd("x", "openai-compatible", s -> {
                s.endpoint = "https://vllm.internal:8443/v1";
                s.tls = new ProviderDeploymentSpec.Tls();
                s.tls.caPem = pem;
            })).validate())).as(pem).singleElement().asString().startsWith("ProviderDeployment/x: spec.tls.caPem: ");
        }
    }

    // ------------------------------------------------------------------ RoutingRule

    @Test
    void targetsResolve() {
        Fixture ok = new Fixture()
                .pd(pd("bedrock-us", "bedrock", s -> s.bedrock = Map.of("region", "us-east-1")))
                .pd(pd("openai", "openai", s -> s.models.add(model("gpt-4o"))))
                .rule(target("prefix-deployment", "vertex-prod/claude-sonnet-4-6"))
                .rule(target("prefix-type", "vertex/claude-sonnet-4-6"))
                .rule(target("pass-through-deployment", "bedrock-us/any-model-id"))
                .rule(target("pass-through-type", "bedrock/us.anthropic.claude-x-v1:0"))
                .rule(target("bare-listed", "gpt-4o"))
                .rule(target("bare-claude", "claude-opus-4-1"))
                .rule(target("deployment-name-wins", "openai/gpt-4o"));
        assertThat(ok.validate()).isEmpty();

        Fixture bad = new Fixture()
                .pd(pd("openai", "openai", s -> s.models.add(model("gpt-4o"))))
                .rule(target("a", "vertx/claude-sonnet-4-6"))
                .rule(target("b", "vertex/claude-opus-4-1"))
                .rule(target("c", "gpt-5"))
                .rule(target("d", "openai/gpt-5"))
                .rule(target("e", "bedrock/m"))
                .rule(target("f", "../etc/passwd"))
                .rule(target("g"));
        assertThat(strings(bad.validate())).containsExactly(
                "RoutingRule/a: spec.targets[0].model: unknown provider or deployment 'vertx' (ProviderDeployment names: "
                        + "[anthropic, openai, vertex-prod]; provider types: [anthropic, openai, vertex])",
                "RoutingRule/b: spec.targets[0].model: no vertex ProviderDeployment serves model 'claude-opus-4-1' (vertex deployments: [vertex-prod])",
                "RoutingRule/c: spec.targets[0].model: no ProviderDeployment lists model 'gpt-5' (use prefix/model with a deployment name or "
                        + "provider type, or list it in a deployment's spec.models)",
                "RoutingRule/d: spec.targets[0].model: ProviderDeployment 'openai' does not list model 'gpt-5' (models: [gpt-4o])",
                "RoutingRule/e: spec.targets[0].model: no ProviderDeployment named 'bedrock' and no deployment of provider type bedrock "
                        + "(ProviderDeployment names: [anthropic, openai, vertex-prod]; provider types: [anthropic, openai, vertex])",
                "RoutingRule/f: spec.targets[0].model: model reference '../etc/passwd' contains more than one '/': use prefix/model or a bare model",
                "RoutingRule/g: spec.targets: at least one target is required");

        Fixture noAnthropic = new Fixture();
        noAnthropic.deployments.remove(0);
        noAnthropic.rule(target("claude", "claude-opus-4-1"));
        assertThat(strings(noAnthropic.validate())).singleElement().asString()
                .contains("no anthropic deployment can serve it");
    }

    @Test
    void weightsFallbacksWhenScopePriority() {
        assertThat(new Fixture().key(key("alice", s -> { })).rule(rule("ok", s -> {
            s.priority = -5;
            s.when = "\"x-team\" in headers && headers[\"x-team\"] == team";
            s.targets.add(new RoutingRuleSpec.Target("vertex/claude-sonnet-4-6", 0));
            s.targets.add(new RoutingRuleSpec.Target("anthropic/claude-sonnet-4-6", 3));
            s.fallbacks.add("claude-sonnet-4-6");
            s.scope = new RoutingRuleSpec.Scope();
            s.scope.virtualKeys.add("alice");
        })).validate()).isEmpty();
        assertThat(strings(new Fixture().rule(rule("r", s -> {
            s.when = "model";
            s.targets.add(new RoutingRuleSpec.Target("anthropic/claude-sonnet-4-6", 0));
            s.fallbacks.add("nowhere/claude-x");
            s.fallbacks.add("");
            s.scope = new RoutingRuleSpec.Scope();
            s.scope.virtualKeys.add("ghost");
        })).validate())).satisfiesExactly(
                p -> assertThat(p).isEqualTo("RoutingRule/r: spec.scope.virtualKeys[0]: VirtualKey 'ghost' not found (VirtualKeys: [])"),
                p -> assertThat(p).startsWith("RoutingRule/r: spec.when: CEL expression must evaluate to bool"),
                p -> assertThat(p).isEqualTo("RoutingRule/r: spec.targets: at least one target needs a weight > 0"),
                p -> assertThat(p).startsWith("RoutingRule/r: spec.fallbacks[0]: unknown provider or deployment 'nowhere'"),
                p -> assertThat(p).isEqualTo("RoutingRule/r: spec.fallbacks[1]: is empty"));
    }

    // ------------------------------------------------------------------ VirtualKey

    @Test
    void keyTokens() {
        assertThat(new Fixture().key(key("alice", s -> { })).validate()).isEmpty();
        String hash = ResourceValidator.sha256Hex("another-token-0123456789");
        assertThat(new Fixture().key(key("bob", s -> {
            s.secretRef = null;
            s.tokenSha256 = hash;
        })).validate()).isEmpty();

        Fixture bad = new Fixture()
                .key(key("both", s -> s.tokenSha256 = hash.replace('a', 'b')))
                .key(key("neither", s -> s.secretRef = null))
                .key(key("upper", s -> {
                    s.secretRef = null;
                    s.tokenSha256 = hash.toUpperCase();
                }))
                .key(key("missing", s -> { }))
                .key(key("nokey", s -> s.secretRef = new SecretKeyRef("vk-alice", "other")))
                .key(key("short", s -> { }))
                .key(key("twin", s -> s.secretRef = new SecretKeyRef("vk-alice", null)))
                .key(key("alice", s -> { }));
        bad.secrets.put("vk-short", Map.of("token", "short-secret"));
        assertThat(strings(bad.validate())).containsExactly(
                "VirtualKey/both: spec: give exactly one of secretRef and tokenSha256, not both",
                "VirtualKey/missing: spec.secretRef.name: Secret 'vk-missing' not found",
                "VirtualKey/neither: spec: one of secretRef and tokenSha256 is required",
                "VirtualKey/nokey: spec.secretRef.key: Secret 'vk-alice' has no key 'other' (keys: [token])",
                "VirtualKey/short: spec.secretRef: the token in Secret 'vk-short' key 'token' is shorter than 16 characters",
                "VirtualKey/twin: spec.secretRef: the same token as VirtualKey 'alice': every key needs its own token",
                "VirtualKey/upper: spec.tokenSha256: must be 64 lower-case hex digits (the SHA-256 of the token)");

        // the operator's mode: a VirtualKey's Secret may be missing (it generates it)
        Fixture operator = new Fixture().key(key("new-key", s -> { }));
        operator.checks = ResourceSet.SecretChecks.PROVIDER_CREDENTIALS;
        assertThat(operator.validate()).isEmpty();
        operator.checks = ResourceSet.SecretChecks.ALL;
        assertThat(operator.validate()).hasSize(1);
    }

    @Test
    void keyPolicies() {
        assertThat(new Fixture().key(key("alice", s -> {
            s.allow = new VirtualKeySpec.Allow();
            s.allow.providers.add("vertex");
            s.allow.providers.add("anthropic");
            s.allow.providers.add("bedrock");
            s.allow.models.add("claude-*");
            s.budget = new VirtualKeySpec.Budget();
            s.budget.limitUsd = "50.00";
            s.budget.period = "Weekly";
            s.rateLimits = new VirtualKeySpec.RateLimits();
            s.rateLimits.requestsPerMinute = 60;
            s.rateLimits.tokensPerMinute = 400000;
            s.expiresAt = "2027-01-01T00:00:00+02:00";
        })).validate()).isEmpty();
        assertThat(strings(new Fixture().key(key("alice", s -> {
            s.allow = new VirtualKeySpec.Allow();
            s.allow.providers.add("vertx");
            s.allow.models.add(" ");
            s.budget = new VirtualKeySpec.Budget();
            s.budget.limitUsd = "fifty";
            s.budget.period = "monthly";
            s.rateLimits = new VirtualKeySpec.RateLimits();
            s.rateLimits.requestsPerMinute = 0;
            s.rateLimits.tokensPerMinute = -1;
            s.expiresAt = "2027-01-01";
        })).validate())).satisfiesExactly(
                p -> assertThat(p).startsWith("VirtualKey/alice: spec.allow.providers[0]: unknown provider or deployment 'vertx'"),
                p -> assertThat(p).startsWith("VirtualKey/alice: spec.allow.models[0]: is empty"),
                p -> assertThat(p).startsWith("VirtualKey/alice: spec.budget.limitUsd: "),
                p -> assertThat(p).isEqualTo("VirtualKey/alice: spec.budget.period: unknown period 'monthly'"
                        + " (one of [Daily, Weekly, Monthly, Quarterly, Total])"),
                p -> assertThat(p).isEqualTo("VirtualKey/alice: spec.rateLimits.requestsPerMinute: must be > 0, got 0"),
                p -> assertThat(p).isEqualTo("VirtualKey/alice: spec.rateLimits.tokensPerMinute: must be > 0, got -1"),
                p -> assertThat(p).startsWith("VirtualKey/alice: spec.expiresAt: '2027-01-01' is not an RFC 3339 timestamp"));
        assertThat(strings(new Fixture().key(key("alice", s -> s.budget = new VirtualKeySpec.Budget())).validate()))
                .containsExactly("VirtualKey/alice: spec.budget.limitUsd: is required when spec.budget is given");
    }

    @Test
    void keyBudgetWindowsAndRateLimits() {
        assertThat(new Fixture().key(key("alice", s -> {
            s.budget = new VirtualKeySpec.Budget();
            s.budget.limitUsd = "50.00";
            s.budget.duration = "7d";
            s.rateLimits = new VirtualKeySpec.RateLimits();
            s.rateLimits.maxConcurrentRequests = 4;
        })).key(hashed("bob", s -> {
            s.budget = new VirtualKeySpec.Budget();
            s.budget.limitUsd = "10";
            s.budget.period = "Quarterly";
            s.budget.timeZone = "America/New_York";
        })).key(hashed("carol", s -> {
            s.budget = new VirtualKeySpec.Budget();
            s.budget.limitUsd = "10";
            s.budget.timeZone = "Asia/Tokyo";          // with the default period, Monthly
        })).validate()).isEmpty();
        assertThat(strings(new Fixture().key(key("alice", s -> {
            s.budget = new VirtualKeySpec.Budget();
            s.budget.limitUsd = "50.00";
            s.budget.period = "Weekly";
            s.budget.duration = "7d";
            s.rateLimits = new VirtualKeySpec.RateLimits();
            s.rateLimits.maxConcurrentRequests = 0;
        })).key(hashed("bob", s -> {
            s.budget = new VirtualKeySpec.Budget();
            s.budget.limitUsd = "50.00";
            s.budget.duration = "1w";
            s.budget.timeZone = "Europe/Pariss";
        })).key(hashed("carol", s -> {
            s.budget = new VirtualKeySpec.Budget();
            s.budget.limitUsd = "50.00";
            s.budget.duration = "30d";
            s.budget.timeZone = "Europe/Paris";
        })).key(hashed("dave", s -> {
            s.budget = new VirtualKeySpec.Budget();
            s.budget.limitUsd = "50.00";
            s.budget.period = "Total";
            s.budget.timeZone = "UTC";
        })).validate())).containsExactly(
                "VirtualKey/alice: spec.budget: give period or duration, not both",
                "VirtualKey/alice: spec.rateLimits.maxConcurrentRequests: must be > 0, got 0",
                "VirtualKey/bob: spec.budget.duration: window '1w' is not a rolling window (expected whole days or hours, such as 7d or 12h)",
                "VirtualKey/bob: spec.budget.timeZone: unknown time zone 'Europe/Pariss'"
                        + " (expected an IANA time zone id such as Europe/Paris, America/New_York or UTC)",
                "VirtualKey/carol: spec.budget.timeZone: a rolling duration has no calendar boundaries: timeZone goes only with period"
                        + " Daily, Weekly, Monthly or Quarterly",
                "VirtualKey/dave: spec.budget.timeZone: period Total never resets: timeZone goes only with period"
                        + " Daily, Weekly, Monthly or Quarterly");
    }

    @Test
    void aValidBudget() {
        assertThat(new Fixture().key(key("alice", s -> s.team = "platform")).budget(budget("platform-monthly", s -> {
            s.scope = new BudgetSpec.Scope();
            s.scope.teams.add("platform");
            s.scope.virtualKeys.add("alice");
            s.scope.models.add("claude-opus-*");
            s.timeZone = "Europe/Paris";
            s.action = "Warn";
            s.alertAtPercent.addAll(List.of(50, 80, 95, 100));
        })).budget(budget("rolling", s -> {
            s.period = null;
            s.duration = "7d";
        })).budget(budget("everything", s -> {
            s.period = "Total";
            s.limitUsd = "0";
        })).validate()).isEmpty();
    }

    @Test
    void budgetPeriodsAndDurations() {
        assertThat(strings(new Fixture()
                .budget(budget("both", s -> s.duration = "7d"))
                .budget(budget("neither", s -> s.period = null))
                .budget(budget("lower-case", s -> s.period = "monthly"))
                .budget(budget("go-duration", s -> {
                    s.period = null;
                    s.duration = "1h30m";
                }))
                .budget(budget("no-unit", s -> {
                    s.period = null;
                    s.duration = "7";
                }))
                .budget(budget("too-long", s -> {
                    s.period = null;
                    s.duration = "400d";
                }))
                .budget(budget("zero", s -> {
                    s.period = null;
                    s.duration = "0h";
                }))
                .validate())).containsExactly(
                "Budget/both: spec: give exactly one of period and duration, not both",
                "Budget/go-duration: spec.duration: window '1h30m' is not a whole number of days or hours"
                        + " (write it as days or hours alone, such as 7d or 12h)",
                "Budget/lower-case: spec.period: unknown period 'monthly' (one of [Daily, Weekly, Monthly, Quarterly, Total])",
                "Budget/neither: spec: one of period (Daily, Weekly, Monthly, Quarterly, Total) and duration (a rolling window such as 7d)"
                        + " is required",
                "Budget/no-unit: spec.duration: window '7' is not a rolling window (expected whole days or hours, such as 7d or 12h)",
                "Budget/too-long: spec.duration: window '400d' is longer than 366d",
                "Budget/zero: spec.duration: window '0h' is shorter than 1h");
    }

    @Test
    void budgetTimeZones() {
        assertThat(strings(new Fixture()
                .budget(budget("case", s -> s.timeZone = "europe/paris"))
                .budget(budget("offset", s -> s.timeZone = "+02:00"))
                .budget(budget("utc-offset", s -> s.timeZone = "UTC+2"))
                .budget(budget("unknown", s -> s.timeZone = "Mars/Olympus_Mons"))
                .budget(budget("empty", s -> s.timeZone = ""))
                .budget(budget("rolling", s -> {
                    s.period = null;
                    s.duration = "24h";
                    s.timeZone = "Europe/Paris";
                }))
                .budget(budget("total", s -> {
                    s.period = "Total";
                    s.timeZone = "Europe/Paris";
                }))
                .validate())).containsExactly(
                "Budget/case: spec.timeZone: unknown time zone 'europe/paris' (did you mean Europe/Paris?)",
                "Budget/empty: spec.timeZone: time zone is empty (omit it for UTC, or name an IANA time zone such as Europe/Paris)",
                "Budget/offset: spec.timeZone: '+02:00' is a fixed offset, not a time zone: name the place, such as Europe/Paris,"
                        + " so that the period follows daylight saving time",
                "Budget/rolling: spec.timeZone: a rolling duration has no calendar boundaries: timeZone goes only with period"
                        + " Daily, Weekly, Monthly or Quarterly",
                "Budget/total: spec.timeZone: period Total never resets: timeZone goes only with period Daily, Weekly, Monthly or Quarterly",
                "Budget/unknown: spec.timeZone: unknown time zone 'Mars/Olympus_Mons'"
                        + " (expected an IANA time zone id such as Europe/Paris, America/New_York or UTC)",
                "Budget/utc-offset: spec.timeZone: 'UTC+2' is a fixed offset, not a time zone: name the place, such as Europe/Paris,"
                        + " so that the period follows daylight saving time");
    }

    @Test
    void budgetAlertPercentages() {
        assertThat(strings(new Fixture()
                .budget(budget("descending", s -> s.alertAtPercent.addAll(List.of(80, 50))))
                .budget(budget("twice", s -> s.alertAtPercent.addAll(List.of(50, 80, 80, 95))))
                .budget(budget("out-of-range", s -> s.alertAtPercent.addAll(List.of(0, 50, 101))))
                .budget(budget("null", s -> s.alertAtPercent.add(null)))
                .budget(budget("many", s -> s.alertAtPercent.addAll(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11))))
                .validate())).containsExactly(
                "Budget/descending: spec.alertAtPercent: must be in ascending order with each value once, got [80, 50]",
                "Budget/many: spec.alertAtPercent: has 11 entries; at most 10",
                "Budget/null: spec.alertAtPercent[0]: is empty",
                "Budget/out-of-range: spec.alertAtPercent[0]: must be between 1 and 100, got 0",
                "Budget/out-of-range: spec.alertAtPercent[2]: must be between 1 and 100, got 101",
                "Budget/twice: spec.alertAtPercent: must be in ascending order with each value once, got [50, 80, 80, 95] (80 twice)");
    }

    @Test
    void budgetMoneyActionScopeAndName() {
        List<Problem> problems = new Fixture().key(key("alice", s -> { }))
                .budget(budget("dollars", s -> s.limitUsd = "$2000"))
                .budget(budget("negative", s -> s.limitUsd = "-5"))
                .budget(budget("precise", s -> s.limitUsd = "0.0000001"))
                .budget(budget("huge", s -> s.limitUsd = "10000000000000"))
                .budget(budget("missing", s -> s.limitUsd = null))
                .budget(budget("action", s -> s.action = "block"))
                .budget(budget("scope", s -> {
                    s.scope = new BudgetSpec.Scope();
                    s.scope.teams.add("");
                    s.scope.virtualKeys.add("bob");
                    s.scope.virtualKeys.add("");
                    s.scope.models.add(" ");
                }))
                .budget(budget("Team_A", s -> { }))
                .validate();
        assertThat(strings(problems)).containsExactly(
                "Budget/Team_A: metadata.name: 'Team_A' is not a valid name: use lower-case letters, digits, '-' and '.', starting and"
                        + " ending with a letter or digit (a DNS-1123 subdomain)",
                "Budget/action: spec.action: unknown action 'block' (one of [Block, Warn])",
                "Budget/dollars: spec.limitUsd: amount '$2000' is not a plain decimal number of US dollars (expected e.g. \"50.00\" or \"0.25\")",
                "Budget/huge: spec.limitUsd: amount '10000000000000' is too large (at most 9223372036854 dollars)",
                "Budget/missing: spec.limitUsd: is required",
                "Budget/negative: spec.limitUsd: amount '-5' is negative",
                "Budget/precise: spec.limitUsd: amount '0.0000001' has more than 6 fractional digits",
                "Budget/scope: spec.scope.teams[0]: is empty",
                "Budget/scope: spec.scope.virtualKeys[0]: VirtualKey 'bob' not found (VirtualKeys: [alice])",
                "Budget/scope: spec.scope.virtualKeys[1]: is empty",
                "Budget/scope: spec.scope.models[0]: is empty (omit the list to count every model)");
        assertThat(problems).filteredOn(Problem::unresolvedReference).extracting(Problem::field)
                .containsExactly("spec.scope.virtualKeys[0]");
    }

    @Test
    void budgetsComeAfterTheOtherKindsAndNamesAreUnique() {
        Budget first = budget("team", s -> { });
        Budget second = budget("team", s -> s.limitUsd = "1");
        Budget noSpec = new Budget();
        noSpec.setMetadata(new ObjectMetaBuilder().withName("a-no-spec").build());
        List<Problem> problems = new Fixture().key(key("alice", s -> s.expiresAt = "soon"))
                .budget(first).budget(second).budget(noSpec).validate();
        assertThat(strings(problems)).containsExactly(
                "VirtualKey/alice: spec.expiresAt: 'soon' is not an RFC 3339 timestamp (expected e.g. 2027-01-01T00:00:00Z)",
                "Budget/a-no-spec: spec: is required",
                "Budget/team: metadata.name: another Budget has the same name");
        ResourceSet set = new ResourceSet(List.of(), List.of(), List.of(), List.of(first, noSpec), Map.of(), ResourceSet.SecretChecks.ALL);
        assertThat(ResourceValidator.validate(set, noSpec)).extracting(Problem::field).containsExactly("spec");
        assertThat(ResourceValidator.validate(set, first)).isEmpty();
    }

    @Test
    void helpers() {
        assertThat(ResourceValidator.defaultWeight(null)).isEqualTo(1);
        assertThat(ResourceValidator.defaultWeight(0)).isZero();
        assertThat(ResourceValidator.sha256Hex("abc")).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThat(ResourceValidator.checkName("ok-name", true)).isNull();
        assertThat(ResourceValidator.checkName("ok.name", false)).isNull();
        assertThat(ResourceValidator.checkName("ok.name", true)).isNotNull();
        assertThat(ResourceValidator.parseInstant("2027-01-01T00:00:00Z")).hasToString("2027-01-01T00:00:00Z");
        ResourceSet set = new ResourceSet(new Fixture().deployments, List.of(), List.of(), new HashMap<>());
        assertThat(ResourceValidator.resolve("vertex/claude-sonnet-4-6", set)).isEmpty();
        assertThat(ResourceValidator.resolve("vertex/claude-opus-4-1", set)).isPresent();
    }
}

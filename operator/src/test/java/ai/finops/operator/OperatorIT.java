package ai.finops.operator;

import static ai.finops.operator.Resources.anthropic;
import static ai.finops.operator.Resources.budget;
import static ai.finops.operator.Resources.key;
import static ai.finops.operator.Resources.rule;
import static ai.finops.operator.Resources.secret;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.crds.Budget;
import ai.finops.crds.ProviderDeployment;
import ai.finops.crds.ResourceStatus;
import ai.finops.crds.RoutingRule;
import ai.finops.crds.RoutingRuleSpec;
import ai.finops.crds.VirtualKey;
import ai.finops.crds.validation.ResourceValidator;
import ai.finops.operator.bundle.Names;
import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The operator against the Fabric8 mock API server in CRUD mode. */
class OperatorIT {
    static final String NS = "team-a";
    static final Duration WAIT = Duration.ofSeconds(20);

    MockCluster cluster;
    KubernetesClient client;
    FinopsOperator operator;
    OperatorMetrics metrics;

    @BeforeEach
    void start() {
        cluster = new MockCluster().namespace(NS).namespace("other");
        client = cluster.client;
        metrics = new OperatorMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        operator = FinopsOperator.start(cluster.operatorClient(), FinopsOperator.Settings.of(Set.of(), null), metrics);
    }

    @AfterEach
    void stop() {
        if (operator != null) {
            operator.close();
        }
        cluster.close();
    }

    // ------------------------------------------------------------------ helpers

    String bundle() {
        ConfigMap cm = client.configMaps().inNamespace(NS).withName(Names.BUNDLE_CONFIG_MAP).get();
        return cm == null ? null : cm.getData().get(Names.BUNDLE_KEY);
    }

    Map<String, String> credentials() {
        Secret s = client.secrets().inNamespace(NS).withName(Names.CREDENTIALS_SECRET).get();
        return s == null ? null : BundleReconciler.decode(s);
    }

    static Condition condition(CustomResource<?, ? extends ResourceStatus> r, String type) {
        if (r == null || r.getStatus() == null) {
            return null;
        }
        return r.getStatus().conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    }

    RoutingRule rr(String name) {
        return client.resources(RoutingRule.class).inNamespace(NS).withName(name).get();
    }

    void awaitReady(CustomResource<?, ? extends ResourceStatus> resource, String status) {
        await().atMost(WAIT).untilAsserted(() -> {
            CustomResource<?, ? extends ResourceStatus> now = client.resource(resource).get();
            Condition ready = condition(now, "Ready");
            assertThat(ready).as("Ready condition of %s", resource.getMetadata().getName()).isNotNull();
            assertThat(ready.getStatus()).isEqualTo(status);
            assertThat(ready.getObservedGeneration()).isEqualTo(now.getMetadata().getGeneration());
        });
    }

    void baseline() {
        client.resource(secret(NS, "anthropic-key", Map.of("apiKey", "sk-ant-1", "unrelated", "never-copied"))).create();
        client.resource(anthropic(NS, "anthropic-prod", "https://api.anthropic.com", "anthropic-key")).create();
        client.resource(rule(NS, "claude-code", "model == \"sonnet-model\"", "anthropic-prod/claude-sonnet-4-6")).create();
        client.resource(key(NS, "alice", "vk-alice")).create();
        client.resource(budget(NS, "platform-monthly", "platform", "2000.00")).create();
    }

    Budget bud(String name) {
        return client.resources(Budget.class).inNamespace(NS).withName(name).get();
    }

    // ------------------------------------------------------------------ tests

    @Test
    void bundlesEachKindAndFollowsCreateUpdateAndDelete() {
        baseline();
        // the credentials Secret is written after the bundle ConfigMap: both are awaited
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(bundle()).isNotNull()
                    .contains("name: anthropic-prod", "name: claude-code", "name: alice", "tokenSha256: ", "kind: Budget",
                            "name: platform-monthly", "limitUsd: \"2000.00\"", "timeZone: Europe/Paris");
            assertThat(credentials()).containsExactly(Map.entry("anthropic-key.apiKey", "sk-ant-1"));
        });
        ConfigMap cm = client.configMaps().inNamespace(NS).withName(Names.BUNDLE_CONFIG_MAP).get();
        assertThat(cm.getMetadata().getAnnotations()).containsKey(Names.BUNDLE_HASH_ANNOTATION);
        assertThat(cm.getMetadata().getLabels()).containsEntry(Names.MANAGED_BY_LABEL, Names.MANAGED_BY);
        assertThat(bundle()).doesNotContain("sk-ant-1").doesNotContain("never-copied").doesNotContain("secretRef: {name: vk-alice");
        awaitReady(rr("claude-code"), "True");
        awaitReady(client.resources(VirtualKey.class).inNamespace(NS).withName("alice").get(), "True");
        awaitReady(client.resources(ProviderDeployment.class).inNamespace(NS).withName("anthropic-prod").get(), "True");
        awaitReady(bud("platform-monthly"), "True");

        // update a budget
        Budget raised = bud("platform-monthly");
        raised.getSpec().limitUsd = "2500.00";
        cluster.edit(raised, "/spec");
        await().atMost(WAIT).untilAsserted(() -> assertThat(bundle()).contains("limitUsd: \"2500.00\"").doesNotContain("2000.00"));

        // update a rule
        RoutingRule edited = rr("claude-code");
        edited.getSpec().targets = List.of(new RoutingRuleSpec.Target("anthropic-prod/claude-haiku-4-5", null));
        cluster.edit(edited, "/spec");
        await().atMost(WAIT).untilAsserted(() -> assertThat(bundle()).contains("anthropic-prod/claude-haiku-4-5")
                .doesNotContain("claude-sonnet-4-6"));

        // update a deployment: a rule that used it is re-derived (here: the deployment now lists models and not this one)
        ProviderDeployment pd = client.resources(ProviderDeployment.class).inNamespace(NS).withName("anthropic-prod").get();
        pd.getSpec().models = List.of(model("claude-opus-4-6"));
        cluster.edit(pd, "/spec");
        await().atMost(WAIT).untilAsserted(() -> {
            Condition refs = condition(rr("claude-code"), "ResolvedRefs");
            assertThat(refs).isNotNull();
            assertThat(refs.getStatus()).isEqualTo("False");
            assertThat(refs.getMessage()).contains("does not list model 'claude-haiku-4-5'");
            assertThat(bundle()).contains("claude-opus-4-6").doesNotContain("name: claude-code");
        });

        // delete each kind
        client.resource(rr("claude-code")).delete();
        client.resources(VirtualKey.class).inNamespace(NS).withName("alice").delete();
        client.resources(Budget.class).inNamespace(NS).withName("platform-monthly").delete();
        await().atMost(WAIT).untilAsserted(() -> assertThat(bundle()).doesNotContain("kind: RoutingRule").doesNotContain("kind: VirtualKey")
                .doesNotContain("kind: Budget"));
        client.resources(ProviderDeployment.class).inNamespace(NS).withName("anthropic-prod").delete();
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(bundle()).doesNotContain("kind: ProviderDeployment");
            assertThat(credentials()).isEmpty();
        });
        // nothing is ever written into a namespace with no resources of ours
        assertThat(client.configMaps().inNamespace("other").withName(Names.BUNDLE_CONFIG_MAP).get()).isNull();
    }

    /** What the spend loop writes beside the conditions: the summary, and a condition of its own. */
    static final String SPEND = "{\"spentUsd\":\"12.34\",\"limitUsd\":\"50.00\",\"percent\":24,\"periodStart\":\"2026-12-01T00:00:00Z\","
            + "\"periodEnd\":\"2027-01-01T00:00:00Z\",\"updatedAt\":\"2026-12-04T10:00:00Z\",\"futureField\":true}";
    static final String BUDGET_EXCEEDED = "{\"type\":\"BudgetExceeded\",\"status\":\"False\",\"reason\":\"UnderLimit\","
            + "\"message\":\"spent 12.34 of 50.00\",\"lastTransitionTime\":\"2026-12-04T10:00:00Z\"}";

    @Test
    void aReconcileWritesOnlyTheStatusFieldsItOwns() throws Exception {
        baseline();
        for (Class<? extends CustomResource<?, ? extends ResourceStatus>> type : List.<Class<? extends CustomResource<?, ? extends ResourceStatus>>>of(
                VirtualKey.class, Budget.class)) {
            String name = type == VirtualKey.class ? "alice" : "platform-monthly";
            String kind = type.getSimpleName();
            CustomResource<?, ? extends ResourceStatus> before = client.resources(type).inNamespace(NS).withName(name).get();
            awaitReady(before, "True");
            // another writer's fields: the spend summary and BudgetExceeded, which a spend loop keeps beside the conditions
            client.resources(type).inNamespace(NS).withName(name).subresource("status").patch(PatchContext.of(PatchType.JSON),
                    "[{\"op\":\"add\",\"path\":\"/status/spend\",\"value\":" + SPEND + "},"
                            + "{\"op\":\"add\",\"path\":\"/status/conditions/-\",\"value\":" + BUDGET_EXCEEDED + "}]");
            assertThat(rawStatus(kind, name).path("spend").path("spentUsd").asText()).isEqualTo("12.34");
            // ... read back, unknown fields ignored
            CustomResource<?, ? extends ResourceStatus> read = client.resources(type).inNamespace(NS).withName(name).get();
            assertThat(((ai.finops.crds.SpendStatus) read.getStatus()).spend.percent).isEqualTo(24);
            assertThat(condition(read, "BudgetExceeded").getReason()).isEqualTo("UnderLimit");

            // a spec edit: the reconciler writes its three conditions and observedGeneration, nothing else
            if (type == VirtualKey.class) {
                VirtualKey edited = (VirtualKey) read;
                edited.getSpec().owner = "alice@platform.example.com";
                cluster.edit(edited, "/spec");
            } else {
                Budget edited = (Budget) read;
                edited.getSpec().alertAtPercent = List.of(80, 100);
                cluster.edit(edited, "/spec");
            }
            await().atMost(WAIT).untilAsserted(() -> {
                CustomResource<?, ? extends ResourceStatus> now = client.resources(type).inNamespace(NS).withName(name).get();
                assertThat(now.getMetadata().getGeneration()).isGreaterThan(before.getMetadata().getGeneration());
                assertThat(condition(now, "Ready").getObservedGeneration()).isEqualTo(now.getMetadata().getGeneration());
            });
            JsonNode status = rawStatus(kind, name);
            assertThat(status.path("spend")).as(status.toString()).isEqualTo(Serialization.jsonMapper().readTree(SPEND));
            assertThat(status.path("observedGeneration").asLong()).isEqualTo(before.getMetadata().getGeneration() + 1);
            assertThat(status.path("conditions")).hasSize(4);
            assertThat(status.path("conditions").get(3)).as(kind).isEqualTo(Serialization.jsonMapper().readTree(BUDGET_EXCEEDED));
        }
    }

    @Test
    void aBudgetIsValidatedReferencesItsKeysAndRecovers() {
        baseline();
        Budget broken = budget(NS, "broken", "platform", "100");
        broken.getSpec().timeZone = "Europe/Pariss";
        broken.getSpec().alertAtPercent = List.of(80, 50);
        client.resource(broken).create();
        Budget bobs = budget(NS, "bobs", "platform", "100");
        bobs.getSpec().scope.virtualKeys.add("bob");
        client.resource(bobs).create();
        await().atMost(WAIT).untilAsserted(() -> {
            Condition accepted = condition(bud("broken"), "Accepted");
            assertThat(accepted).isNotNull();
            assertThat(accepted.getStatus()).isEqualTo("False");
            assertThat(accepted.getReason()).isEqualTo("Invalid");
            assertThat(accepted.getMessage()).contains("spec.timeZone: unknown time zone 'Europe/Pariss'")
                    .contains("spec.alertAtPercent: must be in ascending order with each value once, got [80, 50]");
            assertThat(condition(bud("broken"), "Ready").getStatus()).isEqualTo("False");
            Condition refs = condition(bud("bobs"), "ResolvedRefs");
            assertThat(refs).isNotNull();
            assertThat(refs.getStatus()).isEqualTo("False");
            assertThat(refs.getReason()).isEqualTo("RefNotFound");
            assertThat(refs.getMessage()).contains("spec.scope.virtualKeys[0]: VirtualKey 'bob' not found");
        });
        assertThat(bundle()).contains("name: platform-monthly").doesNotContain("name: broken").doesNotContain("name: bobs");

        client.resource(key(NS, "bob", "vk-bob")).create();
        awaitReady(bud("bobs"), "True");
        Budget fixed = bud("broken");
        fixed.getSpec().timeZone = "Europe/Paris";
        fixed.getSpec().alertAtPercent = List.of(50, 80);
        cluster.edit(fixed, "/spec");
        awaitReady(bud("broken"), "True");
        assertThat(bundle()).contains("name: broken", "name: bobs");
    }

    /** A resource's {@code .status} as the API server holds it, fields the Java model does not know included. */
    JsonNode rawStatus(String kind, String name) {
        GenericKubernetesResource raw = client.genericKubernetesResources("finops.ai/v1alpha1", kind).inNamespace(NS)
                .withName(name).get();
        return Serialization.jsonMapper().valueToTree(raw.getAdditionalProperties().get("status"));
    }

    @Test
    void aBrokenReferenceIsReportedLeftOutAndRecovers() {
        baseline();
        client.resource(rule(NS, "to-vertex", "model == \"vertex-model\"", "vertex-prod/claude-sonnet-4-6")).create();
        await().atMost(WAIT).untilAsserted(() -> {
            Condition refs = condition(rr("to-vertex"), "ResolvedRefs");
            assertThat(refs).isNotNull();
            assertThat(refs.getStatus()).isEqualTo("False");
            assertThat(refs.getReason()).isEqualTo("RefNotFound");
            assertThat(refs.getMessage()).contains("vertex-prod");
            assertThat(condition(rr("to-vertex"), "Accepted").getStatus()).isEqualTo("True");
            assertThat(condition(rr("to-vertex"), "Ready").getStatus()).isEqualTo("False");
            // one reconciliation writes the rules' statuses one after another, in no set order: claude-code's is awaited too
            assertThat(condition(rr("claude-code"), "Ready")).isNotNull().extracting(Condition::getStatus).isEqualTo("True");
        });
        assertThat(bundle()).contains("name: claude-code").doesNotContain("to-vertex");

        // the missing deployment appears (an anthropic-format stand-in named vertex-prod): the rule recovers
        client.resource(anthropic(NS, "vertex-prod", "https://example.com", "anthropic-key")).create();
        awaitReady(rr("to-vertex"), "True");
        assertThat(bundle()).contains("name: to-vertex");
    }

    @Test
    void generatesAMissingVirtualKeySecretAndFollowsItsRotation() {
        baseline();
        await().atMost(WAIT).until(() -> client.secrets().inNamespace(NS).withName("vk-alice").get() != null);
        Secret generated = client.secrets().inNamespace(NS).withName("vk-alice").get();
        VirtualKey alice = client.resources(VirtualKey.class).inNamespace(NS).withName("alice").get();
        assertThat(generated.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
            assertThat(o.getKind()).isEqualTo("VirtualKey");
            assertThat(o.getName()).isEqualTo("alice");
            assertThat(o.getUid()).isEqualTo(alice.getMetadata().getUid());
        });
        String token = new String(Base64.getDecoder().decode(generated.getData().get("token")), StandardCharsets.UTF_8);
        assertThat(token).startsWith("vk-").hasSizeGreaterThan(40);
        await().atMost(WAIT).untilAsserted(() -> assertThat(bundle()).contains("tokenSha256: " + ResourceValidator.sha256Hex(token))
                .doesNotContain(token));

        // rotate: the user edits the Secret; the operator never overwrites it
        String rotated = "vk-rotated-0123456789abcdef";
        generated.setData(Map.of("token", Base64.getEncoder().encodeToString(rotated.getBytes(StandardCharsets.UTF_8))));
        cluster.edit(generated, "/data");
        await().atMost(WAIT).untilAsserted(() -> assertThat(bundle()).contains("tokenSha256: " + ResourceValidator.sha256Hex(rotated))
                .doesNotContain(ResourceValidator.sha256Hex(token)));
        assertThat(BundleReconciler.decode(client.secrets().inNamespace(NS).withName("vk-alice").get())).containsEntry("token", rotated);
    }

    @Test
    void writesNothingWhenNothingChanged() throws Exception {
        baseline();
        awaitReady(rr("claude-code"), "True");
        awaitReady(client.resources(VirtualKey.class).inNamespace(NS).withName("alice").get(), "True");
        awaitReady(client.resources(ProviderDeployment.class).inNamespace(NS).withName("anthropic-prod").get(), "True");
        awaitReady(bud("platform-monthly"), "True");
        awaitQuiet();    // the baseline's last writes landed, and each was counted (after its API call returned)
        int from = cluster.requests().size();
        double writes = writes();

        // changes that leave the derived state as it is: a label on a rule, an unrelated Secret and ConfigMap
        RoutingRule labelled = rr("claude-code");
        labelled.getMetadata().setLabels(Map.of("team", "platform"));
        cluster.edit(labelled, "/metadata/labels");
        client.resource(secret(NS, "unrelated", Map.of("x", "y"))).create();
        client.resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata().withName("app-config").withNamespace(NS)
                .endMetadata().withData(Map.of("a", "b")).build()).create();
        Thread.sleep(3_000);

        List<RecordedRequest> ours = cluster.writesSince(from).stream()
                .filter(r -> !r.getPath().contains("/routingrules/claude-code") || r.getPath().endsWith("/status"))
                .filter(r -> !r.getPath().endsWith("/secrets") && !r.getPath().endsWith("/configmaps"))
                .toList();
        assertThat(ours).as("writes after a no-op change").isEmpty();
        assertThat(writes()).isEqualTo(writes);
    }

    /**
     * Waits until neither the API server received a write nor the operator counted one for a whole second: a write is
     * counted after its API call returns, so the two settle one after the other.
     */
    void awaitQuiet() {
        double[] last = {-1, -1};
        await().atMost(WAIT).pollInterval(Duration.ofSeconds(1)).until(() -> {
            double[] now = {cluster.writesSince(0).size(), writes()};
            boolean quiet = now[0] == last[0] && now[1] == last[1];
            last[0] = now[0];
            last[1] = now[1];
            return quiet;
        });
    }

    double writes() {
        return metrics.registry().find(OperatorMetrics.WRITES).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    static ai.finops.crds.ProviderDeploymentSpec.Model model(String name) {
        ai.finops.crds.ProviderDeploymentSpec.Model m = new ai.finops.crds.ProviderDeploymentSpec.Model();
        m.name = name;
        return m;
    }

    @Test
    void servesOnlyTheConfiguredNamespaces() {
        operator.close();
        operator = FinopsOperator.start(cluster.operatorClient(), new FinopsOperator.Settings(Set.of("other"), null, Clock.systemUTC(),
                VirtualKeySecrets::newToken), metrics);
        baseline();
        client.resource(rule("other", "elsewhere", "", "anthropic/claude-sonnet-4-6")).create();
        await().atMost(WAIT).until(() -> client.configMaps().inNamespace("other").withName(Names.BUNDLE_CONFIG_MAP).get() != null);
        assertThat(bundle()).isNull();
        assertThat(condition(rr("claude-code"), "Ready")).isNull();
    }

    @Test
    void theSharedGatewaysBundleCarriesTheKeysOfLabelledNamespaces() {
        operator.close();
        cluster.namespace("finops-system");
        operator = FinopsOperator.start(cluster.operatorClient(), FinopsOperator.Settings.of(Set.of(), null).withSharedGateway("finops-system"),
                metrics);
        String aliceToken = "vk-alice-token-0123456789abcdef";
        Secret aliceSecret = secret(NS, "vk-alice", Map.of());
        aliceSecret.setStringData(null);
        aliceSecret.setData(Map.of("token", Base64.getEncoder().encodeToString(aliceToken.getBytes(StandardCharsets.UTF_8))));
        client.resource(aliceSecret).create();
        client.resource(key(NS, "alice", "vk-alice")).create();
        client.resource(secret("other", "vk-bob", Map.of("token", "vk-bob-token-0123456789abcdef"))).create();
        client.resource(key("other", "bob", "vk-bob")).create();
        client.resource(secret("finops-system", "anthropic-key", Map.of("apiKey", "sk-ant-1"))).create();
        client.resource(anthropic("finops-system", "anthropic-prod", "https://api.anthropic.com", "anthropic-key")).create();
        awaitReady(client.resources(VirtualKey.class).inNamespace(NS).withName("alice").get(), "True");
        await().atMost(WAIT).untilAsserted(() -> assertThat(sharedBundle()).contains("name: anthropic-prod"));
        assertThat(sharedBundle()).doesNotContain("alice").doesNotContain("bob");

        // a cluster admin opts team-a in: its keys work at the shared gateway, as <name>.<namespace>, by hash only
        Namespace teamA = client.namespaces().withName(NS).get();
        teamA.getMetadata().setLabels(Map.of(BundleReconciler.SHARED_GATEWAY_LABEL, "enabled"));
        cluster.edit(teamA, "/metadata/labels");
        await().atMost(WAIT).untilAsserted(() -> assertThat(sharedBundle()).contains("name: alice.team-a")
                .contains("tokenSha256: " + ResourceValidator.sha256Hex(aliceToken)));
        assertThat(sharedBundle()).doesNotContain(aliceToken).doesNotContain("bob");
        assertThat(sharedBundle().substring(sharedBundle().indexOf("name: alice.team-a"))).doesNotContain("secretRef");
        assertThat(client.secrets().inNamespace("finops-system").withName(Names.CREDENTIALS_SECRET).get().getData()).doesNotContainKey("vk-alice.token");

        // a key of team-a cannot take a platform key's token (only its hash is needed, and hashes are no secret)
        String platformToken = "vk-platform-0123456789abcdef";
        client.resource(secret("finops-system", "vk-platform", Map.of("token", platformToken))).create();
        client.resource(key("finops-system", "platform", "vk-platform")).create();
        VirtualKey impostor = key(NS, "aaa", null);
        impostor.getSpec().secretRef = null;
        impostor.getSpec().tokenSha256 = ResourceValidator.sha256Hex(platformToken);
        client.resource(impostor).create();
        awaitReady(client.resources(VirtualKey.class).inNamespace("finops-system").withName("platform").get(), "True");
        await().atMost(WAIT).untilAsserted(() -> assertThat(sharedBundle()).contains("name: platform\n")
                .contains("tokenSha256: " + ResourceValidator.sha256Hex(platformToken)));
        assertThat(sharedBundle()).doesNotContain("aaa.team-a");

        // a rotation in team-a reaches the shared gateway; removing the label takes the key away again
        String rotated = "vk-alice-rotated-0123456789abcdef";
        Secret secret = client.secrets().inNamespace(NS).withName("vk-alice").get();
        secret.setData(Map.of("token", Base64.getEncoder().encodeToString(rotated.getBytes(StandardCharsets.UTF_8))));
        cluster.edit(secret, "/data");
        await().atMost(WAIT).untilAsserted(() -> assertThat(sharedBundle()).contains("tokenSha256: " + ResourceValidator.sha256Hex(rotated)));
        teamA = client.namespaces().withName(NS).get();
        teamA.getMetadata().setLabels(Map.of("team", "a"));
        cluster.edit(teamA, "/metadata/labels");
        await().atMost(WAIT).untilAsserted(() -> assertThat(sharedBundle()).doesNotContain("alice"));
        // team-a's own bundle never changed shape
        assertThat(bundle()).contains("name: alice\n");
    }

    @Test
    void theWebhookWarnsAViaGatewayPodWhoseNamespaceTheSharedGatewayDoesNotServe() {
        assertThat(Main.viaGatewayAdvice(client, "finops-system", NS, ai.finops.operator.inject.SidecarSettings.Mode.VIA_GATEWAY))
                .isEqualTo("via-gateway: the shared gateway accepts this pod's VirtualKey only once a cluster admin labels namespace team-a "
                        + "finops.ai/shared-gateway=enabled");
        Namespace teamA = client.namespaces().withName(NS).get();
        teamA.getMetadata().setLabels(Map.of(BundleReconciler.SHARED_GATEWAY_LABEL, "enabled"));
        cluster.edit(teamA, "/metadata/labels");
        assertThat(Main.viaGatewayAdvice(client, "finops-system", NS, ai.finops.operator.inject.SidecarSettings.Mode.VIA_GATEWAY)).isNull();
        assertThat(Main.viaGatewayAdvice(client, "finops-system", "other", ai.finops.operator.inject.SidecarSettings.Mode.VIA_GATEWAY))
                .as("another namespace's label does not count").contains("namespace other");
        assertThat(Main.viaGatewayAdvice(client, "finops-system", "other", ai.finops.operator.inject.SidecarSettings.Mode.DIRECT)).isNull();
        assertThat(Main.viaGatewayAdvice(client, null, "other", ai.finops.operator.inject.SidecarSettings.Mode.VIA_GATEWAY))
                .as("a shared gateway elsewhere: nothing to check here").isNull();
    }

    String sharedBundle() {
        ConfigMap cm = client.configMaps().inNamespace("finops-system").withName(Names.BUNDLE_CONFIG_MAP).get();
        return cm == null ? "" : cm.getData().get(Names.BUNDLE_KEY);
    }
}

package ai.finops.operator;

import static ai.finops.operator.Resources.anthropic;
import static ai.finops.operator.Resources.budget;
import static ai.finops.operator.Resources.key;
import static ai.finops.operator.Resources.mcpServer;
import static ai.finops.operator.Resources.rule;
import static ai.finops.operator.Resources.secret;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.crds.RoutingRule;
import ai.finops.crds.RoutingRuleSpec;
import ai.finops.operator.bundle.Names;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * High availability and least privilege: two operators of which only the leader writes; every
 * request the operator makes is allowed by {@code operator/rbac/rbac.yaml}, which grants nothing more;
 * custom resources are only ever written through {@code /status}.
 */
class LeaderElectionAndRbacIT {
    static final String NS = "team-a";
    static final String OPERATOR_NS = "finops-system";
    static final Duration WAIT = Duration.ofSeconds(30);
    static final Path RBAC = Path.of("rbac/rbac.yaml");

    final MockCluster cluster = new MockCluster().namespace(NS).namespace(OPERATOR_NS);
    final KubernetesClient client = cluster.client;
    final List<FinopsOperator> operators = new ArrayList<>();

    @AfterEach
    void stop() {
        operators.forEach(FinopsOperator::close);
        cluster.close();
    }

    FinopsOperator.LeaderElection election(String identity) {
        return new FinopsOperator.LeaderElection("finops-operator", OPERATOR_NS, identity, Duration.ofSeconds(2), Duration.ofMillis(1500),
                Duration.ofMillis(200), false);
    }

    OperatorMetrics start(String identity) {
        OperatorMetrics metrics = new OperatorMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        operators.add(FinopsOperator.start(cluster.operatorClient(), FinopsOperator.Settings.of(Set.of(), election(identity))
                .withUninjectedPodsScan(Duration.ofMillis(300))
                .withWebhookCertificates(new ai.finops.operator.inject.WebhookCertificates.Target(OPERATOR_NS, "finops-webhook-tls",
                        "finops-webhook", "finops-webhook"))
                .withSpendLoop(new FinopsOperator.SpendLoop(Duration.ofMillis(300), null, Duration.ofSeconds(1))), metrics));
        return metrics;
    }

    static double writes(OperatorMetrics metrics) {
        return metrics.registry().find(OperatorMetrics.WRITES).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    String bundle() {
        ConfigMap cm = client.configMaps().inNamespace(NS).withName(Names.BUNDLE_CONFIG_MAP).get();
        return cm == null ? null : cm.getData().get(Names.BUNDLE_KEY);
    }

    String leaseHolder() {
        Lease lease = client.leases().inNamespace(OPERATOR_NS).withName("finops-operator").get();
        return lease == null ? null : lease.getSpec().getHolderIdentity();
    }

    void retarget(String model) {
        RoutingRule rr = client.resources(RoutingRule.class).inNamespace(NS).withName("claude-code").get();
        rr.getSpec().targets = List.of(new RoutingRuleSpec.Target(model, null));
        cluster.edit(rr, "/spec");
    }

    @Test
    void onlyTheLeaderWritesAndTheStandbyTakesOverWhenItStops() {
        OperatorMetrics a = start("operator-a");
        await().atMost(WAIT).until(() -> "operator-a".equals(leaseHolder()));
        OperatorMetrics b = start("operator-b");
        client.resource(secret(NS, "anthropic-key", Map.of("apiKey", "sk-ant-1"))).create();
        client.resource(anthropic(NS, "anthropic-prod", "https://api.anthropic.com", "anthropic-key")).create();
        client.resource(rule(NS, "claude-code", "model == \"sonnet-model\"", "anthropic-prod/claude-sonnet-4-6")).create();
        // the bundle is visible before the writer's thread counts the write: both are awaited
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(bundle()).contains("anthropic-prod/claude-sonnet-4-6");
            assertThat(writes(a)).isPositive();
        });
        assertThat(writes(b)).as("the standby writes nothing").isZero();
        assertThat(leaseHolder()).isEqualTo("operator-a");

        operators.remove(0).close();   // the leader stops (its lease is not renewed)
        retarget("anthropic-prod/claude-haiku-4-5");
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(leaseHolder()).isEqualTo("operator-b");
            assertThat(bundle()).contains("anthropic-prod/claude-haiku-4-5");
            assertThat(writes(b)).isPositive();
        });
    }

    @Test
    void writesCustomResourcesOnlyThroughStatusAndTheRbacGrantsExactlyWhatItUses() throws Exception {
        // a dev pod that the webhook missed: the leader finds it and records an Event
        client.resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName("dev")
                .addToLabels("finops.ai/inject", "enabled").endMetadata().build()).create();
        client.resource(new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("devbox").withNamespace("dev")
                .addToAnnotations("finops.ai/virtual-key", "alice").endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("app:1").endContainer().endSpec().build()).create();
        // the webhook's configuration, whose caBundle the leader keeps (no cert-manager)
        client.resource(new io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder().withNewMetadata()
                .withName("finops-webhook").endMetadata().addNewWebhook().withName("pod.inject.finops.ai").withNewClientConfig().withNewService()
                .withName("finops-webhook").withNamespace(OPERATOR_NS).endService().endClientConfig().endWebhook().build()).create();
        start("operator-a");
        await().atMost(WAIT).until(() -> !client.v1().events().inNamespace("dev").list().getItems().isEmpty());
        await().atMost(WAIT).until(() -> client.admissionRegistration().v1().mutatingWebhookConfigurations().withName("finops-webhook").get()
                .getWebhooks().get(0).getClientConfig().getCaBundle() != null);
        client.resource(secret(NS, "anthropic-key", Map.of("apiKey", "sk-ant-1"))).create();
        client.resource(anthropic(NS, "anthropic-prod", "https://api.anthropic.com", "anthropic-key")).create();
        client.resource(rule(NS, "claude-code", "model == \"sonnet-model\"", "anthropic-prod/claude-sonnet-4-6")).create();
        client.resource(key(NS, "alice", "vk-alice")).create();   // its Secret is generated
        client.resource(budget(NS, "platform-monthly", "platform", "2000.00")).create();
        client.resource(secret(NS, "gh-mcp", Map.of("token", "ghp-1"))).create();
        client.resource(mcpServer(NS, "github", "https://mcp.github.example/mcp", "gh-mcp")).create();
        await().atMost(WAIT).untilAsserted(() -> assertThat(bundle()).contains("name: alice", "name: platform-monthly", "name: github"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(BundleReconciler.decode(client.secrets().inNamespace(NS)
                .withName(Names.CREDENTIALS_SECRET).get())).containsEntry("gh-mcp.token", "ghp-1"));
        await().atMost(WAIT).until(() -> client.resources(ai.finops.crds.McpServer.class).inNamespace(NS).withName("github").get()
                .getStatus().conditions.size() == 3);
        // the spend loop (embedded mode: no spend to show) writes its condition through /status too
        await().atMost(WAIT).until(() -> {
            var status = client.resources(ai.finops.crds.Budget.class).inNamespace(NS).withName("platform-monthly").get().getStatus();
            return status != null && status.conditions.stream().anyMatch(c -> "BudgetExceeded".equals(c.getType()));
        });
        retarget("anthropic-prod/claude-haiku-4-5");                // the bundle ConfigMap is updated
        Secret provider = client.secrets().inNamespace(NS).withName("anthropic-key").get();
        provider.setStringData(Map.of("apiKey", "sk-ant-2"));      // (the mock keeps stringData as written)
        cluster.edit(provider, "/stringData");                       // the credentials Secret is updated
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(bundle()).contains("claude-haiku-4-5");
            assertThat(BundleReconciler.decode(client.secrets().inNamespace(NS).withName(Names.CREDENTIALS_SECRET).get()))
                    .containsEntry("anthropic-key.apiKey", "sk-ant-2");
        });

        List<RecordedRequest> requests = cluster.operatorRequests();
        List<String> customResourceWrites = requests.stream().filter(r -> !"GET".equals(r.getMethod()))
                .map(r -> r.getMethod() + " " + r.getPath()).filter(line -> line.contains("/apis/finops.ai/")).toList();
        assertThat(customResourceWrites).isNotEmpty().allSatisfy(line -> assertThat(line).startsWith("PATCH ").contains("/status"));

        // SelfSubjectRulesReview needs no grant: every authenticated user may ask what it may do
        Set<ApiRequests> used = new TreeSet<>(requests.stream().map(ApiRequests::of)
                .filter(r -> !r.group().equals("authorization.k8s.io")).toList());
        assertThat(granted()).as("rules in %s", RBAC).isEqualTo(used);
    }

    /** Every (group, resource, verb) the ClusterRole and Role in rbac.yaml grant; no wildcards allowed. */
    Set<ApiRequests> granted() throws Exception {
        Set<ApiRequests> granted = new TreeSet<>();
        try (InputStream in = Files.newInputStream(RBAC)) {
            List<HasMetadata> objects = client.load(in).items();
            for (HasMetadata object : objects) {
                List<PolicyRule> rules = object instanceof ClusterRole cr ? cr.getRules() : object instanceof Role role ? role.getRules() : List.of();
                for (PolicyRule rule : rules) {
                    for (String group : rule.getApiGroups()) {
                        for (String resource : rule.getResources()) {
                            for (String verb : rule.getVerbs()) {
                                assertThat(List.of(group, resource, verb)).doesNotContain("*");
                                granted.add(new ApiRequests(group, resource, verb));
                            }
                        }
                    }
                }
            }
        }
        return granted;
    }
}

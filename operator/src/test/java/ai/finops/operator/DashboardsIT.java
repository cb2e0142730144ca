package ai.finops.operator;

import static ai.finops.operator.Resources.budget;
import static ai.finops.operator.Resources.key;
import static ai.finops.operator.Resources.secret;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.crds.VirtualKey;
import ai.finops.crds.VirtualKeySpec;
import ai.finops.gateway.Gateway;
import ai.finops.governance.EmbeddedCounterStore;
import ai.finops.operator.bundle.Names;
import ai.finops.operator.inject.SidecarInjector;
import ai.finops.operator.inject.UninjectedPods;
import ai.finops.operator.spend.SpendStatusLoop;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart's dashboards and alert rules against what the gateway and the operator expose: a gateway is scraped
 * after requests against the simulator (served, failed with a fallback, refused by a rate limit, governed by a
 * budget, streamed), an operator running on the Fabric8 mock API server after a reconciliation, a scan for
 * uninjected pods and a round of its spend loop; every metric name and label that a dashboard panel or an alert
 * rule's PromQL names must be one of theirs. The dashboards load as Grafana dashboard models.
 */
class DashboardsIT {
    static final String NS = "team-a";
    static final String KEY = "vk-dashboards-0123456789abcdef";
    static final String LIMITED_KEY = "vk-limited-0123456789abcdef";
    static final ObjectMapper JSON = new ObjectMapper();

    /** Labels Prometheus adds to every series it scrapes from a target; an expression may group by them. */
    static final Set<String> TARGET_LABELS = Set.of("job", "instance", "namespace", "pod");

    @Test
    void everyExpressionNamesOnlyMetricsAndLabelsTheGatewayAndOperatorExpose(@TempDir Path config) throws Exception {
        Map<String, Set<String>> exposed = new TreeMap<>();
        scrape(gatewayExposition(config), exposed);
        scrape(operatorExposition(), exposed);

        Map<String, String> expressions = new TreeMap<>();
        for (Path file : dashboards()) {
            JsonNode dashboard = JSON.readTree(file.toFile());
            for (JsonNode panel : panels(dashboard)) {
                for (JsonNode target : panel.path("targets")) {
                    expressions.put(file.getFileName() + " / " + panel.get("title").asText() + " / " + target.get("refId").asText(),
                            target.get("expr").asText());
                }
            }
        }
        for (JsonNode rule : alertRules()) {
            expressions.put("alert " + rule.get("alert").asText(), rule.get("expr").asText());
        }
        assertThat(expressions).hasSizeGreaterThan(20);

        List<String> problems = new ArrayList<>();
        expressions.forEach((where, expr) -> problems.addAll(check(where, expr, exposed)));
        assertThat(problems).as("exposed: %s", exposed).isEmpty();
    }

    @Test
    void theDashboardsLoadAsGrafanaDashboardModels() throws Exception {
        List<Path> files = dashboards();
        assertThat(files).hasSizeGreaterThanOrEqualTo(2);
        Set<String> uids = new HashSet<>();
        for (Path file : files) {
            JsonNode d = JSON.readTree(file.toFile());
            assertThat(d.get("schemaVersion").asInt()).as(file.toString()).isGreaterThanOrEqualTo(39);
            assertThat(uids.add(d.get("uid").asText())).as("uid of %s is unique", file).isTrue();
            assertThat(d.get("title").asText()).isNotBlank();
            List<JsonNode> variables = new ArrayList<>();
            d.path("templating").path("list").forEach(variables::add);
            assertThat(variables).as(file.toString()).anySatisfy(v -> {
                assertThat(v.get("name").asText()).isEqualTo("datasource");
                assertThat(v.get("type").asText()).isEqualTo("datasource");
                assertThat(v.get("query").asText()).isEqualTo("prometheus");
            });
            Set<Integer> ids = new HashSet<>();
            for (JsonNode panel : panels(d)) {
                assertThat(ids.add(panel.get("id").asInt())).as("panel id %s of %s is unique", panel.get("id"), file).isTrue();
                assertThat(panel.get("gridPos").get("w").asInt()).isBetween(1, 24);
                if (!panel.get("type").asText().equals("row")) {
                    assertThat(panel.get("datasource").get("uid").asText()).as(panel.get("title").asText()).isEqualTo("${datasource}");
                    assertThat(panel.get("targets")).as(panel.get("title").asText()).isNotEmpty()
                            .allSatisfy(t -> assertThat(t.get("datasource").get("uid").asText()).isEqualTo("${datasource}"));
                }
            }
        }
    }

    @Test
    void theChartShipsTheDashboardsForTheGrafanaSidecarAndTheAlertsWithARunbookEach() throws Exception {
        String yaml = ChartTest.template(t -> t.set("grafana.dashboards.enabled", true).set("prometheusRule.enabled", true));
        ObjectMapper mapper = new ObjectMapper(new YAMLFactory());
        Map<String, String> shipped = new HashMap<>();
        for (String doc : yaml.split("(?m)^---\\s*$")) {
            JsonNode o = mapper.readTree(doc);
            if (o != null && "ConfigMap".equals(o.path("kind").asText()) && o.path("metadata").path("labels").has("grafana_dashboard")) {
                assertThat(o.path("metadata").path("labels").get("grafana_dashboard").asText()).isEqualTo("1");
                o.get("data").fields().forEachRemaining(e -> shipped.put(e.getKey(), e.getValue().asText()));
            }
        }
        for (Path file : dashboards()) {
            assertThat(shipped).containsEntry(file.getFileName().toString(), Files.readString(file, StandardCharsets.UTF_8).stripTrailing());
        }
        List<JsonNode> rules = alertRules();
        assertThat(rules).extracting(r -> r.get("alert").asText()).contains("FinopsGatewayErrorRateHigh", "FinopsGatewayTimeToFirstTokenSlow",
                "FinopsGatewayConfigRejected", "FinopsUninjectedPods", "FinopsBudgetThresholdCrossed", "FinopsBudgetExhausted");
        assertThat(rules).allSatisfy(r -> assertThat(r.path("annotations").path("runbook").asText()).hasSizeGreaterThan(20));

    }

    // ------------------------------------------------------------------ PromQL

    private static final Pattern SELECTOR = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)?\\s*\\{([^}]*)}");
    private static final Pattern MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)");
    private static final Pattern GROUPING = Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\(([^)]*)\\)");
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*+)(?!\\s*\\()");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan");

    /**
     * What {@code expr} names that nothing exposes: a metric (an identifier not followed by {@code (}), a label in a
     * selector's braces that its metric does not carry, a label in {@code by (...)} and the like that none of the
     * expression's metrics carries.
     */
    static List<String> check(String where, String expr, Map<String, Set<String>> exposed) {
        List<String> problems = new ArrayList<>();
        Set<String> metrics = new LinkedHashSet<>();
        Map<String, Set<String>> selected = new HashMap<>();
        StringBuilder rest = new StringBuilder();
        Matcher s = SELECTOR.matcher(expr);
        while (s.find()) {
            String metric = s.group(1);
            Set<String> labels = new TreeSet<>();
            Matcher m = MATCHER.matcher(s.group(2).replaceAll("\"[^\"]*\"", "\"\""));
            while (m.find()) {
                labels.add(m.group(1));
            }
            if (metric == null) {
                problems.add(where + ": a selector without a metric name: " + s.group());
            } else {
                selected.computeIfAbsent(metric, k -> new TreeSet<>()).addAll(labels);
            }
            s.appendReplacement(rest, Matcher.quoteReplacement(metric == null ? " " : " " + metric + " "));
        }
        s.appendTail(rest);
        String withoutRanges = rest.toString().replaceAll("\\[[^]]*]", " ");
        Set<String> grouping = new TreeSet<>();
        Matcher g = GROUPING.matcher(withoutRanges);
        StringBuilder bare = new StringBuilder();
        while (g.find()) {
            for (String label : g.group(2).split(",")) {
                if (!label.isBlank()) {
                    grouping.add(label.trim());
                }
            }
            g.appendReplacement(bare, " ");
        }
        g.appendTail(bare);
        Matcher i = IDENTIFIER.matcher(bare.toString().replaceAll("\"[^\"]*\"", " "));
        while (i.find()) {
            if (!KEYWORDS.contains(i.group(1))) {
                metrics.add(i.group(1));
            }
        }
        assertThat(metrics).as(where + ": " + expr).isNotEmpty();
        Set<String> carried = new TreeSet<>(TARGET_LABELS);
        for (String metric : metrics) {
            Set<String> labels = exposed.get(metric);
            if (labels == null) {
                problems.add(where + ": metric " + metric + " is not exposed");
                continue;
            }
            carried.addAll(labels);
            for (String label : selected.getOrDefault(metric, Set.of())) {
                if (!labels.contains(label) && !TARGET_LABELS.contains(label)) {
                    problems.add(where + ": " + metric + " has no label " + label + " (it has " + labels + ")");
                }
            }
        }
        for (String label : grouping) {
            if (!carried.contains(label)) {
                problems.add(where + ": no metric of the expression has label " + label + " to group by");
            }
        }
        return problems;
    }

    /** Sample names and the labels each carries, from a Prometheus text exposition. */
    static void scrape(String exposition, Map<String, Set<String>> exposed) {
        Pattern label = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"");
        for (String line : exposition.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            String name = line.substring(0, brace >= 0 ? brace : line.indexOf(' '));
            Set<String> labels = exposed.computeIfAbsent(name, k -> new TreeSet<>());
            if (brace >= 0) {
                Matcher m = label.matcher(line.substring(brace, line.lastIndexOf('}')).replaceAll("\"[^\"]*\"", "\""));
                while (m.find()) {
                    labels.add(m.group(1));
                }
            }
        }
    }

    // ------------------------------------------------------------------ the gateway and the operator

    /**
     * A gateway's {@code /metrics} after a streamed request and a whole one, a request whose target is down and whose
     * fallback answers, an upstream 529 (a cooldown), a refusal of the key, and a rate-limited key's second request.
     */
    static String gatewayExposition(Path config) throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey("sk-provider").build())) {
            Files.writeString(config.resolve("resources.yaml"), """
                    apiVersion: finops.ai/v1alpha1
                    kind: ProviderDeployment
                    metadata: {name: anthropic-sim}
                    spec:
                      provider: anthropic
                      endpoint: %s
                      credentials: {secretRef: {name: provider-key}}
                      timeouts: {connect: 1s, firstByte: 2s, idle: 2s}
                    ---
                    apiVersion: finops.ai/v1alpha1
                    kind: ProviderDeployment
                    metadata: {name: dead}
                    spec:
                      provider: anthropic
                      endpoint: http://127.0.0.1:%d
                      credentials: {secretRef: {name: provider-key}}
                      timeouts: {connect: 1s, firstByte: 2s, idle: 2s}
                    ---
                    apiVersion: finops.ai/v1alpha1
                    kind: RoutingRule
                    metadata: {name: with-fallback}
                    spec:
                      when: 'model == "app-model"'
                      targets: [{model: dead/claude-sonnet-4-6}]
                      fallbacks: [anthropic-sim/claude-haiku-4-5]
                    ---
                    apiVersion: finops.ai/v1alpha1
                    kind: VirtualKey
                    metadata: {name: alice}
                    spec:
                      secretRef: {name: vk-alice}
                      team: platform
                      budget: {limitUsd: "100.00", period: Monthly}
                    ---
                    apiVersion: finops.ai/v1alpha1
                    kind: VirtualKey
                    metadata: {name: limited}
                    spec:
                      secretRef: {name: vk-limited}
                      team: platform
                      rateLimits: {requestsPerMinute: 1}
                    ---
                    apiVersion: v1
                    kind: Secret
                    metadata: {name: vk-alice}
                    stringData: {token: "%s"}
                    ---
                    apiVersion: v1
                    kind: Secret
                    metadata: {name: vk-limited}
                    stringData: {token: "%s"}
                    ---
                    apiVersion: v1
                    kind: Secret
                    metadata: {name: provider-key}
                    stringData: {apiKey: sk-provider}
                    """.formatted(simulator.baseUrl(), closed, KEY, LIMITED_KEY));
            try (Gateway gateway = Gateway.start(List.of(config), null, name -> null, "127.0.0.1", null, 0, 0, Gateway.Governance.inMemory())) {
                HttpClient http = HttpClient.newHttpClient();
                String base = "http://127.0.0.1:" + gateway.apiPort();
                simulator.enqueue(Reply.text("streamed"), Reply.text("whole"), Reply.text("after the fallback"), Reply.status(529, "overloaded_error",
                        "Overloaded"), Reply.text("limited"));
                assertThat(post(http, base, KEY, "claude-sonnet-4-6", true).statusCode()).isEqualTo(200);
                assertThat(post(http, base, KEY, "claude-sonnet-4-6", false).statusCode()).isEqualTo(200);
                assertThat(post(http, base, KEY, "app-model", true).statusCode()).isEqualTo(200);
                assertThat(post(http, base, KEY, "claude-sonnet-4-6", false).statusCode()).isEqualTo(529);
                assertThat(post(http, base, "vk-unknown-0123456789abcdef", "claude-sonnet-4-6", false).statusCode()).isEqualTo(401);
                assertThat(post(http, base, LIMITED_KEY, "claude-haiku-4-5", false).statusCode()).isEqualTo(200);
                assertThat(post(http, base, LIMITED_KEY, "claude-haiku-4-5", false).statusCode()).isEqualTo(429);
                return gateway.metrics().scrape();
            }
        }
    }

    static HttpResponse<String> post(HttpClient http, String base, String key, String model, boolean stream) throws Exception {
        String body = "{\"model\":\"" + model + "\",\"max_tokens\":16,\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        return http.send(HttpRequest.newBuilder(URI.create(base + "/v1/messages")).header("x-api-key", key).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The operator's meters: the operator running on the mock API server until it has written a namespace's bundle,
     * then its scan for pods labelled for the sidecar but running without it, and one round of its spend loop over
     * a VirtualKey's budget and a Budget (on an embedded counter store).
     */
    static String operatorExposition() throws Exception {
        OperatorMetrics metrics = new OperatorMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        try (MockCluster cluster = new MockCluster().namespace(NS);
                FinopsOperator operator = FinopsOperator.start(cluster.operatorClient(), FinopsOperator.Settings.of(Set.of(), null), metrics);
                EmbeddedCounterStore store = new EmbeddedCounterStore(null)) {
            var client = cluster.client;
            client.resource(secret(NS, "anthropic-key", Map.of("apiKey", "sk-1"))).create();
            client.resource(Resources.anthropic(NS, "anthropic-prod", "https://api.anthropic.com", "anthropic-key")).create();
            VirtualKey alice = key(NS, "alice", "vk-alice");
            alice.getSpec().team = "platform";
            alice.getSpec().budget = new VirtualKeySpec.Budget();
            alice.getSpec().budget.limitUsd = "50.00";
            alice.getSpec().budget.period = "Monthly";
            client.resource(alice).create();
            client.resource(budget(NS, "platform-monthly", "platform", "100.00")).create();
            client.namespaces().withName(NS).edit(n -> new NamespaceBuilder(n).editMetadata().addToLabels(SidecarInjector.INJECT, "enabled")
                    .endMetadata().build());
            client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("dev").withNamespace(NS)
                    .withAnnotations(Map.of(SidecarInjector.VIRTUAL_KEY, "alice")).endMetadata().withNewSpec().addNewContainer().withName("dev")
                    .withImage("node:22").endContainer().endSpec().build()).create();
            // the bundle is visible before its write is counted, and its reconciliation counts as a success only once it
            // wrote the statuses too: the meters the dashboards read are awaited with the ConfigMap
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(client.configMaps().inNamespace(NS).withName(Names.BUNDLE_CONFIG_MAP).get()).isNotNull();
                assertThat(((PrometheusMeterRegistry) metrics.registry()).scrape()).contains("operator_sdk_reconciliations_success_total",
                        "finops_operator_writes_total{object=\"configmap\",purpose=\"bundle\"}");
            });
            try (UninjectedPods uninjected = new UninjectedPods(client, metrics, Set.of(), Clock.systemUTC())) {
                assertThat(uninjected.scan()).hasSize(1);
            }
            try (SpendStatusLoop spend = new SpendStatusLoop(client, CompletableFuture.completedFuture(store), metrics, Set.of(NS),
                    Clock.systemUTC(), Duration.ofSeconds(30))) {
                assertThat(spend.runOnce().storeFailed()).isFalse();
                return ((PrometheusMeterRegistry) metrics.registry()).scrape();     // closing the loop removes its gauges
            }
        }
    }

    // ------------------------------------------------------------------ the chart

    static List<Path> dashboards() throws Exception {
        try (Stream<Path> files = Files.list(ChartTest.CHART.resolve("dashboards"))) {
            return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
    }

    /** Every panel, those inside collapsed rows included. */
    static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> all = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            all.add(panel);
            panel.path("panels").forEach(all::add);
        }
        return all;
    }

    /** The rules of the chart's PrometheusRule, rendered with {@code prometheusRule.enabled}. */
    static List<JsonNode> alertRules() throws Exception {
        ObjectMapper mapper = new ObjectMapper(new YAMLFactory());
        List<JsonNode> rules = new ArrayList<>();
        for (String doc : ChartTest.template(t -> t.set("prometheusRule.enabled", true)).split("(?m)^---\\s*$")) {
            JsonNode o = mapper.readTree(doc);
            if (o != null && "PrometheusRule".equals(o.path("kind").asText())) {
                for (JsonNode group : o.path("spec").path("groups")) {
                    group.path("rules").forEach(rules::add);
                }
            }
        }
        assertThat(rules).isNotEmpty();
        return rules;
    }
}

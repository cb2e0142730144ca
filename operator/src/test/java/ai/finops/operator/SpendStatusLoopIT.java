package ai.finops.operator;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.crds.Budget;
import ai.finops.crds.BudgetPeriod;
import ai.finops.crds.SpendStatus;
import ai.finops.crds.VirtualKey;
import ai.finops.crds.VirtualKeySpec;
import ai.finops.governance.CounterKeys;
import ai.finops.governance.CounterStore;
import ai.finops.governance.CounterStore.Charge;
import ai.finops.governance.CounterStore.Counter;
import ai.finops.governance.RedisCounterStore;
import ai.finops.operator.bundle.Statuses;
import ai.finops.operator.bundle.Verdict;
import ai.finops.operator.spend.SpendStatusLoop;
import ai.finops.testkit.MovingClock;
import ai.finops.testkit.RedisServer;
import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The spend loop against a real {@code redis-server} charged the way the gateway charges it (reserve,
 * settle, with {@link CounterKeys} names) and the Fabric8 mock API server in CRUD mode: what lands in
 * {@code .status.spend} and what kubectl's columns show of it, the {@code BudgetExceeded} condition,
 * one threshold Event per threshold and period, no write for less than a cent, and embedded mode.
 * Without redis-server the Redis tests are skipped with the reason (or fail, in CI).
 */
class SpendStatusLoopIT {
    static final String NS = "team-a";
    /** A Monday in December: the Monthly period is 2026-12 (UTC) and 2026-11-30T23:00Z.. in Paris. */
    static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
    static final ZoneId PARIS = ZoneId.of("Europe/Paris");
    static final long USD = 1_000_000;

    static RedisServer redis;

    MockCluster cluster;
    KubernetesClient client;
    CounterStore store;
    OperatorMetrics metrics;
    /** The clock the loop reads: moved by the test to a new period. */
    final MovingClock clock = new MovingClock(T0);

    @BeforeEach
    void start() {
        cluster = new MockCluster().namespace(NS);
        client = cluster.client;
        metrics = new OperatorMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    @AfterEach
    void stop() {
        if (store != null) {
            store.close();
        }
        cluster.close();
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.close();
            redis = null;
        }
    }

    /** A store on the test's Redis, emptied; the test is skipped (or fails, in CI) without redis-server. */
    CounterStore redisStore() {
        if (redis == null) {
            redis = RedisServer.start();
        }
        io.lettuce.core.RedisClient admin = io.lettuce.core.RedisClient.create(redis.url());
        try (var connection = admin.connect()) {
            connection.sync().flushall();   // one server per class: each test starts from no spend
        } finally {
            admin.shutdown();
        }
        store = new RedisCounterStore(redis.url(), RedisCounterStore.Options.defaults().withTimeout(Duration.ofSeconds(5)));
        return store;
    }

    SpendStatusLoop loop(CounterStore counters) {
        return new SpendStatusLoop(client, counters == null ? null : CompletableFuture.completedFuture(counters), metrics, Set.of(NS), clock,
                Duration.ofSeconds(10));
    }

    // ------------------------------------------------------------------ resources

    /** A VirtualKey with its own budget (Monthly by default, as the gateway compiles it). */
    VirtualKey key(String name, String limitUsd, String period) {
        VirtualKey vk = Resources.key(NS, name, "vk-" + name);
        if (limitUsd != null) {
            vk.getSpec().budget = new VirtualKeySpec.Budget();
            vk.getSpec().budget.limitUsd = limitUsd;
            vk.getSpec().budget.period = period;
        }
        return reconciled(client.resource(vk).create());
    }

    Budget budget(String name, String limitUsd, String action, String duration) {
        Budget budget = Resources.budget(NS, name, "platform", limitUsd);   // Monthly, Europe/Paris, alerts at 50, 80, 95
        budget.getSpec().action = action;
        if (duration != null) {
            budget.getSpec().period = null;
            budget.getSpec().timeZone = null;
            budget.getSpec().duration = duration;
        }
        budget.getSpec().alertAtPercent.add(100);
        return reconciled(client.resource(budget).create());
    }

    /** The status the bundle reconciler writes first (its three conditions), with the patch it sends. */
    <R extends CustomResource<?, SpendStatus>> R reconciled(R resource) {
        var status = Statuses.desired(Verdict.ACCEPTED, resource.getMetadata().getGeneration(), null, T0);
        client.resource(resource).subresource("status").patch(PatchContext.of(PatchType.JSON), BundleReconciler.ownedStatusPatch(null, status));
        return resource;
    }

    /** What a gateway does for one request: reserve the worst case, then settle what it cost. */
    void charge(String kind, String name, long limitMicros, BudgetPeriod period, ZoneId zone, long micros) throws Exception {
        Counter counter = CounterKeys.spend(NS, kind, name, limitMicros, period, zone, clock.instant());
        String id = UUID.randomUUID().toString();
        store.reserve(id, List.of(new Charge(counter, 0)), Duration.ofMinutes(5), clock.instant()).toCompletableFuture().get(10, TimeUnit.SECONDS);
        store.settle(id, List.of(new Charge(counter, micros)), clock.instant()).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    void chargeBudget(String name, long micros) throws Exception {
        charge(CounterKeys.BUDGET, name, 100 * USD, BudgetPeriod.MONTHLY, PARIS, micros);
    }

    void chargeKey(String name, long micros) throws Exception {
        charge(CounterKeys.VIRTUAL_KEY, name, 50 * USD, BudgetPeriod.MONTHLY, ZoneOffset.UTC, micros);
    }

    JsonNode raw(String kind, String name) {
        GenericKubernetesResource raw = client.genericKubernetesResources("finops.ai/v1alpha1", kind).inNamespace(NS).withName(name).get();
        return Serialization.jsonMapper().valueToTree(raw);
    }

    JsonNode spend(String kind, String name) {
        return raw(kind, name).path("status").path("spend");
    }

    Condition condition(String kind, String name, String type) {
        for (JsonNode c : raw(kind, name).path("status").path("conditions")) {
            if (type.equals(c.path("type").asText())) {
                return Serialization.jsonMapper().convertValue(c, Condition.class);
            }
        }
        return null;
    }

    List<Event> thresholdEvents() {
        return client.v1().events().inNamespace(NS).list().getItems().stream()
                .filter(e -> SpendStatusLoop.THRESHOLD_REASON.equals(e.getReason())).toList();
    }

    /** What {@code kubectl get} prints in each column of the CRD (in {@code crds/}) for the resource: simple JSON paths only. */
    Map<String, String> columns(String crdFile, String kind, String name) throws Exception {
        CustomResourceDefinition crd = Serialization.unmarshal(Files.readString(Path.of("../crds", crdFile)), CustomResourceDefinition.class);
        JsonNode resource = raw(kind, name);
        Map<String, String> columns = new LinkedHashMap<>();
        crd.getSpec().getVersions().get(0).getAdditionalPrinterColumns().forEach(column -> {
            String path = column.getJsonPath();
            if (!path.contains("[")) {
                JsonNode node = resource.at(path.replace('.', '/'));
                columns.put(column.getName(), node.isMissingNode() ? "<none>" : node.asText());
            }
        });
        return columns;
    }

    double gauge(String name, String kind, String resource) {
        return metrics.registry().get(name).tag(OperatorMetrics.TAG_NAMESPACE, NS).tag(OperatorMetrics.TAG_KIND, kind)
                .tag(OperatorMetrics.TAG_NAME, resource).gauge().value();
    }

    double spendWrites(String kind) {
        var counter = metrics.registry().find(OperatorMetrics.WRITES).tag(OperatorMetrics.TAG_OBJECT, "status")
                .tag(OperatorMetrics.TAG_PURPOSE, "spend/" + kind).counter();
        return counter == null ? 0 : counter.count();
    }

    // ------------------------------------------------------------------ tests

    @Test
    void writesTheSpendTheGatewaysChargedAndWhatKubectlShowsOfIt() throws Exception {
        SpendStatusLoop loop = loop(redisStore());
        key("alice", "50", null);                  // Monthly by default, UTC
        key("bob", null, null);                    // no budget: nothing of the loop's
        budget("platform-monthly", "100.00", null, null);
        chargeKey("alice", 12_345_678);
        chargeBudget("platform-monthly", 12_345_678);
        // a request still in flight counts too (settled + live reservations)
        Counter aliceCounter = CounterKeys.spend(NS, CounterKeys.VIRTUAL_KEY, "alice", 50 * USD, BudgetPeriod.MONTHLY, ZoneOffset.UTC, T0);
        store.reserve("in-flight", List.of(new Charge(aliceCounter, 1_000_000)), Duration.ofMinutes(5), T0).toCompletableFuture().get();

        SpendStatusLoop.Round round = loop.runOnce();
        assertThat(round.writes()).isEqualTo(2);
        assertThat(round.events()).isZero();

        JsonNode alice = spend("VirtualKey", "alice");
        assertThat(alice.path("spentUsd").asText()).isEqualTo("13.34");
        assertThat(alice.path("limitUsd").asText()).isEqualTo("50.00");
        assertThat(alice.path("percent").asInt()).isEqualTo(26);
        assertThat(alice.path("periodStart").asText()).isEqualTo("2026-12-01T00:00:00Z");
        assertThat(alice.path("periodEnd").asText()).isEqualTo("2027-01-01T00:00:00Z");
        assertThat(alice.path("updatedAt").asText()).isEqualTo("2026-12-07T10:00:00Z");
        assertThat(alice.has("alertedPercent")).isFalse();
        Condition exceeded = condition("VirtualKey", "alice", SpendStatus.BUDGET_EXCEEDED);
        assertThat(exceeded.getStatus()).isEqualTo("False");
        assertThat(exceeded.getReason()).isEqualTo(SpendStatusLoop.UNDER_LIMIT);
        assertThat(exceeded.getMessage()).contains("$13.34", "$50.00", "2027-01-01T00:00:00Z");
        // the reconciler's conditions are where they were; the loop's comes after them
        assertThat(raw("VirtualKey", "alice").path("status").path("conditions")).extracting(c -> c.path("type").asText())
                .containsExactly("Accepted", "ResolvedRefs", "Ready", "BudgetExceeded");

        JsonNode platform = spend("Budget", "platform-monthly");
        assertThat(platform.path("spentUsd").asText()).isEqualTo("12.34");
        assertThat(platform.path("percent").asInt()).isEqualTo(12);
        assertThat(platform.path("periodStart").asText()).as("Monthly in Europe/Paris").isEqualTo("2026-11-30T23:00:00Z");
        assertThat(platform.path("periodEnd").asText()).isEqualTo("2026-12-31T23:00:00Z");

        assertThat(raw("VirtualKey", "bob").path("status").has("spend")).isFalse();
        assertThat(condition("VirtualKey", "bob", SpendStatus.BUDGET_EXCEEDED)).isNull();

        // kubectl get vk / bud: SPENT, LIMIT, %, RESETS
        assertThat(columns("virtualkeys.finops.ai-v1.yml", "VirtualKey", "alice")).containsEntry("Spent", "13.34").containsEntry("Limit", "50")
                .containsEntry("%", "26").containsEntry("Resets", "2027-01-01T00:00:00Z");
        assertThat(columns("budgets.finops.ai-v1.yml", "Budget", "platform-monthly")).containsEntry("Spent", "12.34")
                .containsEntry("Limit", "100.00").containsEntry("%", "12").containsEntry("Resets", "2026-12-31T23:00:00Z");

        assertThat(gauge(OperatorMetrics.BUDGET_SPEND, "VirtualKey", "alice")).isEqualTo(13.345678);
        assertThat(gauge(OperatorMetrics.BUDGET_LIMIT, "Budget", "platform-monthly")).isEqualTo(100.0);
        assertThat(spendWrites("VirtualKey")).isEqualTo(1);
        assertThat(spendWrites("Budget")).isEqualTo(1);

        // nothing moved: nothing written, not even updatedAt
        clock.set(T0.plusSeconds(30));
        int before = cluster.requests().size();
        assertThat(loop.runOnce().writes()).isZero();
        assertThat(cluster.writesSince(before)).isEmpty();

        // 13.345678 shows as 13.34: up to 13.349999 nothing is written; from 13.35 (a cent more than shown) it is
        chargeKey("alice", 4_321);
        assertThat(loop.runOnce().writes()).isZero();
        assertThat(spend("VirtualKey", "alice").path("spentUsd").asText()).isEqualTo("13.34");
        chargeKey("alice", 1);
        assertThat(loop.runOnce().writes()).isEqualTo(1);
        assertThat(spend("VirtualKey", "alice").path("spentUsd").asText()).isEqualTo("13.35");
        assertThat(spend("VirtualKey", "alice").path("updatedAt").asText()).isEqualTo("2026-12-07T10:00:30Z");
        assertThat(spendWrites("VirtualKey")).isEqualTo(2);

        // the limit changes: written at once, whatever the spend did
        VirtualKey edited = client.resources(VirtualKey.class).inNamespace(NS).withName("alice").get();
        edited.getSpec().budget.limitUsd = "13.00";
        cluster.edit(edited, "/spec");
        assertThat(loop.runOnce().writes()).isEqualTo(1);
        assertThat(spend("VirtualKey", "alice").path("limitUsd").asText()).isEqualTo("13.00");
        assertThat(spend("VirtualKey", "alice").path("percent").asInt()).isEqualTo(102);
        exceeded = condition("VirtualKey", "alice", SpendStatus.BUDGET_EXCEEDED);
        assertThat(exceeded.getStatus()).isEqualTo("True");
        assertThat(exceeded.getReason()).isEqualTo(SpendStatusLoop.LIMIT_REACHED);
        assertThat(exceeded.getMessage()).contains("$13.35", "$13.00", "refused until it resets at 2027-01-01T00:00:00Z");
        assertThat(exceeded.getLastTransitionTime()).isEqualTo("2026-12-07T10:00:30Z");
        assertThat(thresholdEvents()).as("a VirtualKey's own budget has no alert thresholds").extracting(Event::getMessage).isEmpty();
    }

    @Test
    void announcesEachThresholdOncePerPeriodAcrossRoundsAndLeaders() throws Exception {
        SpendStatusLoop loop = loop(redisStore());
        budget("platform-monthly", "100.00", null, null);
        chargeBudget("platform-monthly", 49_990_000);
        assertThat(loop.runOnce().events()).isZero();

        chargeBudget("platform-monthly", 35_000_000);          // 84.99: 50 and 80 crossed in one round
        SpendStatusLoop.Round round = loop.runOnce();
        assertThat(round.events()).isEqualTo(2);
        assertThat(thresholdEvents()).hasSize(2).allSatisfy(e -> {
            assertThat(e.getType()).isEqualTo("Normal");
            assertThat(e.getInvolvedObject().getKind()).isEqualTo("Budget");
            assertThat(e.getInvolvedObject().getName()).isEqualTo("platform-monthly");
            assertThat(e.getInvolvedObject().getApiVersion()).isEqualTo("finops.ai/v1alpha1");
        });
        assertThat(thresholdEvents()).extracting(Event::getMessage).anySatisfy(m -> assertThat(m).contains("crossed 80%", "$84.99", "$100.00",
                "period 2026-12", "2026-12-31T23:00:00Z"));
        assertThat(spend("Budget", "platform-monthly").path("alertedPercent")).extracting(JsonNode::asInt).containsExactly(50, 80);

        // again, and from a new leader (a new loop, nothing in memory): no Event twice
        assertThat(loop.runOnce().events()).isZero();
        assertThat(new SpendStatusLoop(client, CompletableFuture.completedFuture(store), new OperatorMetrics(new PrometheusMeterRegistry(
                PrometheusConfig.DEFAULT)), Set.of(NS), clock, Duration.ofSeconds(10)).runOnce().events()).isZero();
        assertThat(thresholdEvents()).hasSize(2);

        chargeBudget("platform-monthly", 15_010_000);          // 100.00: 95 and 100, the last a Warning; the limit is reached
        assertThat(loop.runOnce().events()).isEqualTo(2);
        assertThat(thresholdEvents()).hasSize(4).filteredOn(e -> "Warning".equals(e.getType())).singleElement()
                .satisfies(e -> assertThat(e.getMessage()).contains("crossed 100%", "refused"));
        Condition exceeded = condition("Budget", "platform-monthly", SpendStatus.BUDGET_EXCEEDED);
        assertThat(exceeded.getStatus()).isEqualTo("True");
        assertThat(exceeded.getMessage()).contains("$100.00 of the $100.00 limit", "refused until it resets at 2026-12-31T23:00:00Z");
        assertThat(loop.runOnce().events()).isZero();

        // an Event whose status write was lost is found by name, not recorded twice
        client.resources(Budget.class).inNamespace(NS).withName("platform-monthly").subresource("status")
                .patch(PatchContext.of(PatchType.JSON), "[{\"op\":\"remove\",\"path\":\"/status/spend/alertedPercent\"}]");
        assertThat(loop.runOnce().events()).isZero();
        assertThat(thresholdEvents()).hasSize(4);
        assertThat(spend("Budget", "platform-monthly").path("alertedPercent")).extracting(JsonNode::asInt).containsExactly(50, 80, 95, 100);

        // a new period (January in Paris starts at 23:00 UTC): from zero, thresholds announced anew
        clock.set(Instant.parse("2026-12-31T23:00:05Z"));
        assertThat(loop.runOnce().writes()).isEqualTo(1);
        JsonNode spend = spend("Budget", "platform-monthly");
        assertThat(spend.path("spentUsd").asText()).isEqualTo("0.00");
        assertThat(spend.path("periodStart").asText()).isEqualTo("2026-12-31T23:00:00Z");
        assertThat(spend.path("periodEnd").asText()).isEqualTo("2027-01-31T23:00:00Z");
        assertThat(spend.has("alertedPercent")).isFalse();
        assertThat(condition("Budget", "platform-monthly", SpendStatus.BUDGET_EXCEEDED).getStatus()).isEqualTo("False");
        chargeBudget("platform-monthly", 60 * USD);
        assertThat(loop.runOnce().events()).isEqualTo(1);
        assertThat(loop.runOnce().events()).isZero();
        assertThat(thresholdEvents()).hasSize(5).filteredOn(e -> e.getMessage().contains("period 2027-01")).singleElement()
                .satisfies(e -> assertThat(e.getMessage()).contains("crossed 50%"));
    }

    @Test
    void aWarnBudgetIsExceededWithoutRefusingAndARollingWindowSumsItsBuckets() throws Exception {
        SpendStatusLoop loop = loop(redisStore());
        budget("warn-only", "10", "Warn", null);
        budget("weekly-rolling", "10", null, "7d");
        charge(CounterKeys.BUDGET, "warn-only", 10 * USD, BudgetPeriod.MONTHLY, PARIS, 12 * USD);
        // $3 three days ago and $3 now, in the hourly buckets the gateways charge
        chargeRolling("weekly-rolling", clock.instant().minus(Duration.ofDays(3)), 3 * USD);
        chargeRolling("weekly-rolling", clock.instant(), 3 * USD);
        loop.runOnce();

        Condition warn = condition("Budget", "warn-only", SpendStatus.BUDGET_EXCEEDED);
        assertThat(warn.getStatus()).isEqualTo("True");
        assertThat(warn.getReason()).isEqualTo(SpendStatusLoop.LIMIT_REACHED);
        assertThat(warn.getMessage()).contains("$12.00 of the $10.00 limit", "requests are not refused");
        assertThat(spend("Budget", "warn-only").path("percent").asInt()).isEqualTo(120);
        assertThat(thresholdEvents()).filteredOn(e -> "Warning".equals(e.getType())).singleElement()
                .satisfies(e -> assertThat(e.getMessage()).contains("requests are not refused"));

        Condition rolling = condition("Budget", "weekly-rolling", SpendStatus.BUDGET_EXCEEDED);
        assertThat(rolling.getStatus()).isEqualTo("False");
        assertThat(rolling.getMessage()).contains("$6.00 of the $10.00 limit in the rolling 7d window", "room comes back");
        JsonNode spend = spend("Budget", "weekly-rolling");
        assertThat(spend.path("spentUsd").asText()).isEqualTo("6.00");
        assertThat(spend.path("percent").asInt()).isEqualTo(60);
        assertThat(spend.has("periodEnd")).as("a rolling window never resets").isFalse();
        assertThat(spend.path("alertedPercent").toString()).isEqualTo("[50]");
        assertThat(loop.runOnce().writes()).isZero();

        // eight days on, both charges left the window: the threshold is announced again on the next crossing
        clock.set(T0.plus(Duration.ofDays(8)));
        loop.runOnce();
        assertThat(spend("Budget", "weekly-rolling").path("spentUsd").asText()).isEqualTo("0.00");
        assertThat(spend("Budget", "weekly-rolling").has("alertedPercent")).isFalse();
        chargeRolling("weekly-rolling", clock.instant(), 5 * USD);
        int before = thresholdEvents().size();
        loop.runOnce();
        assertThat(thresholdEvents()).hasSize(before + 1);
        clock.set(T0);
    }

    void chargeRolling(String name, java.time.Instant at, long micros) throws Exception {
        ai.finops.governance.RollingWindow window = ai.finops.governance.RollingWindow.of(Duration.ofDays(7));
        Counter counter = CounterKeys.rolling(NS, CounterKeys.BUDGET, name, 10 * USD, window, window.current(at));
        String id = UUID.randomUUID().toString();
        store.reserve(id, List.of(new Charge(counter, 0)), Duration.ofMinutes(5), at).toCompletableFuture().get(10, TimeUnit.SECONDS);
        store.settle(id, List.of(new Charge(counter, micros)), at).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void withoutASharedStoreItSaysSoAndShowsNoSpend() throws Exception {
        key("alice", "50", "Daily");
        budget("platform-monthly", "100.00", null, null);
        // a summary left from an earlier run with Redis is removed, never shown as if current
        client.resources(VirtualKey.class).inNamespace(NS).withName("alice").subresource("status").patch(PatchContext.of(PatchType.JSON),
                "[{\"op\":\"add\",\"path\":\"/status/spend\",\"value\":{\"spentUsd\":\"3.00\",\"limitUsd\":\"50.00\",\"percent\":6}}]");
        SpendStatusLoop loop = loop(null);
        assertThat(loop.runOnce().writes()).isEqualTo(2);
        for (String[] resource : List.of(new String[] {"VirtualKey", "alice"}, new String[] {"Budget", "platform-monthly"})) {
            Condition c = condition(resource[0], resource[1], SpendStatus.BUDGET_EXCEEDED);
            assertThat(c.getStatus()).isEqualTo("Unknown");
            assertThat(c.getReason()).isEqualTo(SpendStatusLoop.NO_SHARED_STORE);
            assertThat(c.getMessage()).contains("embedded mode", "--redis-url");
            assertThat(raw(resource[0], resource[1]).path("status").has("spend")).as(resource[1]).isFalse();
            assertThat(columns(resource[0].equals("Budget") ? "budgets.finops.ai-v1.yml" : "virtualkeys.finops.ai-v1.yml", resource[0], resource[1]))
                    .containsEntry("Spent", "<none>").containsEntry("%", "<none>");
        }
        assertThat(metrics.registry().find(OperatorMetrics.BUDGET_SPEND).gauges()).isEmpty();
        assertThat(loop.runOnce().writes()).isZero();
        assertThat(thresholdEvents()).isEmpty();
    }

    @Test
    void aStoreThatDoesNotAnswerLeavesTheLastSummaryAndIsCounted() throws Exception {
        redisStore();
        key("alice", "50", null);
        chargeKey("alice", 5 * USD);
        assertThat(loop(store).runOnce().writes()).isEqualTo(1);

        try (CounterStore down = new RedisCounterStore("redis://127.0.0.1:1", RedisCounterStore.Options.defaults().withTimeout(Duration.ofMillis(200)))) {
            SpendStatusLoop loop = new SpendStatusLoop(client, CompletableFuture.completedFuture(down), metrics, Set.of(NS), clock, Duration.ofSeconds(2));
            SpendStatusLoop.Round round = loop.runOnce();
            assertThat(round.storeFailed()).isTrue();
            assertThat(round.writes()).isZero();
        }
        assertThat(spend("VirtualKey", "alice").path("spentUsd").asText()).isEqualTo("5.00");
        assertThat(metrics.registry().get(OperatorMetrics.SPEND_STORE_ERRORS).counter().count()).isEqualTo(1);
    }

    @Test
    void theOperatorsStoreTakesItsPasswordFromTheEnvironmentOrAFile(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        try (RedisServer guarded = RedisServer.start("--requirepass", "s3cret")) {
            Counter counter = CounterKeys.spend(NS, CounterKeys.BUDGET, "b", USD, BudgetPeriod.MONTHLY, ZoneOffset.UTC, T0);
            Main fromEnv = new Main();
            new picocli.CommandLine(fromEnv).parseArgs("--redis-url=" + guarded.url());
            fromEnv.environment = Map.of("FINOPS_REDIS_PASSWORD", "s3cret");
            try (CounterStore opened = fromEnv.counterStore().get(30, TimeUnit.SECONDS)) {
                assertThat(opened.used(List.of(counter), T0).toCompletableFuture().get(10, TimeUnit.SECONDS)).containsEntry(counter.key(), 0L);
            }
            Main fromFile = new Main();
            new picocli.CommandLine(fromFile).parseArgs("--redis-url=" + guarded.url(), "--redis-password-file="
                    + Files.writeString(tmp.resolve("password"), "s3cret\n"));
            fromFile.environment = Map.of("FINOPS_REDIS_PASSWORD", "wrong");
            try (CounterStore opened = fromFile.counterStore().get(30, TimeUnit.SECONDS)) {
                assertThat(opened.used(List.of(counter), T0).toCompletableFuture().get(10, TimeUnit.SECONDS)).containsEntry(counter.key(), 0L);
            }
            Main none = new Main();
            new picocli.CommandLine(none).parseArgs();
            none.environment = Map.of();
            assertThat(none.counterStore()).as("embedded mode").isNull();
        }
    }

    @Test
    void aStatusWriteLeavesTheReconcilersConditionsAsTheyAre() throws Exception {
        key("alice", "50", null);
        // the reconciler's conditions changed after the loop read them: the loop's patch touches only its own entry
        VirtualKey read = client.resources(VirtualKey.class).inNamespace(NS).withName("alice").get();
        String patch = ai.finops.operator.spend.SpendStatusLoop.statusPatch(read.getStatus(), -1, null,
                new io.fabric8.kubernetes.api.model.ConditionBuilder().withType(SpendStatus.BUDGET_EXCEEDED).withStatus("Unknown")
                        .withReason(SpendStatusLoop.NO_SHARED_STORE).withMessage("m").build());
        assertThat(patch).doesNotContain("\"Ready\"", "\"Accepted\"", "\"ResolvedRefs\"");
        client.resources(VirtualKey.class).inNamespace(NS).withName("alice").subresource("status").patch(PatchContext.of(PatchType.JSON), patch);
        assertThat(raw("VirtualKey", "alice").path("status").path("conditions")).extracting(c -> c.path("type").asText())
                .containsExactly("Accepted", "ResolvedRefs", "Ready", "BudgetExceeded");
        assertThat(Statuses.find(client.resources(VirtualKey.class).inNamespace(NS).withName("alice").get().getStatus(), Statuses.READY)
                .getStatus()).isEqualTo("True");
    }
}

package ai.finops.gateway.it;

import static ai.finops.gateway.it.GovernanceIT.BODY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.crds.BudgetPeriod;
import ai.finops.gateway.Gateway;
import ai.finops.governance.CounterKeys;
import ai.finops.governance.CounterStore.Counter;
import ai.finops.governance.RedisCounterStore;
import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.RedisServer;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Budgets and rate limits shared by two gateways through one real {@code redis-server}: neither
 * replica can take what the other took, and an outage of Redis loses no spend.
 */
@ExtendWith(NettyLeakDetector.class)
class GovernanceRedisIT {
    final List<AutoCloseable> open = new ArrayList<>();
    RedisServer redis;
    Simulator simulator;

    @BeforeEach
    void start() {
        redis = RedisServer.start();
        simulator = Simulator.start();
    }

    @AfterEach
    void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        simulator.close();
        redis.close();
    }

    /**
     * A gateway on the test's Redis. Where a test counts exactly what Redis decided, a Redis call may take seconds
     * (this machine's cores are shared with the build, and a burst of 200 requests queues on them); past its timeout
     * the gateway would count on its own, which such a test must not see. The outage tests keep the default 50 ms.
     */
    GatewayHarness gateway(String keySpec, String settings) throws Exception {
        return gateway(keySpec, settings, Duration.ofSeconds(5));
    }

    /**
     * The deployment's timeouts are long for the same reason: a request waits for its admission at most the first
     * deployment's connect timeout (then a 503), and a burst's last requests wait for Redis behind the others.
     */
    GatewayHarness gateway(String keySpec, String settings, Duration redisTimeout) throws Exception {
        GatewayHarness g = new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("anthropic-sim", simulator.baseUrl(),
                        GovernanceIT.MODELS + "timeouts: {connect: 10s, firstByte: 15s, idle: 15s}\n"))
                .write("keys.yaml", GatewayHarness.keyAndSecrets().replace("  team: platform\n", "  team: platform\n" + keySpec.indent(2)));
        if (settings != null) {
            g.settings(settings);
        }
        g.governance = new Gateway.Governance(null, redis.url(), null, null, "team-a", redisTimeout);
        open.add(g);
        return g.start();
    }

    /** {@code n} requests at once, alternating between the gateways; their statuses. */
    static List<HttpResponse<String>> burst(int n, GatewayHarness... gateways) {
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            GatewayHarness g = gateways[i % gateways.length];
            sent.add(g.http.sendAsync(HttpRequest.newBuilder(URI.create(g.baseUrl() + "/anthropic/v1/messages"))
                    .timeout(Duration.ofSeconds(30)).header("content-type", "application/json").header("x-api-key", GatewayHarness.KEY)
                    .POST(HttpRequest.BodyPublishers.ofString(BODY)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        return sent.stream().map(CompletableFuture::join).toList();
    }

    static Map<Integer, Long> statuses(List<HttpResponse<String>> responses) {
        return responses.stream().collect(Collectors.groupingBy(HttpResponse::statusCode, Collectors.counting()));
    }

    long redisUsed(Counter c) {
        try (RedisCounterStore reader = new RedisCounterStore(redis.url(), RedisCounterStore.Options.defaults().withTimeout(Duration.ofSeconds(5)))) {
            return reader.used(List.of(c), Instant.now()).toCompletableFuture().join().getOrDefault(c.key(), 0L);
        }
    }

    static Counter keyBudget() {
        return CounterKeys.spend("team-a", CounterKeys.VIRTUAL_KEY, "dev", 1, BudgetPeriod.MONTHLY, ZoneOffset.UTC, Instant.now());
    }

    @Test
    void twoReplicasNeverSpendPastTheBudgetAndRefuseTheRestWith402() throws Exception {
        simulator.defaultReply(Reply.text("ok").withUsage(1_000, 100, 0, 0).delay(Duration.ofMillis(30)));   // 4,500 µ$ each
        long limit = 40 * 4_500;
        String spec = "budget: {limitUsd: \"0.18\", period: Monthly}";
        GatewayHarness a = gateway(spec, null);
        GatewayHarness b = gateway(spec, null);

        List<HttpResponse<String>> responses = burst(200, a, b);

        Map<Integer, Long> byStatus = statuses(responses);
        long admitted = byStatus.getOrDefault(200, 0L);
        assertThat(byStatus.keySet()).as("admitted or refused for the budget, nothing else").isSubsetOf(200, 402);
        responses.stream().filter(r -> r.statusCode() == 402)
                .forEach(r -> assertThat(r.body()).contains("\"billing_error\"", "the budget of virtual key \\\"dev\\\" is exhausted"));
        long reservation = GovernanceIT.sonnetReservation(BODY);
        assertThat(admitted).as("at least what the limit holds of worst-case reservations").isGreaterThanOrEqualTo(limit / reservation);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(redisUsed(keyBudget())).isEqualTo(admitted * 4_500));
        assertThat(admitted * 4_500).as("spend within the limit plus one reservation").isLessThanOrEqualTo(limit + reservation);
        assertThat(simulator.requests()).hasSize((int) admitted);
    }

    @Test
    void requestsPerMinuteHoldAcrossReplicas() throws Exception {
        GatewayHarness a = gateway("rateLimits: {requestsPerMinute: 20}", null);
        GatewayHarness b = gateway("rateLimits: {requestsPerMinute: 20}", null);
        long started = System.nanoTime();
        List<HttpResponse<String>> responses = burst(60, a, b);
        long elapsedMillis = (System.nanoTime() - started) / 1_000_000;
        Map<Integer, Long> byStatus = statuses(responses);
        assertThat(byStatus.keySet()).isSubsetOf(200, 429);
        // 20 at once, then one every 3 s as the minute drains
        assertThat(byStatus.getOrDefault(200, 0L)).isBetween(20L, 20L + elapsedMillis / 3_000 + 1);
        responses.stream().filter(r -> r.statusCode() == 429).forEach(r -> assertThat(r.headers().firstValue("retry-after")).isPresent());
    }

    @Test
    void maxConcurrentRequestsHoldAcrossReplicas() throws Exception {
        // the first four hold their slots while the other eight are decided, however slowly a loaded machine admits them
        simulator.defaultReply(Reply.text("slow").delay(Duration.ofSeconds(5)));
        GatewayHarness a = gateway("rateLimits: {maxConcurrentRequests: 4}", null);
        GatewayHarness b = gateway("rateLimits: {maxConcurrentRequests: 4}", null);
        Map<Integer, Long> byStatus = statuses(burst(12, a, b));
        assertThat(byStatus).containsExactlyInAnyOrderEntriesOf(Map.of(200, 4L, 429, 8L));
    }

    @Test
    void aStalledRedisAdmitsOnLocalCountersAndItsSpendIsAddedWhenItReturns() throws Exception {
        simulator.defaultReply(Reply.text("ok").withUsage(1_000, 100, 0, 0));
        GatewayHarness g = gateway("budget: {limitUsd: \"100.00\", period: Monthly}", null, RedisCounterStore.DEFAULT_TIMEOUT);
        for (int i = 0; i < 3; i++) {
            assertThat(GovernanceIT.send(g, BODY).statusCode()).isEqualTo(200);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> redisUsed(keyBudget()) == 13_500);
        assertThat(g.get(g.adminUrl() + "/readyz").body()).contains("governance: redis");

        redis.freeze();
        try {
            for (int i = 0; i < 4; i++) {
                HttpResponse<String> r = GovernanceIT.send(g, BODY);
                assertThat(r.statusCode()).as("onStoreFailure: Allow (the default) admits on the slice it holds, else on local counters")
                        .isEqualTo(200);
            }
            // requests granted on the gateway's slice never call Redis: the outage shows when its settles are sent (every 100 ms)
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(g.metrics()).contains("finops_gateway_governance_store_available 0.0"));
            assertThat(g.metrics()).as("the budget is leased: requests were granted on the gateway's slice")
                    .containsPattern("finops_gateway_governance_reservations_total\\{decided=\"slice\"[^}]*\\} [1-9]");
        } finally {
            redis.thaw();
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(redisUsed(keyBudget()))
                .as("the outage's 4 requests added once, nothing lost or counted twice").isEqualTo(7 * 4_500));
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(g.metrics())
                .contains("finops_gateway_governance_store_available 1.0", "finops_gateway_governance_settles_pending 0.0"));
        Thread.sleep(1_500);   // a replay round more: still counted once
        assertThat(redisUsed(keyBudget())).isEqualTo(7 * 4_500);
    }

    @Test
    void aRedisKilledUnderLoadAndRestartedEmptyGetsTheOutagesSpendOnce() throws Exception {
        simulator.defaultReply(Reply.text("ok").withUsage(1_000, 100, 0, 0));
        GatewayHarness g = gateway("budget: {limitUsd: \"100.00\", period: Monthly}", null, RedisCounterStore.DEFAULT_TIMEOUT);
        assertThat(GovernanceIT.send(g, BODY).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).until(() -> redisUsed(keyBudget()) == 4_500);   // settled before the kill
        redis.kill();
        List<HttpResponse<String>> during = burst(10, g);
        assertThat(statuses(during)).as("admitted on local counters").containsExactly(Map.entry(200, 10L));
        redis.restart();     // with no data: what Redis held before is Redis's own loss, not the gateway's
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(redisUsed(keyBudget()))
                .as("the 10 requests of the outage, replayed once").isEqualTo(10 * 4_500));
        Thread.sleep(1_500);
        assertThat(redisUsed(keyBudget())).isEqualTo(10 * 4_500);
        assertThat(GovernanceIT.send(g, BODY).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(redisUsed(keyBudget())).isEqualTo(11 * 4_500));
    }

    /**
     * What the admit step costs Redis on a key far from its limits (the bench's governed key, scaled down), counted: the
     * script calls ({@code EVALSHA}, {@code EVAL}) and every command Redis ran ({@code INFO commandstats}, a script's
     * own commands included) per request, with leases and with {@code governance.leases: false}.
     */
    @Test
    void farFromItsLimitsAKeyCostsRedisFarLessThanACallARequestWithLeases() throws Exception {
        simulator.defaultReply(Reply.text("ok").withUsage(1_000, 100, 0, 0));
        String spec = "budget: {limitUsd: \"1000.00\", period: Monthly}\nrateLimits: {requestsPerMinute: 1000000, maxConcurrentRequests: 10000}";
        int n = 300;
        GatewayHarness leased = gateway(spec, null);
        long[] withLeases = cost(leased, n, 0);
        open.remove(leased);
        leased.close();      // its slices go back
        GatewayHarness exact = gateway(spec, "governance: {leases: false}\n");
        long[] without = cost(exact, n, n + 20);
        System.out.printf("[cost] gateway, %d requests: with leases %d script calls (%.3f a request), %d commands (%.2f a request);"
                + " without %d script calls (%.3f a request), %d commands (%.2f a request)%n", n, withLeases[0], withLeases[0] / (double) n,
                withLeases[1], withLeases[1] / (double) n, without[0], without[0] / (double) n, without[1], without[1] / (double) n);
        assertThat(without[0]).as("without leases: a reserve a request, and its settle").isGreaterThanOrEqualTo(n);
        // with leases: a slice now and then, and the spend moved every 100 ms: how many of those depends on how long the
        // requests took, not on how many they were, so the figure is compared with the other, not with a constant
        assertThat(withLeases[0] * 4).as("with leases: script calls").isLessThan(without[0]);
        assertThat(withLeases[1] * 4).as("with leases: Redis commands").isLessThan(without[1]);
    }

    /**
     * Sends 20 requests (slices taken), then {@code n} more, one at a time, until their spend is in Redis: the script
     * calls and commands Redis ran for the {@code n}, less this test's own reads. {@code spentBefore}: requests of the
     * key's budget already settled.
     */
    long[] cost(GatewayHarness g, int n, long spentBefore) throws Exception {
        for (int i = 0; i < 20; i++) {
            assertThat(GovernanceIT.send(g, BODY).statusCode()).isEqualTo(200);
        }
        long warm = spentBefore + 20;
        await().atMost(Duration.ofSeconds(10)).until(() -> redisUsed(keyBudget()) == warm * 4_500);
        try (io.lettuce.core.RedisClient admin = io.lettuce.core.RedisClient.create(redis.url());
                io.lettuce.core.api.StatefulRedisConnection<String, String> c = admin.connect();
                RedisCounterStore reader = new RedisCounterStore(redis.url(), RedisCounterStore.Options.defaults().withTimeout(Duration.ofSeconds(5)))) {
            Map<String, Long> before = commandStats(c.sync());
            for (int i = 0; i < n; i++) {
                assertThat(GovernanceIT.send(g, BODY).statusCode()).isEqualTo(200);
            }
            java.util.concurrent.atomic.AtomicLong reads = new java.util.concurrent.atomic.AtomicLong();
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                reads.incrementAndGet();     // one script call running one HMGET
                Counter budget = keyBudget();
                return reader.used(List.of(budget), Instant.now()).toCompletableFuture().join().get(budget.key()) == (warm + n) * 4_500;
            });
            Map<String, Long> after = commandStats(c.sync());
            long scripts = after.getOrDefault("evalsha", 0L) + after.getOrDefault("eval", 0L)
                    - before.getOrDefault("evalsha", 0L) - before.getOrDefault("eval", 0L) - reads.get();
            long commands = -2 * reads.get();
            for (Map.Entry<String, Long> e : after.entrySet()) {
                commands += e.getValue() - before.getOrDefault(e.getKey(), 0L);
            }
            return new long[] {scripts, commands};
        }
    }

    /** Calls per command since Redis started, scripts' own commands included, {@code INFO} left out. */
    static Map<String, Long> commandStats(io.lettuce.core.api.sync.RedisCommands<String, String> redis) {
        Map<String, Long> out = new java.util.HashMap<>();
        for (String line : redis.info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_") && !line.startsWith("cmdstat_info:")) {
                int calls = line.indexOf("calls=") + 6;
                out.put(line.substring(8, line.indexOf(':')), Long.parseLong(line.substring(calls, line.indexOf(',', calls))));
            }
        }
        return out;
    }

    @Test
    void onStoreFailureDenyRefusesWith503WhileRedisIsAway() throws Exception {
        GatewayHarness g = gateway("rateLimits: {requestsPerMinute: 100}", "governance: {onStoreFailure: Deny}\n",
                RedisCounterStore.DEFAULT_TIMEOUT);
        // served while Redis answers (a first call on a cold, busy machine may take longer than the 50 ms it is given)
        await().atMost(Duration.ofSeconds(5)).until(() -> GovernanceIT.send(g, BODY).statusCode() == 200);
        redis.freeze();
        try {
            HttpResponse<String> r = GovernanceIT.send(g, BODY);
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).contains("governance store did not answer");
            assertThat(r.headers().firstValue("retry-after")).hasValue("5");
        } finally {
            redis.thaw();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> GovernanceIT.send(g, BODY).statusCode() == 200);
        assertThat(simulator.requests()).hasSizeGreaterThanOrEqualTo(2);
    }
}

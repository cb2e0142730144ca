package ai.finops.governance;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.governance.CounterStore.Charge;
import ai.finops.governance.CounterStore.Counter;
import ai.finops.governance.CounterStore.Counter.Kind;
import ai.finops.governance.CounterStore.Decision;
import ai.finops.governance.CounterStore.Granted;
import ai.finops.testkit.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.SlotHash;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What is Redis's own in {@link RedisCounterStore}, against a real {@code redis-server}: the key layout
 * the script and the Java side agree on, the hash tag, a TTL on every key that covers what it holds,
 * the script cache refilled after a flush. What the counters mean is {@link RedisCounterStoreContractTest}'s.
 */
class RedisCounterStoreTest {
    static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
    static final long T0_MICROS = Charges.micros(T0);
    static final Duration MINUTE = Duration.ofMinutes(1);
    static final Duration TTL = Duration.ofMinutes(5);
    static final Duration KEEP = Duration.ofDays(40);
    /** Generous: these tests are about Redis's keys, on a machine that may be busy; the outage tests take the timeout apart. */
    static final RedisCounterStore.Options OPTIONS = RedisCounterStore.Options.defaults().withTimeout(Duration.ofSeconds(5));

    static RedisServer server;
    static RedisClient adminClient;
    static StatefulRedisConnection<String, String> adminConnection;
    static RedisCommands<String, String> admin;

    RedisCounterStore store;

    /** Once for the class, from the first test: without redis-server every test is skipped with the reason (or fails, in CI). */
    static void startRedis() {
        if (server == null) {
            server = RedisServer.start();
            adminClient = RedisClient.create(server.url());
            adminConnection = adminClient.connect();
            admin = adminConnection.sync();
        }
    }

    @AfterAll
    static void stopRedis() {
        if (adminConnection != null) {
            adminConnection.close();
            adminClient.shutdown();
            adminConnection = null;
        }
        if (server != null) {
            server.close();
            server = null;
        }
    }

    @BeforeEach
    void openStore() {
        startRedis();
        admin.flushall();
        store = new RedisCounterStore(server.url(), OPTIONS);
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    @Test
    void isRedis() {
        assertThat(store.mode()).isEqualTo("redis");
    }

    @Test
    void theScriptWritesTheKeysTheJavaSideNames() {
        Counter budget = spend("spend:ns/budget/b:2026-12", 1_000);
        Counter rpm = perMinute("rpm:ns/key/dev", Kind.REQUESTS_PER_MINUTE, 100);
        Counter inFlight = concurrent("conc:ns/key/dev", 10);
        assertThat(store.keysOf(budget)).containsExactly("{finops}:c:spend:ns/budget/b:2026-12:sum");
        assertThat(store.keysOf(rpm)).containsExactly("{finops}:c:rpm:ns/key/dev:rate");
        assertThat(store.keysOf(inFlight)).containsExactly("{finops}:c:conc:ns/key/dev:sum");
        assertThat(store.recordKey("a")).isEqualTo("{finops}:r:a");

        reserve("a", T0, new Charge(budget, 100), new Charge(rpm, 1), new Charge(inFlight, 1));
        long expiry = T0_MICROS + Charges.micros(TTL);
        long window = Charges.micros(MINUTE);
        assertThat(admin.hgetall(store.keysOf(budget).get(0))).isEqualTo(Map.of("total", "0",
                "until", Long.toString(T0_MICROS + Charges.micros(KEEP)), "i:a", "100 " + expiry, "_sum", "100",
                "_next", Long.toString(expiry), "_last", Long.toString(expiry)));
        assertThat(admin.hgetall(store.keysOf(rpm).get(0)))
                .isEqualTo(Map.of("level", Long.toString(window), "last", Long.toString(T0_MICROS), "window", Long.toString(window)));
        assertThat(admin.hgetall(store.keysOf(inFlight).get(0))).isEqualTo(Map.of("i:a", "1 " + expiry, "_sum", "1",
                "_next", Long.toString(expiry), "_last", Long.toString(expiry)));
        assertThat(admin.hgetall(store.recordKey("a"))).isEqualTo(Map.of(
                "_exp", Long.toString(expiry),
                "_ttl", Long.toString(Charges.micros(TTL)),
                "_forget", Long.toString(expiry + Charges.micros(CounterStore.DEFAULT_SETTLED_MEMORY)),
                "c:" + budget.key(), "S 1000 " + Charges.micros(KEEP) + " 100",
                "c:" + rpm.key(), "R 100 " + window + " 1",
                "c:" + inFlight.key(), "C 10 0 1"));

        settle("a", T0, new Charge(budget, 70));
        assertThat(admin.hget(store.keysOf(budget).get(0), "total")).isEqualTo("70");
        assertThat(admin.hget(store.keysOf(budget).get(0), "_sum")).isEqualTo("0");
        assertThat(admin.hexists(store.keysOf(budget).get(0), "i:a")).isFalse();
        assertThat(admin.hgetall(store.keysOf(inFlight).get(0))).as("nothing in flight")
                .containsEntry("_sum", "0").doesNotContainKey("i:a");
        assertThat(admin.hgetall(store.recordKey("a"))).isEqualTo(Map.of("_settled", "1", "_ttl", Long.toString(Charges.micros(TTL)),
                "_forget", Long.toString(T0_MICROS + Charges.micros(CounterStore.DEFAULT_SETTLED_MEMORY))));
    }

    @Test
    void everyKeyIsUnderTheHashTagAndHasATtlCoveringWhatItHoldsPlusAGrace() {
        Counter budget = spend("spend:ns/budget/b:2026-12", 1_000);
        Counter rpm = perMinute("rpm:ns/key/dev", Kind.REQUESTS_PER_MINUTE, 100);
        Counter tpm = perMinute("tpm:ns/key/dev", Kind.TOKENS_PER_MINUTE, 10_000);
        Counter inFlight = concurrent("conc:ns/key/dev", 10);
        Charge[] all = {new Charge(budget, 10), new Charge(rpm, 1), new Charge(tpm, 100), new Charge(inFlight, 1)};
        reserve("a", T0, all);
        reserve("b", T0, all);
        settle("a", T0, all);

        List<String> keys = admin.keys("*");
        Set<String> declared = new HashSet<>();
        for (Charge c : all) {
            declared.addAll(store.keysOf(c.counter()));
        }
        declared.add(store.recordKey("a"));
        declared.add(store.recordKey("b"));
        assertThat(Set.copyOf(keys)).isEqualTo(declared);
        for (String key : keys) {
            assertThat(key).startsWith("{finops}:");
        }
        assertThat(keys.stream().map(SlotHash::getSlot).distinct()).as("one Cluster slot").hasSize(1);

        Duration grace = RedisCounterStore.GRACE;
        Duration memory = CounterStore.DEFAULT_SETTLED_MEMORY;
        assertTtl(store.recordKey("b"), TTL.plus(memory).plus(grace));    // live, then remembered from its expiry
        assertTtl(store.recordKey("a"), memory.plus(grace));               // settled: remembered from now
        assertTtl(store.keysOf(budget).get(0), KEEP.plus(grace));          // the settled total: its window
        assertTtl(store.keysOf(inFlight).get(0), TTL.plus(grace));        // reservations: their ttl
        assertTtl(store.keysOf(rpm).get(0), MINUTE.plus(grace));          // a rate: until drained, a window at least
        assertTtl(store.keysOf(tpm).get(0), MINUTE.plus(grace));
    }

    @Test
    void aSpendCounterWithoutAWindowIsTheOneKeyWithoutATtl() {
        Counter total = new Counter("spend:ns/budget/b:total", Kind.SPEND, 1_000, null);
        Counter monthly = spend(total.key(), 1_000);
        settle("a", T0, new Charge(monthly, 10));
        assertTtl(store.keysOf(total).get(0), KEEP.plus(RedisCounterStore.GRACE));
        settle("b", T0, new Charge(total, 10));
        assertThat(admin.pttl(store.keysOf(total).get(0))).isEqualTo(-1);
        assertThat(admin.hget(store.keysOf(total).get(0), "until")).isEqualTo("ever");
        settle("c", T0, new Charge(monthly, 10));
        assertThat(admin.pttl(store.keysOf(total).get(0))).as("a window given later does not end it").isEqualTo(-1);
        assertThat(usedOf(total, T0.plus(Duration.ofDays(3_650)))).isEqualTo(30);
    }

    @Test
    void aRateInDebtBeyondTheWindowKeepsItsKeyUntilItHasDrained() {
        Counter tpm = perMinute("tpm:ns/key/dev", Kind.TOKENS_PER_MINUTE, 1_000);
        reserve("a", T0, new Charge(tpm, 100));
        settle("a", T0, new Charge(tpm, 3_200));
        assertTtl(store.keysOf(tpm).get(0), Duration.ofMillis(3_200 * 60).plus(RedisCounterStore.GRACE));
        settle("b", T0, new Charge(tpm, 5));    // an unknown id charges no rate, and touches no key of it
        assertTtl(store.keysOf(tpm).get(0), Duration.ofMillis(3_200 * 60).plus(RedisCounterStore.GRACE));
    }

    @Test
    void expiredReservationsLeaveTheRunningTotalWhenTheirCounterIsNextTouched() {
        Counter budget = spend("spend:ns/budget/b:2026-12", 100);
        Counter inFlight = concurrent("conc:ns/key/dev", 1);
        await(store.reserve("a", List.of(new Charge(budget, 100), new Charge(inFlight, 1)), Duration.ofSeconds(10), T0));
        assertThat(admin.hget(store.keysOf(budget).get(0), "_sum")).isEqualTo("100");
        Instant expired = T0.plusSeconds(10);
        reserve("c", expired, new Charge(budget, 60), new Charge(inFlight, 1));
        long expiry = Charges.micros(expired.plus(TTL));
        for (Counter c : List.of(budget, inFlight)) {
            Map<String, String> sums = admin.hgetall(store.keysOf(c).get(0));
            assertThat(sums).containsEntry("_sum", c == budget ? "60" : "1").containsEntry("_next", Long.toString(expiry))
                    .doesNotContainKey("i:a").containsKey("i:c");
        }
    }

    @Test
    void aForgottenRecordIsDeletedWhenItsIdComesBack() {
        Counter budget = spend("spend:ns/budget/b:2026-12", 100);
        settle("a", T0, new Charge(budget, 1));
        assertThat(admin.exists(store.recordKey("a"))).isEqualTo(1);
        Instant later = T0.plus(CounterStore.DEFAULT_SETTLED_MEMORY);
        assertThat(reserve("a", later, new Charge(budget, 1))).isInstanceOf(Granted.class);
        assertThat(admin.hget(store.recordKey("a"), "_settled")).isNull();
        assertThat(admin.hget(store.recordKey("a"), "_exp")).isEqualTo(Long.toString(Charges.micros(later.plus(TTL))));
    }

    @Test
    void anotherTagKeepsItsCountersApart() {
        Counter budget = spend("spend:ns/budget/b:2026-12", 100);
        try (RedisCounterStore teamA = new RedisCounterStore(server.url(), OPTIONS.withKeyTag("finops:team-a"))) {
            await(teamA.reserve("a", List.of(new Charge(budget, 100)), TTL, T0));
            assertThat(await(teamA.used(List.of(budget), T0))).isEqualTo(Map.of(budget.key(), 100L));
            assertThat(usedOf(budget, T0)).isZero();
            assertThat(admin.keys("*")).allMatch(k -> k.startsWith("{finops:team-a}:"));
        }
    }

    @Test
    void aFlushedScriptCacheIsRefilledByTheNextCall() {
        Counter budget = spend("spend:ns/budget/b:2026-12", 100);
        reserve("a", T0, new Charge(budget, 10));
        assertThat(admin.scriptExists(RedisCounterStore.SCRIPT_SHA)).containsExactly(true);
        admin.scriptFlush();
        assertThat(reserve("b", T0, new Charge(budget, 10))).isInstanceOf(Granted.class);
        assertThat(admin.scriptExists(RedisCounterStore.SCRIPT_SHA)).containsExactly(true);
        assertThat(usedOf(budget, T0)).isEqualTo(20);
    }

    // --- helpers

    /** The key's TTL is {@code expected}, less what a busy machine took since it was set (a few seconds at most). */
    static void assertTtl(String key, Duration expected) {
        assertThat(admin.pttl(key)).as("TTL of %s", key).isBetween(expected.toMillis() - 10_000, expected.toMillis());
    }

    static Counter spend(String key, long limit) {
        return new Counter(key, Kind.SPEND, limit, KEEP);
    }

    static Counter perMinute(String key, Kind kind, long limit) {
        return new Counter(key, kind, limit, MINUTE);
    }

    static Counter concurrent(String key, long limit) {
        return new Counter(key, Kind.CONCURRENT, limit, null);
    }

    Decision reserve(String id, Instant now, Charge... charges) {
        return await(store.reserve(id, List.of(charges), TTL, now));
    }

    void settle(String id, Instant now, Charge... actual) {
        await(store.settle(id, List.of(actual), now));
    }

    long usedOf(Counter counter, Instant now) {
        return await(store.used(List.of(counter), now)).get(counter.key());
    }

    static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError(e);
        }
    }
}

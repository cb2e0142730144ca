package ai.finops.gateway.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.gateway.governance.CounterStore.Charge;
import ai.finops.gateway.governance.CounterStore.Counter;
import ai.finops.gateway.governance.CounterStore.Counter.Kind;
import ai.finops.gateway.governance.CounterStore.Decision;
import ai.finops.gateway.governance.CounterStore.Granted;
import ai.finops.gateway.governance.CounterStore.Refused;
import ai.finops.testkit.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.SlotHash;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RedisCounterStore} against a real {@code redis-server}: the properties every counter store
 * must have (all or nothing, GCRA, expiry, settling once, concurrency), shown across two stores (two
 * replicas) where it matters, and what is Redis's own: keys, hash tag, TTLs, script reloads.
 */
class RedisCounterStoreTest {
    static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
    static final Duration MINUTE = Duration.ofMinutes(1);
    static final Duration TTL = Duration.ofMinutes(5);
    /** Generous: these tests are about semantics, on a machine that may be busy; the outage tests take the timeout apart. */
    static final RedisCounterStore.Options OPTIONS = RedisCounterStore.Options.defaults().withTimeout(Duration.ofSeconds(5));

    static RedisServer server;
    static RedisClient adminClient;
    static StatefulRedisConnection<String, String> adminConnection;
    static RedisCommands<String, String> admin;

    RedisCounterStore store;
    RedisCounterStore replica;

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
        }
        if (server != null) {
            server.close();
            server = null;
        }
    }

    @BeforeEach
    void stores() {
        startRedis();
        admin.flushall();
        store = new RedisCounterStore(server.url(), OPTIONS);
        replica = new RedisCounterStore(server.url(), OPTIONS);
    }

    @AfterEach
    void closeStores() {
        if (store != null) {
            store.close();
            replica.close();
        }
    }

    // --- all or nothing

    @Test
    void aReserveAddsEveryChargeOrNone() throws Exception {
        Counter key = spend("spend:ns/key/dev:2026-12", 100);
        Counter team = spend("spend:ns/team/a:2026-12", 50);

        Decision refused = reserve(store, "r1", List.of(new Charge(key, 60), new Charge(team, 60)), T0);
        assertThat(refused).isEqualTo(new Refused(team, 0, null));
        assertThat(used(store, key, team)).containsExactly(Map.entry(key.key(), 0L), Map.entry(team.key(), 0L));

        Decision granted = reserve(replica, "r2", List.of(new Charge(key, 60), new Charge(team, 40)), T0);
        assertThat(granted).isEqualTo(new Granted("r2", Map.of(key.key(), 40L, team.key(), 10L)));

        // the first counter without room is named, with what it holds
        Decision both = reserve(store, "r3", List.of(new Charge(key, 41), new Charge(team, 11)), T0);
        assertThat(both).isEqualTo(new Refused(key, 60, null));
        assertThat(used(store, key, team)).containsExactly(Map.entry(key.key(), 60L), Map.entry(team.key(), 40L));
    }

    @Test
    void aRefusalByOneKindLeavesTheOtherKindsUntouched() throws Exception {
        Counter budget = spend("spend:ns/budget/b:2026-12", 1_000);
        Counter rpm = perMinute("rpm:ns/key/dev", Kind.REQUESTS_PER_MINUTE, 1);
        Counter inFlight = concurrent("conc:ns/key/dev", 5);
        List<Charge> charges = List.of(new Charge(budget, 10), new Charge(inFlight, 1), new Charge(rpm, 1));

        assertThat(reserve(store, "a", charges, T0)).isInstanceOf(Granted.class);
        Decision second = reserve(store, "b", charges, T0);
        assertThat(second).isEqualTo(new Refused(rpm, 1, MINUTE));
        assertThat(used(store, budget, rpm, inFlight)).containsExactly(
                Map.entry(budget.key(), 10L), Map.entry(rpm.key(), 1L), Map.entry(inFlight.key(), 1L));
    }

    @Test
    void aCounterGivenTwiceIsChargedOnceWithTheSum() throws Exception {
        Counter budget = spend("spend:ns/budget/b:2026-12", 100);
        assertThat(reserve(store, "a", List.of(new Charge(budget, 60), new Charge(budget, 50)), T0))
                .isEqualTo(new Refused(budget, 0, null));
        assertThat(reserve(store, "b", List.of(new Charge(budget, 60), new Charge(budget, 40)), T0))
                .isEqualTo(new Granted("b", Map.of(budget.key(), 0L)));
    }

    // --- spend

    @Test
    void spendIsSettledPlusLiveReservationsAndASettleReplacesTheReservation() throws Exception {
        Counter budget = spend("spend:ns/budget/b:2026-12", 1_000);
        assertThat(reserve(store, "a", List.of(new Charge(budget, 300)), T0)).isInstanceOf(Granted.class);
        assertThat(reserve(replica, "b", List.of(new Charge(budget, 500)), T0)).isInstanceOf(Granted.class);
        assertThat(usedOf(store, budget)).isEqualTo(800);

        settle(replica, "a", List.of(new Charge(budget, 120)), T0.plusSeconds(1));
        assertThat(usedOf(store, budget)).isEqualTo(620);
        settle(store, "b", List.of(new Charge(budget, 700)), T0.plusSeconds(2));    // more than reserved: it was spent
        assertThat(usedOf(store, budget)).isEqualTo(820);

        assertThat(reserve(store, "c", List.of(new Charge(budget, 181)), T0.plusSeconds(3))).isEqualTo(new Refused(budget, 820, null));
        assertThat(reserve(store, "d", List.of(new Charge(budget, 180)), T0.plusSeconds(3)))
                .isEqualTo(new Granted("d", Map.of(budget.key(), 0L)));
    }

    @Test
    void spendNeverExceedsItsLimitWhenEightThreadsOnTwoReplicasRace() throws Exception {
        long limit = 20_000;
        Counter budget = spend("spend:ns/budget/race:2026-12", limit);
        record Outcome(long amount, Decision decision) {}
        ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                RedisCounterStore mine = thread % 2 == 0 ? store : replica;
                done.add(threads.submit(() -> {
                    Random random = new Random(thread);
                    for (int i = 0; i < 200; i++) {
                        long amount = 1 + random.nextInt(50);
                        String id = "race-" + thread + "-" + i;
                        Decision decision = reserve(mine, id, List.of(new Charge(budget, amount)), T0);
                        outcomes.add(new Outcome(amount, decision));
                        if (decision instanceof Granted) {
                            settle(mine, id, List.of(new Charge(budget, amount)), T0);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(outcomes).hasSize(1600);

        // every grant reports what the counter held after it: in some order they form one chain of additions from zero
        List<Long> chain = new ArrayList<>(List.of(0L));
        List<Outcome> grants = outcomes.stream().filter(o -> o.decision() instanceof Granted)
                .sorted(Comparator.comparingLong(o -> limit - ((Granted) o.decision()).remaining().get(budget.key()))).toList();
        for (Outcome g : grants) {
            long after = limit - ((Granted) g.decision()).remaining().get(budget.key());
            assertThat(after - g.amount()).as("a grant starts where the previous one ended").isEqualTo(chain.get(chain.size() - 1));
            assertThat(after).isLessThanOrEqualTo(limit);
            chain.add(after);
        }
        long total = chain.get(chain.size() - 1);
        assertThat(grants.stream().mapToLong(Outcome::amount).sum()).isEqualTo(total);
        assertThat(usedOf(store, budget)).as("all settled, at what was reserved").isEqualTo(total).isLessThanOrEqualTo(limit);
        Set<Long> states = Set.copyOf(chain);
        List<Outcome> refusals = outcomes.stream().filter(o -> o.decision() instanceof Refused).toList();
        assertThat(refusals).as("demand was twice the budget").isNotEmpty();
        for (Outcome r : refusals) {
            long usedThen = ((Refused) r.decision()).used();
            assertThat(states).as("a refusal saw a state of the counter").contains(usedThen);
            assertThat(usedThen + r.amount()).as("a refusal came when there was no room").isGreaterThan(limit);
        }
    }

    // --- per-minute limits (GCRA)

    @Test
    void exactlyLimitRequestsOfABurstAreAdmittedThenOneEveryInterval() throws Exception {
        Counter rpm = perMinute("rpm:ns/key/dev", Kind.REQUESTS_PER_MINUTE, 10);
        List<Charge> one = List.of(new Charge(rpm, 1));
        for (int i = 0; i < 10; i++) {
            assertThat(reserve(i % 2 == 0 ? store : replica, "b" + i, one, T0))
                    .isEqualTo(new Granted("b" + i, Map.of(rpm.key(), 9L - i)));
        }
        assertThat(reserve(store, "over", one, T0)).isEqualTo(new Refused(rpm, 10, Duration.ofSeconds(6)));
        assertThat(reserve(store, "early", one, T0.plusMillis(5_999))).isEqualTo(new Refused(rpm, 10, Duration.ofMillis(1)));
        assertThat(reserve(store, "on-time", one, T0.plusSeconds(6))).isInstanceOf(Granted.class);
        assertThat(reserve(store, "next", one, T0.plusSeconds(6))).isEqualTo(new Refused(rpm, 10, Duration.ofSeconds(6)));

        // a window later the whole burst is back, and no more
        Instant later = T0.plusSeconds(66);
        for (int i = 0; i < 10; i++) {
            assertThat(reserve(replica, "c" + i, one, later)).isInstanceOf(Granted.class);
        }
        assertThat(reserve(store, "c-over", one, later)).isInstanceOf(Refused.class);
    }

    @Test
    void tokensPerMinuteRefusalsSayWhenTheChargeFits() throws Exception {
        Counter tpm = perMinute("tpm:ns/key/dev", Kind.TOKENS_PER_MINUTE, 1_000);    // one token every 60 ms
        assertThat(reserve(store, "a", List.of(new Charge(tpm, 600)), T0)).isEqualTo(new Granted("a", Map.of(tpm.key(), 400L)));
        assertThat(reserve(store, "b", List.of(new Charge(tpm, 600)), T0)).isEqualTo(new Refused(tpm, 600, Duration.ofSeconds(12)));
        assertThat(reserve(store, "b", List.of(new Charge(tpm, 600)), T0.plusSeconds(12))).isInstanceOf(Granted.class);
        // more than the limit never fits: no retry-after
        assertThat(reserve(store, "huge", List.of(new Charge(tpm, 1_001)), T0.plusSeconds(600)))
                .isEqualTo(new Refused(tpm, 0, null));
        // refilled continuously
        assertThat(usedOf(store, tpm, T0.plusSeconds(12))).isEqualTo(1_000);
        assertThat(usedOf(store, tpm, T0.plusSeconds(42))).isEqualTo(500);
        assertThat(usedOf(store, tpm, T0.plusSeconds(72))).isZero();
    }

    @Test
    void settlingTokensCreditsWhatWasNotUsedAndChargesWhatWasUsedBeyond() throws Exception {
        Counter tpm = perMinute("tpm:ns/key/dev", Kind.TOKENS_PER_MINUTE, 1_000);
        reserve(store, "a", List.of(new Charge(tpm, 800)), T0);
        settle(replica, "a", List.of(new Charge(tpm, 200)), T0);
        assertThat(usedOf(store, tpm)).isEqualTo(200);
        assertThat(reserve(store, "b", List.of(new Charge(tpm, 800)), T0)).isInstanceOf(Granted.class);
        // a counter missing from the actuals settles at zero: the 800 come back
        settle(store, "b", List.of(), T0);
        assertThat(usedOf(store, tpm)).isEqualTo(200);

        // used far beyond the reservation: the debt outlasts the window, and the refusal says when it is paid back
        reserve(store, "c", List.of(new Charge(tpm, 100)), T0);
        settle(store, "c", List.of(new Charge(tpm, 3_000)), T0);
        assertThat(usedOf(store, tpm)).isEqualTo(3_200);
        Decision refused = reserve(store, "d", List.of(new Charge(tpm, 1)), T0);
        assertThat(refused).isEqualTo(new Refused(tpm, 3_200, Duration.ofMillis((3_200 + 1 - 1_000) * 60)));
        assertThat(admin.pttl(store.keysOf(tpm).get(0))).isGreaterThan(MINUTE.toMillis());
        // a credit never takes the arrival time below now: half refilled, then all of it credited back, is empty, not less
        reserve(store, "f", List.of(new Charge(tpm, 1_000)), T0.plusSeconds(600));
        Instant half = T0.plusSeconds(630);
        settle(store, "f", List.of(new Charge(tpm, 0)), half);
        assertThat(usedOf(store, tpm, half)).isZero();
        assertThat(reserve(store, "g", List.of(new Charge(tpm, 1_000)), half)).isInstanceOf(Granted.class);
        assertThat(reserve(store, "h", List.of(new Charge(tpm, 1)), half)).isInstanceOf(Refused.class);
    }

    // --- expiry

    @Test
    void reservationsStopCountingWhenTheirTtlPasses() throws Exception {
        Counter budget = spend("spend:ns/budget/b:2026-12", 100);
        Counter inFlight = concurrent("conc:ns/key/dev", 1);
        Duration ttl = Duration.ofSeconds(10);
        assertThat(store.reserve("a", List.of(new Charge(budget, 100), new Charge(inFlight, 1)), ttl, T0)
                .toCompletableFuture().get(10, TimeUnit.SECONDS)).isInstanceOf(Granted.class);

        Instant justBefore = T0.plus(ttl).minusMillis(1);
        assertThat(used(replica, justBefore, budget, inFlight)).containsExactly(Map.entry(budget.key(), 100L), Map.entry(inFlight.key(), 1L));
        assertThat(reserve(replica, "b", List.of(new Charge(budget, 1)), justBefore)).isEqualTo(new Refused(budget, 100, null));
        assertThat(reserve(replica, "b", List.of(new Charge(inFlight, 1)), justBefore)).isEqualTo(new Refused(inFlight, 1, null));

        Instant expired = T0.plus(ttl);
        assertThat(used(replica, expired, budget, inFlight)).containsExactly(Map.entry(budget.key(), 0L), Map.entry(inFlight.key(), 0L));
        assertThat(reserve(replica, "c", List.of(new Charge(budget, 100), new Charge(inFlight, 1)), expired)).isInstanceOf(Granted.class);
        // the purge took the expired amount out of the running total, and only it
        assertThat(admin.hget(store.keysOf(budget).get(2), "_sum")).isEqualTo("100");
        assertThat(admin.zrange(store.keysOf(budget).get(1), 0, -1)).containsExactly("c");
    }

    // --- settle

    @Test
    void settlingTwiceCountsOnce() throws Exception {
        Counter budget = spend("spend:ns/budget/b:2026-12", 1_000);
        Counter tpm = perMinute("tpm:ns/key/dev", Kind.TOKENS_PER_MINUTE, 10_000);
        reserve(store, "a", List.of(new Charge(budget, 100), new Charge(tpm, 500)), T0);
        List<Charge> actual = List.of(new Charge(budget, 70), new Charge(tpm, 900));
        settle(store, "a", actual, T0);
        settle(replica, "a", actual, T0);
        settle(store, "a", List.of(new Charge(budget, 5_000)), T0.plusSeconds(1));
        assertThat(used(store, budget, tpm)).containsExactly(Map.entry(budget.key(), 70L), Map.entry(tpm.key(), 900L));
    }

    @Test
    void aSettleAfterTheTtlOrOfAnUnknownIdAddsItsActualAmountOnce() throws Exception {
        Counter budget = spend("spend:ns/budget/b:2026-12", 1_000);
        Duration ttl = Duration.ofSeconds(1);
        store.reserve("late", List.of(new Charge(budget, 100)), ttl, T0).toCompletableFuture().get(10, TimeUnit.SECONDS);
        Instant after = T0.plusSeconds(2);
        assertThat(usedOf(store, budget, after)).isZero();
        settle(store, "late", List.of(new Charge(budget, 70)), after);
        settle(replica, "late", List.of(new Charge(budget, 70)), after);
        assertThat(usedOf(store, budget, after)).isEqualTo(70);

        settle(replica, "never-reserved", List.of(new Charge(budget, 30)), after);
        settle(store, "never-reserved", List.of(new Charge(budget, 30)), after);
        assertThat(usedOf(store, budget, after)).isEqualTo(100);
        // the settled id is remembered for at least the settled memory
        assertThat(admin.pttl(store.recordKey("never-reserved"))).isGreaterThan(Duration.ofMinutes(9).toMillis());
    }

    @Test
    void aCounterMissingFromTheActualsSettlesAtZeroAndConcurrencyIsAlwaysReleased() throws Exception {
        Counter budget = spend("spend:ns/budget/b:2026-12", 1_000);
        Counter inFlight = concurrent("conc:ns/key/dev", 2);
        List<Charge> charges = List.of(new Charge(budget, 100), new Charge(inFlight, 1));
        assertThat(reserve(store, "a", charges, T0)).isInstanceOf(Granted.class);
        assertThat(reserve(replica, "b", charges, T0)).isInstanceOf(Granted.class);
        assertThat(reserve(store, "c", charges, T0)).isEqualTo(new Refused(inFlight, 2, null));

        settle(replica, "a", List.of(), T0);    // nothing used, nothing named: all of it released
        assertThat(used(store, budget, inFlight)).containsExactly(Map.entry(budget.key(), 100L), Map.entry(inFlight.key(), 1L));
        assertThat(reserve(store, "c", charges, T0)).isInstanceOf(Granted.class);

        settle(store, "b", List.of(new Charge(budget, 40)), T0);    // the concurrency counter not named: released anyway
        assertThat(used(store, budget, inFlight)).containsExactly(Map.entry(budget.key(), 140L), Map.entry(inFlight.key(), 1L));
    }

    @Test
    void aReserveAskedAgainIsGrantedWithoutChargingTwiceAndASettledIdIsNotReservedAgain() throws Exception {
        Counter budget = spend("spend:ns/budget/b:2026-12", 1_000);
        assertThat(reserve(store, "a", List.of(new Charge(budget, 100)), T0)).isEqualTo(new Granted("a", Map.of(budget.key(), 900L)));
        assertThat(reserve(replica, "a", List.of(new Charge(budget, 100)), T0)).isEqualTo(new Granted("a", Map.of(budget.key(), 900L)));
        settle(store, "a", List.of(new Charge(budget, 100)), T0);
        assertThatThrownBy(() -> reserve(store, "a", List.of(new Charge(budget, 100)), T0))
                .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("settled already");
        assertThat(usedOf(store, budget)).isEqualTo(100);
    }

    // --- Redis's own

    @Test
    void everyKeyIsUnderTheHashTagAndHasATtl() throws Exception {
        Counter budget = spend("spend:ns/budget/b:2026-12", 1_000);
        Counter rpm = perMinute("rpm:ns/key/dev", Kind.REQUESTS_PER_MINUTE, 100);
        Counter tpm = perMinute("tpm:ns/key/dev", Kind.TOKENS_PER_MINUTE, 10_000);
        Counter inFlight = concurrent("conc:ns/key/dev", 10);
        List<Charge> all = List.of(new Charge(budget, 10), new Charge(rpm, 1), new Charge(tpm, 100), new Charge(inFlight, 1));
        reserve(store, "a", all, T0);
        reserve(store, "b", all, T0);
        settle(store, "a", all, T0);

        List<String> keys = admin.keys("*");
        Set<String> declared = new java.util.HashSet<>();
        for (Charge c : all) {
            declared.addAll(store.keysOf(c.counter()));
        }
        declared.add(store.recordKey("a"));
        declared.add(store.recordKey("b"));
        assertThat(Set.copyOf(keys)).isEqualTo(declared);
        for (String key : keys) {
            assertThat(key).startsWith("{finops}:");
            assertThat(admin.pttl(key)).as("TTL of %s", key).isPositive();
        }
        assertThat(keys.stream().map(SlotHash::getSlot).distinct()).as("one Cluster slot").hasSize(1);
    }

    @Test
    void anotherTagKeepsItsCountersApart() throws Exception {
        Counter budget = spend("spend:ns/budget/b:2026-12", 100);
        try (RedisCounterStore teamA = new RedisCounterStore(server.url(), OPTIONS.withKeyTag("finops:team-a"))) {
            reserve(teamA, "a", List.of(new Charge(budget, 100)), T0);
            assertThat(usedOf(teamA, budget)).isEqualTo(100);
            assertThat(usedOf(store, budget)).isZero();
            assertThat(admin.keys("*")).allMatch(k -> k.startsWith("{finops:team-a}:"));
        }
    }

    @Test
    void aFlushedScriptCacheIsRefilledByTheNextCall() throws Exception {
        Counter budget = spend("spend:ns/budget/b:2026-12", 100);
        reserve(store, "a", List.of(new Charge(budget, 10)), T0);
        assertThat(admin.scriptExists(RedisCounterStore.SCRIPT_SHA)).containsExactly(true);
        admin.scriptFlush();
        assertThat(reserve(store, "b", List.of(new Charge(budget, 10)), T0)).isInstanceOf(Granted.class);
        assertThat(admin.scriptExists(RedisCounterStore.SCRIPT_SHA)).containsExactly(true);
    }

    @Test
    void badArgumentsFailTheCallNotTheStore() throws Exception {
        Counter budget = spend("spend:ns/budget/b:2026-12", 100);
        assertThat(store.reserve("a", List.of(new Charge(budget, -1)), TTL, T0).toCompletableFuture())
                .failsWithin(Duration.ofSeconds(1)).withThrowableThat().withCauseInstanceOf(IllegalArgumentException.class);
        Counter noWindow = new Counter("spend:x", Kind.SPEND, 100, null);
        assertThat(store.reserve("a", List.of(new Charge(noWindow, 1)), TTL, T0).toCompletableFuture())
                .failsWithin(Duration.ofSeconds(1)).withThrowableThat().withCauseInstanceOf(IllegalArgumentException.class);
        assertThat(store.settle("", List.of(), T0).toCompletableFuture())
                .failsWithin(Duration.ofSeconds(1)).withThrowableThat().withCauseInstanceOf(IllegalArgumentException.class);
        assertThat(reserve(store, "a", List.of(new Charge(budget, 1)), T0)).isInstanceOf(Granted.class);
        assertThat(store.mode()).isEqualTo("redis");
    }

    // --- helpers

    static Counter spend(String key, long limit) {
        return new Counter(key, Kind.SPEND, limit, Duration.ofDays(40));
    }

    static Counter perMinute(String key, Kind kind, long limit) {
        return new Counter(key, kind, limit, MINUTE);
    }

    static Counter concurrent(String key, long limit) {
        return new Counter(key, Kind.CONCURRENT, limit, null);
    }

    static Decision reserve(CounterStore store, String id, List<Charge> charges, Instant now) {
        return await(store.reserve(id, charges, TTL, now));
    }

    static void settle(CounterStore store, String id, List<Charge> actual, Instant now) {
        await(store.settle(id, actual, now));
    }

    static Map<String, Long> used(CounterStore store, Counter... counters) {
        return used(store, T0, counters);
    }

    static Map<String, Long> used(CounterStore store, Instant now, Counter... counters) {
        return await(store.used(List.of(counters), now));
    }

    static long usedOf(CounterStore store, Counter counter) {
        return usedOf(store, counter, T0);
    }

    static long usedOf(CounterStore store, Counter counter, Instant now) {
        return used(store, now, counter).get(counter.key());
    }

    static <T> T await(java.util.concurrent.CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError(e);
        }
    }
}

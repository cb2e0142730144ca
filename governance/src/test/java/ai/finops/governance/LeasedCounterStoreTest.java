package ai.finops.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.governance.CounterStore.Charge;
import ai.finops.governance.CounterStore.Counter;
import ai.finops.governance.CounterStore.Counter.Kind;
import ai.finops.governance.CounterStore.Decision;
import ai.finops.governance.CounterStore.Granted;
import ai.finops.governance.CounterStore.Refused;
import ai.finops.testkit.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The lease rules of {@link LeasedCounterStore} against a real {@code redis-server}: slices taken, used without
 * Redis, returned; a dead replica's slice lapses; near a limit every request is exact; two replicas never take a
 * counter past its limit; settled spend reaches Redis, once, through an outage. And what it costs Redis, counted
 * ({@code INFO commandstats}), with and without leases. What the counters mean is {@link LeasedCounterStoreContractTest}'s.
 */
class LeasedCounterStoreTest {
    static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
    static final Duration TTL = Duration.ofMinutes(10);
    static final Duration KEEP = Duration.ofDays(40);
    static final RedisCounterStore.Options OPTIONS = RedisCounterStore.Options.defaults().withTimeout(Duration.ofSeconds(5));

    static RedisServer server;
    static RedisClient adminClient;
    static StatefulRedisConnection<String, String> adminConnection;
    static RedisCommands<String, String> admin;

    final List<AutoCloseable> open = new ArrayList<>();
    int ids;

    @BeforeEach
    void startRedis() {
        if (server == null) {
            server = RedisServer.start();
            adminClient = RedisClient.create(server.url());
            adminConnection = adminClient.connect();
            admin = adminConnection.sync();
        }
        admin.flushall();
    }

    @AfterEach
    void closeStores() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
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

    LeasedCounterStore leased(LeasedCounterStore.Options options) {
        return leased(options, OPTIONS);
    }

    LeasedCounterStore leased(LeasedCounterStore.Options options, RedisCounterStore.Options redis) {
        LeasedCounterStore s = new LeasedCounterStore(new RedisCounterStore(server.url(), redis), options, CounterStore.DEFAULT_SETTLED_MEMORY);
        open.add(s);
        return s;
    }

    LeasedCounterStore leased() {
        return leased(LeasedCounterStore.Options.defaults());
    }

    RedisCounterStore exact() {
        RedisCounterStore s = new RedisCounterStore(server.url(), OPTIONS);
        open.add(s);
        return s;
    }

    static Counter spend(String key, long limit) {
        return new Counter(key, Kind.SPEND, limit, KEEP);
    }

    Decision reserve(CounterStore store, Instant now, Charge... charges) {
        return join(store.reserve("r" + (++ids), List.of(charges), TTL, now));
    }

    static <T> T join(java.util.concurrent.CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The hold of every replica's slice on {@code counter} in Redis ({@code _lsum}), 0 without one. */
    long leasedInRedis(Counter counter) {
        String v = admin.hget("{finops}:c:" + counter.key() + ":sum", "_lsum");
        return v == null ? 0 : Long.parseLong(v);
    }

    /** Grants requests until one is on a slice (the first ones go to Redis while the slice is asked for). */
    void untilLeased(LeasedCounterStore store, Instant now, Charge... charges) {
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            long before = store.localGrants();
            assertThat(reserve(store, now, charges)).isInstanceOf(Granted.class);
            return store.localGrants() > before;
        });
    }

    @Test
    void aSliceIsTakenUsedWithoutRedisAndMovesSpendToRedis() {
        LeasedCounterStore store = leased();
        Counter budget = spend("budget", 1_000_000);      // a slice of 10,000: a hundredth
        untilLeased(store, T0, new Charge(budget, 100));
        assertThat(leasedInRedis(budget)).isEqualTo(10_000);
        long exactBefore = store.exactReserves();
        for (int i = 0; i < 20; i++) {
            String id = "s" + i;
            assertThat(join(store.reserve(id, List.of(new Charge(budget, 100)), TTL, T0))).isInstanceOf(Granted.class);
            join(store.settle(id, List.of(new Charge(budget, 40)), T0));
        }
        assertThat(store.exactReserves()).as("all on the slice").isEqualTo(exactBefore);
        RedisCounterStore reader = exact();
        long exactlyHeld = store.exactReserves() * 100;     // the ones reserved in Redis, never settled here
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(join(reader.used(List.of(budget), T0)).get(budget.key()))
                .as("the settled spend moved to Redis; the slice's room is not spend").isEqualTo(exactlyHeld + 20 * 40));
        assertThat(leasedInRedis(budget)).as("what was moved left the slice").isEqualTo(10_000 - 20 * 40);
    }

    @Test
    void anIdleSliceAndEverySliceAtCloseGoBack() {
        LeasedCounterStore store = leased(LeasedCounterStore.Options.defaults().withIdle(Duration.ofMillis(300)));
        Counter budget = spend("budget", 1_000_000);
        Counter flight = new Counter("flight", Kind.CONCURRENT, 10_000, null);
        untilLeased(store, Instant.now(), new Charge(budget, 100), new Charge(flight, 1));
        assertThat(leasedInRedis(budget)).isPositive();
        assertThat(leasedInRedis(flight)).isPositive();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(leasedInRedis(flight)).as("slots held by requests stay, the rest goes back").isEqualTo(store.localGrants());
            assertThat(leasedInRedis(budget)).isEqualTo(store.localGrants() * 100);
        });

        LeasedCounterStore closing = leased();
        Counter other = spend("other", 1_000_000);
        untilLeased(closing, T0, new Charge(other, 100));
        assertThat(leasedInRedis(other)).isPositive();
        String settled = "settled-at-close";
        assertThat(join(closing.reserve(settled, List.of(new Charge(other, 100)), TTL, T0))).isInstanceOf(Granted.class);
        long granted = closing.localGrants();
        join(closing.settle(settled, List.of(new Charge(other, 7)), T0));
        closing.close();
        assertThat(leasedInRedis(other)).as("only the requests still in flight hold their part").isEqualTo((granted - 1) * 100);
        assertThat(join(exact().used(List.of(other), T0)).get(other.key())).as("the spend settled before closing is in Redis")
                .isEqualTo(closing.exactReserves() * 100 + 7);
    }

    @Test
    void anIdReservedInRedisIsNeverGrantedAgainOnASlice() {
        LeasedCounterStore store = leased();
        Counter budget = spend("budget", 1_000_000);     // a slice of 10,000
        untilLeased(store, T0, new Charge(budget, 100));
        long local = store.localGrants();
        assertThat(join(store.reserve("big", List.of(new Charge(budget, 20_000)), TTL, T0))).as("more than a slice holds: in Redis")
                .isInstanceOf(Granted.class);
        RedisCounterStore reader = exact();
        long held = join(reader.used(List.of(budget), T0)).get(budget.key());
        assertThat(join(store.reserve("big", List.of(new Charge(budget, 1)), TTL, T0))).as("a retry: Redis answers, nothing charged")
                .isInstanceOf(Granted.class);
        assertThat(store.localGrants()).isEqualTo(local);
        assertThat(join(reader.used(List.of(budget), T0)).get(budget.key())).isEqualTo(held);
        join(store.settle("big", List.of(new Charge(budget, 15_000)), T0));
        assertThat(store.reserve("big", List.of(new Charge(budget, 1)), TTL, T0).toCompletableFuture())
                .as("settled: reserved once").failsWithin(Duration.ofSeconds(10))
                .withThrowableOfType(java.util.concurrent.ExecutionException.class).withCauseInstanceOf(IllegalStateException.class);
        assertThat(store.localGrants()).isEqualTo(local);
    }

    @Test
    void aRequestWithACounterTooSmallToLeaseTakesNoSliceOfTheOthers() {
        LeasedCounterStore store = leased();
        Counter budget = spend("budget", 1_000_000);
        Counter tokens = new Counter("tokens", Kind.TOKENS_PER_MINUTE, 100_000, Duration.ofMinutes(1));    // a slice of 1,000: not 4 charges
        for (int i = 0; i < 50; i++) {
            assertThat(reserve(store, T0, new Charge(budget, 100), new Charge(tokens, 500))).isInstanceOf(Granted.class);
        }
        assertThat(store.leaseCalls()).as("no slice asked for").isZero();
        assertThat(store.localGrants()).isZero();
        assertThat(leasedInRedis(budget)).isZero();
    }

    @Test
    void aSliceOfAReplicaThatDiedLapsesAfterItsTtl() {
        LeasedCounterStore dead = leased(LeasedCounterStore.Options.defaults().withIdle(Duration.ofMinutes(10)));
        Counter budget = spend("budget", 1_000_000);
        untilLeased(dead, T0, new Charge(budget, 100));
        long held = leasedInRedis(budget);
        assertThat(held).isPositive();
        // another replica, later: nothing renewed the slice (its replica is gone), so at its expiry it counts no more
        RedisCounterStore other = exact();
        Instant before = T0.plus(LeasedCounterStore.Options.defaults().leaseTtl()).minusSeconds(1);
        Granted stillHeld = (Granted) join(other.reserve("x1", List.of(new Charge(budget, 1)), TTL, before));
        Instant after = T0.plus(LeasedCounterStore.Options.defaults().leaseTtl()).plusSeconds(1);
        Granted lapsed = (Granted) join(other.reserve("x2", List.of(new Charge(budget, 1)), TTL, after));
        assertThat(lapsed.remaining().get(budget.key()) - stillHeld.remaining().get(budget.key()))
                .as("the slice's room is back (the requests granted on it with it), less the new reservation").isEqualTo(held - 1);
    }

    @Test
    void nearTheLimitEveryRequestIsExactAndRefusalsComeFromRedis() {
        LeasedCounterStore store = leased();
        Counter budget = spend("budget", 100_000);        // slice 1,000; no slice once less than 4,000 is left
        long granted = 0;
        List<Decision> decisions = new ArrayList<>();
        for (int i = 0; i < 1_200; i++) {
            Decision d = reserve(store, T0, new Charge(budget, 100));
            decisions.add(d);
            if (d instanceof Granted) {
                granted++;
            }
        }
        assertThat(granted).as("exactly the limit").isEqualTo(1_000);
        assertThat(store.localGrants()).as("most of it on slices, at headroom").isGreaterThan(800);
        assertThat(store.exactReserves()).as("the last 4,000 exact, one by one, and every refusal").isGreaterThanOrEqualTo(40 + 200);
        assertThat(decisions.stream().filter(d -> d instanceof Refused).toList()).hasSize(200).allSatisfy(d -> {
            Refused r = (Refused) d;
            assertThat(r.counter()).isEqualTo(budget);
            assertThat(r.retryAfter()).isNull();
            assertThat(r.used() + 100).as("refused by Redis, without room").isGreaterThan(100_000);
        });
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(leasedInRedis(budget))
                .as("what is left of the slices went back: the rest is reserved by the requests granted on them").isEqualTo(store.localGrants() * 100));
    }

    @Test
    void twoReplicasOnOneRedisNeverTakeACounterPastItsLimit() throws Exception {
        LeasedCounterStore a = leased();
        LeasedCounterStore b = leased();
        Counter budget = spend("budget", 200_000);
        // a rate over a day: the slices' upkeep runs at the callers' clock plus the time since (seconds past T0), and
        // a day's bucket drains by less than a request meanwhile, so what it counted can be compared with what was granted
        Counter rpm = new Counter("rpm", Kind.REQUESTS_PER_MINUTE, 100_000, Duration.ofDays(1));
        AtomicLong granted = new AtomicLong();
        AtomicLong spent = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int thread = t;
            done.add(pool.submit(() -> {
                LeasedCounterStore mine = thread % 2 == 0 ? a : b;
                for (int i = 0; i < 500; i++) {
                    String id = thread + "-" + i;
                    Decision d = join(mine.reserve(id, List.of(new Charge(rpm, 1), new Charge(budget, 100)), TTL, T0));
                    if (d instanceof Granted) {
                        granted.incrementAndGet();
                        long actual = i % 3 == 0 ? 150 : 60;     // some spend more than they reserved
                        spent.addAndGet(actual);
                        join(mine.settle(id, List.of(new Charge(budget, actual)), T0));
                    } else {
                        assertThat(((Refused) d).counter()).isEqualTo(budget);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        RedisCounterStore reader = exact();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(join(reader.used(List.of(budget), T0)).get(budget.key())).isEqualTo(spent.get()));
        assertThat(a.localGrants() + b.localGrants()).as("on slices mostly").isGreaterThan(granted.get() / 2);
        // each admitted request reserved 100 before it spent; nothing is admitted past the limit but what settles added after
        assertThat(spent.get()).as("within the limit, plus what requests in flight (8 at most) spent beyond their reservation")
                .isLessThanOrEqualTo(200_000 + 8 * 50);
        assertThat(spent.get()).as("demand was more than the budget: all of it used, less a request's worth per replica")
                .isGreaterThan(200_000 - 2 * 150);
        assertThat(join(reader.used(List.of(rpm), T0)).get(rpm.key()))
                .as("the minute counted every request granted, and no more than a slice a replica still holds")
                .isBetween(granted.get() - 1, granted.get() + 2 * 256);
    }

    @Test
    void settlesHeldWhileRedisIsAwayReachItOnceWhenItReturns() {
        LeasedCounterStore store = leased(LeasedCounterStore.Options.defaults(), OPTIONS.withTimeout(Duration.ofMillis(200)));
        Counter budget = spend("budget", 1_000_000);
        untilLeased(store, T0, new Charge(budget, 100));
        RedisCounterStore reader = exact();
        long exactlyHeld = store.exactReserves() * 100;
        long callsBefore = store.leaseCalls();
        server.freeze();
        try {
            for (int i = 0; i < 5; i++) {
                assertThat(join(store.reserve("o" + i, List.of(new Charge(budget, 100)), TTL, T0))).isInstanceOf(Granted.class);
                join(store.settle("o" + i, List.of(new Charge(budget, 30)), T0));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> store.leaseCalls() >= callsBefore + 2);    // sent, failed, sent again
        } finally {
            server.thaw();
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(join(reader.used(List.of(budget), T0)).get(budget.key()))
                .isEqualTo(exactlyHeld + 5 * 30));
        // one more settled after the outage: once it is in, every call before it was answered, the one sent twice counted once
        assertThat(join(store.reserve("later", List.of(new Charge(budget, 100)), TTL, T0))).isInstanceOf(Granted.class);
        join(store.settle("later", List.of(new Charge(budget, 30)), T0));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(join(reader.used(List.of(budget), T0)).get(budget.key()))
                .as("counted once").isEqualTo(exactlyHeld + 6 * 30));
    }

    // --- what it costs Redis

    /** The bench's governed key: a budget, requests per minute and concurrent requests, all far from their limits. */
    record Cost(long requests, long commands, long scripts) {
        @Override
        public String toString() {
            return String.format("%d requests: %d Redis commands (%.2f a request), %d script calls (%.3f a request)",
                    requests, commands, (double) commands / requests, scripts, (double) scripts / requests);
        }
    }

    Cost cost(CounterStore store, int requests) {
        Counter budget = spend("spend:bench", 1_000_000_000_000L);
        Counter rpm = new Counter("rpm:bench", Kind.REQUESTS_PER_MINUTE, 100_000_000, Duration.ofMinutes(1));
        Counter flight = new Counter("concurrent:bench", Kind.CONCURRENT, 100_000, null);
        RedisCounterStore reader = exact();
        AtomicLong reads = new AtomicLong();
        for (int i = 0; i < 200; i++) {     // warm: connected, script loaded, slices taken
            request(store, "w" + i, budget, rpm, flight);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> join(reader.used(List.of(budget), Instant.now())).get(budget.key()) == 200 * 4_500L);
        Map<String, Long> before = commandStats();
        for (int i = 0; i < requests; i++) {
            request(store, "q" + i, budget, rpm, flight);
        }
        // until the spend is all in Redis; each read is one script call running one HMGET, taken off below
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            reads.incrementAndGet();
            return join(reader.used(List.of(budget), Instant.now())).get(budget.key()) == (200L + requests) * 4_500L;
        });
        Map<String, Long> after = commandStats();
        long commands = 0;
        for (Map.Entry<String, Long> e : after.entrySet()) {
            commands += e.getValue() - before.getOrDefault(e.getKey(), 0L);
        }
        long scripts = after.getOrDefault("evalsha", 0L) - before.getOrDefault("evalsha", 0L)
                + after.getOrDefault("eval", 0L) - before.getOrDefault("eval", 0L);
        return new Cost(requests, commands - 2 * reads.get(), scripts - reads.get());
    }

    static void request(CounterStore store, String id, Counter budget, Counter rpm, Counter flight) {
        Instant now = Instant.now();
        Decision d = join(store.reserve(id, List.of(new Charge(rpm, 1), new Charge(flight, 1), new Charge(budget, 5_670)), TTL, now));
        assertThat(d).isInstanceOf(Granted.class);
        join(store.settle(id, List.of(new Charge(flight, 0), new Charge(budget, 4_500)), now));
    }

    /** Calls per command since the server started ({@code INFO commandstats}), scripts' own commands included. */
    static Map<String, Long> commandStats() {
        Map<String, Long> out = new java.util.HashMap<>();
        for (String line : admin.info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_")) {
                String name = line.substring("cmdstat_".length(), line.indexOf(':'));
                String calls = line.substring(line.indexOf("calls=") + 6, line.indexOf(',', line.indexOf("calls=")));
                out.put(name, Long.parseLong(calls));
            }
        }
        out.remove("info");
        return out;
    }

    @Test
    void atHeadroomARequestCostsRedisFarLessThanOneRoundTrip() {
        int n = 5_000;
        Cost exact = cost(exact(), n);
        admin.flushall();
        Cost leased = cost(leased(), n);
        System.out.println("[cost] without leases: " + exact);
        System.out.println("[cost] with leases:    " + leased);
        assertThat(exact.scripts()).as("without leases: a reserve and a settle each (settles unbatched: no event loop here)")
                .isGreaterThanOrEqualTo(2L * n);
        assertThat((double) leased.scripts() / n).as("script calls a request, with leases").isLessThan(0.05);
        assertThat((double) leased.commands() / n).as("Redis commands a request, with leases").isLessThan(1.0);
    }
}

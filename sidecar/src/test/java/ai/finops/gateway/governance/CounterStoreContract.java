package ai.finops.gateway.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.gateway.governance.CounterStore.Charge;
import ai.finops.gateway.governance.CounterStore.Counter;
import ai.finops.gateway.governance.CounterStore.Counter.Kind;
import ai.finops.gateway.governance.CounterStore.Decision;
import ai.finops.gateway.governance.CounterStore.Granted;
import ai.finops.gateway.governance.CounterStore.Refused;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link CounterStore} does, as {@link EmbeddedCounterStore}'s javadoc states it: a store's
 * test extends this class and gives {@link #newStore()}. Time is the {@code now} each call is given, so
 * the tests move it themselves; keys and ids are unique per test, so a store that outlives one test
 * (a shared Redis) needs no cleaning.
 */
public abstract class CounterStoreContract {
    protected static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
    protected static final Duration TTL = Duration.ofMinutes(10);
    protected static final Duration MINUTE = Duration.ofMinutes(1);
    private static final Duration KEEP = Duration.ofDays(40);

    /** A new store; closed after each test. */
    protected abstract CounterStore newStore();

    protected CounterStore store;
    private final String unique = UUID.randomUUID().toString();

    @BeforeEach
    void openStore() {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    // ---- spend

    @Test
    void spendIsGrantedUpToTheLimitAndNotOneMicroDollarFurther() {
        Counter budget = spend("budget", 1_000);
        assertThat(reserve("a", T0, charge(budget, 600))).isEqualTo(new Granted(id("a"), Map.of(budget.key(), 400L)));
        assertThat(reserve("b", T0, charge(budget, 400))).isEqualTo(new Granted(id("b"), Map.of(budget.key(), 0L)));
        assertThat(reserve("c", T0, charge(budget, 1))).isEqualTo(new Refused(budget, 1_000, null));
        assertThat(used(budget, T0)).isEqualTo(1_000);
    }

    @Test
    void aChargeNoCounterCanHoldIsRefusedWithoutOverflow() {
        Counter budget = spend("budget", 1_000);
        reserve("a", T0, charge(budget, 10));
        assertThat(reserve("b", T0, charge(budget, Long.MAX_VALUE))).isEqualTo(new Refused(budget, 10, null));
        Counter tokens = tpm("tokens", 1_000);
        assertThat(reserve("c", T0, charge(tokens, Long.MAX_VALUE))).isEqualTo(new Refused(tokens, 0, null));
        Counter flight = concurrent("flight", 5);
        assertThat(reserve("d", T0, charge(flight, Long.MAX_VALUE))).isEqualTo(new Refused(flight, 0, null));
    }

    @Test
    void aRefusalAddsNothingToTheCountersThatHadRoom() {
        Counter wide = spend("wide", 100);
        Counter narrow = spend("narrow", 10);
        reserve("first", T0, charge(narrow, 5));
        Decision d = reserve("second", T0, charge(wide, 50), charge(narrow, 10), charge(tpm("tokens", 1_000), 10),
                charge(concurrent("flight", 1), 1));
        assertThat(d).isEqualTo(new Refused(narrow, 5, null));
        assertThat(store.used(List.of(wide, narrow, tpm("tokens", 1_000), concurrent("flight", 1)), T0).toCompletableFuture().join())
                .isEqualTo(Map.of(wide.key(), 0L, narrow.key(), 5L, key("tokens"), 0L, key("flight"), 0L));
        assertThat(reserve("third", T0, charge(wide, 50), charge(narrow, 5))).isInstanceOf(Granted.class);
        assertThat(used(wide, T0)).isEqualTo(50);
        assertThat(used(narrow, T0)).isEqualTo(10);
    }

    @Test
    void aRefusalNamesTheFirstCounterWithoutRoomInTheOrderCharged() {
        Counter a = spend("a", 10);
        Counter b = spend("b", 10);
        assertThat(reserve("x", T0, charge(a, 11), charge(b, 11))).isEqualTo(new Refused(a, 0, null));
        assertThat(reserve("y", T0, charge(b, 11), charge(a, 11))).isEqualTo(new Refused(b, 0, null));
    }

    @Test
    void chargesOfOneCallOnTheSameKeyAddUp() {
        Counter budget = spend("budget", 100);
        assertThat(reserve("x", T0, charge(budget, 60), charge(budget, 60))).isEqualTo(new Refused(budget, 0, null));
        assertThat(reserve("y", T0, charge(budget, 60), charge(budget, 40))).isEqualTo(new Granted(id("y"), Map.of(budget.key(), 0L)));
    }

    @Test
    void aReservationCountsUntilNowPlusTtlAndNotFromThatInstantOn() {
        Counter budget = spend("budget", 1_000);
        Counter flight = concurrent("flight", 1);
        reserve("a", T0, charge(budget, 300), charge(flight, 1));
        Instant expiry = T0.plus(TTL);
        assertThat(used(budget, expiry.minus(1, ChronoUnit.MICROS))).isEqualTo(300);
        assertThat(used(flight, expiry.minus(1, ChronoUnit.MICROS))).isEqualTo(1);
        assertThat(used(budget, expiry)).isZero();
        assertThat(used(flight, expiry)).isZero();
        assertThat(reserve("b", expiry, charge(budget, 1_000), charge(flight, 1))).isInstanceOf(Granted.class);
    }

    @Test
    void settleReplacesWhatWasReservedByWhatWasSpent() {
        Counter budget = spend("budget", 1_000);
        reserve("a", T0, charge(budget, 500));
        reserve("b", T0, charge(budget, 200));
        settle("a", T0.plusSeconds(1), charge(budget, 120));
        assertThat(used(budget, T0.plusSeconds(1))).isEqualTo(320);
        assertThat(used(budget, T0.plus(TTL).plusSeconds(1))).as("b expired, a's spend stays").isEqualTo(120);
    }

    @Test
    void settlingTwiceCountsOnce() {
        Counter budget = spend("budget", 1_000);
        reserve("a", T0, charge(budget, 500));
        settle("a", T0.plusSeconds(1), charge(budget, 100));
        settle("a", T0.plusSeconds(2), charge(budget, 100));
        settle("a", T0.plusSeconds(3), charge(budget, 300));
        assertThat(used(budget, T0.plusSeconds(3))).isEqualTo(100);
    }

    @Test
    void aLateSettleAfterExpiryStillCountsTheSpendOnce() {
        Counter budget = spend("budget", 1_000);
        reserve("a", T0, charge(budget, 500));
        Instant late = T0.plus(TTL).plusSeconds(30);
        assertThat(used(budget, late)).isZero();
        settle("a", late, charge(budget, 700));
        settle("a", late.plusSeconds(1), charge(budget, 700));
        assertThat(used(budget, late.plusSeconds(1))).as("money spent counts, even past the limit's reservation").isEqualTo(700);
    }

    @Test
    void settlingAnIdTheStoreNeverSawCountsTheSpendOnce() {
        Counter budget = spend("budget", 1_000);
        settle("ghost", T0, charge(budget, 40));
        settle("ghost", T0.plusSeconds(5), charge(budget, 40));
        assertThat(used(budget, T0.plusSeconds(5))).isEqualTo(40);
    }

    @Test
    void aCounterMissingFromTheActualAmountsSettlesAtZero() {
        Counter a = spend("a", 1_000);
        Counter b = spend("b", 1_000);
        Counter tokens = tpm("tokens", 1_000);
        reserve("r", T0, charge(a, 100), charge(b, 100), charge(tokens, 400));
        settle("r", T0, charge(a, 30));
        assertThat(used(a, T0)).isEqualTo(30);
        assertThat(used(b, T0)).isZero();
        assertThat(used(tokens, T0)).isZero();
    }

    @Test
    void reservingALiveIdAgainChargesNothingMore() {
        Counter budget = spend("budget", 1_000);
        assertThat(reserve("a", T0, charge(budget, 300))).isEqualTo(new Granted(id("a"), Map.of(budget.key(), 700L)));
        assertThat(reserve("a", T0, charge(budget, 300))).isEqualTo(new Granted(id("a"), Map.of(budget.key(), 700L)));
        assertThat(used(budget, T0)).isEqualTo(300);
    }

    @Test
    void reservingASettledIdFails() {
        Counter budget = spend("budget", 1_000);
        reserve("a", T0, charge(budget, 300));
        settle("a", T0, charge(budget, 10));
        CompletionStage<Decision> again = store.reserve(id("a"), List.of(charge(budget, 300)), TTL, T0);
        assertThatThrownBy(() -> again.toCompletableFuture().get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(IllegalStateException.class);
        assertThat(used(budget, T0)).isEqualTo(10);
    }

    @Test
    void countersNeverChargedHaveUsedNothing() {
        assertThat(store.used(List.of(spend("s", 1), rpm("r", 1), tpm("t", 1), concurrent("c", 1)), T0).toCompletableFuture().join())
                .isEqualTo(Map.of(key("s"), 0L, key("r"), 0L, key("t"), 0L, key("c"), 0L));
    }

    // ---- rates (GCRA)

    @Test
    void aBurstOfNPlusKAdmitsExactlyN() {
        Counter requests = rpm("requests", 10);
        int granted = 0;
        for (int i = 0; i < 15; i++) {
            Decision d = reserve("r" + i, T0, charge(requests, 1));
            if (d instanceof Granted g) {
                granted++;
                assertThat(g.remaining()).containsEntry(requests.key(), (long) (10 - granted));
            }
        }
        assertThat(granted).isEqualTo(10);
        assertThat(used(requests, T0)).isEqualTo(10);
    }

    @Test
    void retryAfterIsTheFirstInstantTheChargeFits() {
        Counter requests = rpm("requests", 10);
        for (int i = 0; i < 10; i++) {
            reserve("r" + i, T0, charge(requests, 1));
        }
        Duration emission = Duration.ofSeconds(6);
        assertThat(reserve("late", T0, charge(requests, 1))).isEqualTo(new Refused(requests, 10, emission));
        Instant justBefore = T0.plus(emission).minus(1, ChronoUnit.MICROS);
        assertThat(reserve("before", justBefore, charge(requests, 1))).isEqualTo(new Refused(requests, 10, Duration.of(1, ChronoUnit.MICROS)));
        assertThat(reserve("at", T0.plus(emission), charge(requests, 1))).isInstanceOf(Granted.class);
        assertThat(reserve("after", T0.plus(emission), charge(requests, 1))).isEqualTo(new Refused(requests, 10, emission));
    }

    @Test
    void anEmissionIntervalThatIsNotWholeMicrosecondsIsExact() {
        Counter requests = rpm("requests", 7);
        for (int i = 0; i < 7; i++) {
            assertThat(reserve("r" + i, T0, charge(requests, 1))).isInstanceOf(Granted.class);
        }
        // 60 s / 7 = 8,571,428.57 µs: the eighth fits from 8,571,429 µs on
        Duration wait = Duration.of(8_571_429, ChronoUnit.MICROS);
        assertThat(reserve("r7", T0, charge(requests, 1))).isEqualTo(new Refused(requests, 7, wait));
        assertThat(reserve("r8", T0.plus(wait).minus(1, ChronoUnit.MICROS), charge(requests, 1))).isInstanceOf(Refused.class);
        assertThat(reserve("r9", T0.plus(wait), charge(requests, 1))).isInstanceOf(Granted.class);
        // seven minutes later the bucket is full again, never fuller
        Instant later = T0.plus(Duration.ofMinutes(7));
        int granted = 0;
        for (int i = 0; i < 10; i++) {
            if (reserve("s" + i, later, charge(requests, 1)) instanceof Granted) {
                granted++;
            }
        }
        assertThat(granted).isEqualTo(7);
    }

    @Test
    void tokensRefillContinuouslyAndRetryAfterCoversTheWholeCharge() {
        Counter tokens = tpm("tokens", 1_000);
        assertThat(reserve("a", T0, charge(tokens, 600))).isEqualTo(new Granted(id("a"), Map.of(tokens.key(), 400L)));
        // 200 tokens short at 1,000 a minute: 12 s
        assertThat(reserve("b", T0, charge(tokens, 600))).isEqualTo(new Refused(tokens, 600, Duration.ofSeconds(12)));
        assertThat(used(tokens, T0.plusSeconds(6))).isEqualTo(500);
        assertThat(reserve("c", T0.plusSeconds(12), charge(tokens, 600))).isEqualTo(new Granted(id("c"), Map.of(tokens.key(), 0L)));
    }

    @Test
    void aChargeLargerThanTheLimitIsRefusedWithNoRetryAfter() {
        Counter tokens = tpm("tokens", 1_000);
        assertThat(reserve("a", T0, charge(tokens, 1_001))).isEqualTo(new Refused(tokens, 0, null));
        assertThat(reserve("b", T0, charge(tokens, 1_000))).isInstanceOf(Granted.class);
    }

    @Test
    void settleCreditsUnusedTokensButNeverMoreThanAFullBucket() {
        Counter tokens = tpm("tokens", 1_000);
        reserve("a", T0, charge(tokens, 800));
        settle("a", T0, charge(tokens, 100));
        assertThat(used(tokens, T0)).isEqualTo(100);
        assertThat(reserve("b", T0, charge(tokens, 900))).isEqualTo(new Granted(id("b"), Map.of(tokens.key(), 0L)));

        Counter other = tpm("other", 1_000);
        reserve("c", T0, charge(other, 100));
        settle("c", T0.plus(MINUTE), charge(other, 0));
        assertThat(used(other, T0.plus(MINUTE))).isZero();
        assertThat(reserve("d", T0.plus(MINUTE), charge(other, 1_001))).isInstanceOf(Refused.class);
        assertThat(reserve("e", T0.plus(MINUTE), charge(other, 1_000))).isInstanceOf(Granted.class);
    }

    @Test
    void settleChargesTokensBeyondTheReservation() {
        Counter tokens = tpm("tokens", 1_000);
        reserve("a", T0, charge(tokens, 100));
        settle("a", T0, charge(tokens, 700));
        assertThat(used(tokens, T0)).isEqualTo(700);
        assertThat(reserve("b", T0, charge(tokens, 301))).isEqualTo(new Refused(tokens, 700, Duration.ofMillis(60)));
    }

    @Test
    void aRateAdmittedStaysAdmittedWhenTheReservationExpires() {
        Counter requests = rpm("requests", 1);
        store.reserve(id("a"), List.of(charge(requests, 1)), Duration.ofSeconds(1), T0).toCompletableFuture().join();
        assertThat(reserve("b", T0.plusSeconds(2), charge(requests, 1))).isEqualTo(new Refused(requests, 1, Duration.ofSeconds(58)));
        settle("a", T0.plusSeconds(3), charge(requests, 0));
        assertThat(used(requests, T0.plusSeconds(3))).as("a late settle does not credit a rate").isEqualTo(1);
    }

    // ---- concurrency

    @Test
    void concurrencyAdmitsUpToTheLimitAndSettleReleases() {
        Counter flight = concurrent("flight", 2);
        assertThat(reserve("a", T0, charge(flight, 1))).isEqualTo(new Granted(id("a"), Map.of(flight.key(), 1L)));
        assertThat(reserve("b", T0, charge(flight, 1))).isEqualTo(new Granted(id("b"), Map.of(flight.key(), 0L)));
        assertThat(reserve("c", T0, charge(flight, 1))).isEqualTo(new Refused(flight, 2, null));
        settle("a", T0, List.of());
        assertThat(used(flight, T0)).isEqualTo(1);
        assertThat(reserve("d", T0, charge(flight, 1))).isInstanceOf(Granted.class);
    }

    @Test
    void anExpiredReservationReleasesItsSlotOnceEvenWhenSettledLate() {
        Counter flight = concurrent("flight", 1);
        store.reserve(id("a"), List.of(charge(flight, 1)), Duration.ofSeconds(1), T0).toCompletableFuture().join();
        assertThat(reserve("b", T0.plusMillis(999), charge(flight, 1))).isInstanceOf(Refused.class);
        assertThat(reserve("c", T0.plusSeconds(1), charge(flight, 1))).isInstanceOf(Granted.class);
        settle("a", T0.plusSeconds(2), List.of(charge(flight, 1)));
        assertThat(used(flight, T0.plusSeconds(2))).isEqualTo(1);
        assertThat(reserve("d", T0.plusSeconds(2), charge(flight, 1))).isEqualTo(new Refused(flight, 1, null));
    }

    // ---- many threads

    @Test
    void manyThreadsOnOneBudgetGetExactlyTheLimit() throws Exception {
        Counter budget = spend("budget", 5_000);
        AtomicLong granted = new AtomicLong();
        hammer(8, 1_000, (thread, i) -> {
            if (reserve(thread + "-" + i, T0, charge(budget, 1)) instanceof Granted) {
                granted.incrementAndGet();
            }
        });
        assertThat(granted.get()).isEqualTo(5_000);
        assertThat(used(budget, T0)).isEqualTo(5_000);
    }

    @Test
    void manyThreadsReservingAndSettlingNeverTakeABudgetPastItsLimit() throws Exception {
        Counter budget = spend("budget", 20_000);
        AtomicLong spent = new AtomicLong();
        AtomicInteger overdrawn = new AtomicInteger();
        hammer(8, 500, (thread, i) -> {
            String name = thread + "-" + i;
            long amount = ThreadLocalRandom.current().nextLong(1, 200);
            if (reserve(name, T0, charge(budget, amount)) instanceof Granted g) {
                if (g.remaining().get(budget.key()) < 0) {
                    overdrawn.incrementAndGet();
                }
                long actual = ThreadLocalRandom.current().nextLong(0, amount + 1);
                settle(name, T0, charge(budget, actual));
                spent.addAndGet(actual);
            }
        });
        assertThat(overdrawn).hasValue(0);
        assertThat(used(budget, T0)).isEqualTo(spent.get()).isLessThanOrEqualTo(20_000);
    }

    @Test
    void manyThreadsNeverHaveMoreInFlightThanTheLimit() throws Exception {
        Counter flight = concurrent("flight", 3);
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger admitted = new AtomicInteger();
        hammer(8, 500, (thread, i) -> {
            String name = thread + "-" + i;
            if (reserve(name, T0, charge(flight, 1)) instanceof Granted) {
                admitted.incrementAndGet();
                most.accumulateAndGet(holding.incrementAndGet(), Math::max);
                holding.decrementAndGet();
                settle(name, T0, List.of());
            }
        });
        assertThat(most.get()).isBetween(1, 3);
        assertThat(admitted.get()).isPositive();
        assertThat(used(flight, T0)).isZero();
    }

    @Test
    void manyThreadsInOneInstantGetExactlyTheBurst() throws Exception {
        Counter requests = rpm("requests", 300);
        AtomicInteger granted = new AtomicInteger();
        hammer(8, 100, (thread, i) -> {
            if (reserve(thread + "-" + i, T0, charge(requests, 1)) instanceof Granted) {
                granted.incrementAndGet();
            }
        });
        assertThat(granted).hasValue(300);
    }

    // ---- helpers

    protected String key(String name) {
        return name + ":" + unique;
    }

    protected String id(String name) {
        return "req-" + name + "-" + unique;
    }

    protected Counter spend(String name, long limit) {
        return new Counter(key(name), Kind.SPEND, limit, KEEP);
    }

    protected Counter rpm(String name, long limit) {
        return new Counter(key(name), Kind.REQUESTS_PER_MINUTE, limit, MINUTE);
    }

    protected Counter tpm(String name, long limit) {
        return new Counter(key(name), Kind.TOKENS_PER_MINUTE, limit, MINUTE);
    }

    protected Counter concurrent(String name, long limit) {
        return new Counter(key(name), Kind.CONCURRENT, limit, null);
    }

    protected static Charge charge(Counter counter, long amount) {
        return new Charge(counter, amount);
    }

    protected Decision reserve(String name, Instant now, Charge... charges) {
        return join(store.reserve(id(name), List.of(charges), TTL, now));
    }

    protected void settle(String name, Instant now, Charge... actual) {
        settle(name, now, List.of(actual));
    }

    protected void settle(String name, Instant now, List<Charge> actual) {
        join(store.settle(id(name), actual, now));
    }

    protected long used(Counter counter, Instant now) {
        return join(store.used(List.of(counter), now)).get(counter.key());
    }

    protected static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    interface Step {
        void run(int thread, int i) throws Exception;
    }

    /** {@code threads} threads, started together, each running {@code step} {@code times} times. */
    protected static void hammer(int threads, int times, Step step) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < times; i++) {
                        step.run(thread, i);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}

package ai.finops.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.governance.CounterStore.Charge;
import ai.finops.governance.CounterStore.Counter;
import ai.finops.governance.CounterStore.Counter.Kind;
import ai.finops.governance.CounterStore.Decision;
import ai.finops.governance.CounterStore.Granted;
import ai.finops.governance.CounterStore.Refused;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link CounterStore} does, as {@link EmbeddedCounterStore}'s javadoc states it: a store's
 * test extends this class and gives {@link #newStore(Duration)} (and {@link #newReplica()} when two
 * stores can share counters). Time is the {@code now} each call is given, so the tests move it themselves; keys
 * and ids are unique per test, so a store that outlives one test (a shared Redis) needs no cleaning.
 * Values are checked exactly, down to the microsecond: every store must give the same answers.
 */
public abstract class CounterStoreContract {
    protected static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
    protected static final Duration TTL = Duration.ofMinutes(10);
    protected static final Duration MINUTE = Duration.ofMinutes(1);
    protected static final Duration MICRO = Duration.of(1, ChronoUnit.MICROS);
    /** The settled memory of the stores under test: they are made with the default. */
    protected static final Duration MEMORY = CounterStore.DEFAULT_SETTLED_MEMORY;
    private static final Duration KEEP = Duration.ofDays(40);

    /** A new store that remembers ended ids for {@code settledMemory}. */
    protected abstract CounterStore newStore(Duration settledMemory);

    /** A new store with the default settled memory; closed after each test. */
    protected CounterStore newStore() {
        return newStore(MEMORY);
    }

    /**
     * Another store over the same counters (another replica), made after {@link #newStore()}; closed
     * after each test. A store whose counters live in its own process has no replica: it is itself.
     */
    protected CounterStore newReplica() {
        return store;
    }

    protected CounterStore store;
    /** The store of another replica: the same counters, another client ({@link #store} itself for an in-process store). */
    protected CounterStore other;
    private final String unique = UUID.randomUUID().toString();

    @BeforeEach
    void openStore() {
        store = newStore();
        other = newReplica();
    }

    @AfterEach
    void closeStore() {
        if (other != null && other != store) {
            other.close();
        }
        if (store != null) {
            store.close();
        }
    }

    // ---- arguments

    @Test
    void badArgumentsFailTheCallNotTheStore() {
        Counter budget = spend("budget", 100);
        List<Charge> one = List.of(charge(budget, 1));
        long window = MINUTE.toNanos() / 1_000;
        assertInvalid(() -> store.reserve(null, one, TTL, T0));
        assertInvalid(() -> store.reserve("", one, TTL, T0));
        assertInvalid(() -> store.reserve(id("a"), null, TTL, T0));
        assertInvalid(() -> store.reserve(id("a"), one, null, T0));
        assertInvalid(() -> store.reserve(id("a"), one, Duration.ZERO, T0));
        assertInvalid(() -> store.reserve(id("a"), one, Duration.ofNanos(999), T0));
        assertInvalid(() -> store.reserve(id("a"), one, TTL, null));
        assertInvalid(() -> store.reserve(id("a"), one, TTL, Instant.EPOCH.minusSeconds(1)));
        assertInvalid(() -> store.reserve(id("a"), one, TTL, Instant.EPOCH.plus(Charges.MAX + 1, ChronoUnit.MICROS)));
        assertInvalid(() -> store.reserve(id("a"), List.of(charge(budget, -1)), TTL, T0));
        assertInvalid(() -> store.reserve(id("a"), java.util.Arrays.asList(charge(budget, 1), null), TTL, T0));
        assertInvalid(() -> store.reserve(id("a"), List.of(charge(new Counter(key("s"), Kind.SPEND, -1, KEEP), 0)), TTL, T0));
        assertInvalid(() -> store.reserve(id("a"), List.of(charge(new Counter(key("s"), Kind.SPEND, Charges.MAX + 1, KEEP), 0)), TTL, T0));
        assertInvalid(() -> store.reserve(id("a"), List.of(charge(new Counter("", Kind.SPEND, 1, KEEP), 0)), TTL, T0));
        assertInvalid(() -> store.reserve(id("a"), List.of(charge(new Counter(key("s"), null, 1, KEEP), 0)), TTL, T0));
        assertInvalid(() -> store.reserve(id("a"), List.of(charge(new Counter(key("s"), Kind.SPEND, 1, Duration.ZERO), 0)), TTL, T0));
        assertInvalid(() -> store.reserve(id("a"), List.of(charge(new Counter(key("r"), Kind.REQUESTS_PER_MINUTE, 1, null), 0)), TTL, T0));
        assertInvalid(() -> store.reserve(id("a"), List.of(charge(new Counter(key("r"), Kind.REQUESTS_PER_MINUTE, 1, Duration.ofNanos(999)), 0)),
                TTL, T0));
        assertInvalid(() -> store.reserve(id("a"), List.of(charge(tpm("t", Charges.MAX / window + 1), 0)), TTL, T0));
        assertInvalid(() -> store.settle(id("a"), List.of(charge(budget, Charges.MAX + 1)), T0));
        assertInvalid(() -> store.settle(id("a"), List.of(charge(budget, Charges.MAX), charge(budget, 1)), T0));
        assertInvalid(() -> store.settle("", List.of(), T0));
        assertInvalid(() -> store.settle(id("a"), null, T0));
        assertInvalid(() -> store.settle(id("a"), List.of(), null));
        assertInvalid(() -> store.used(null, T0));
        assertInvalid(() -> store.used(List.of(budget), null));
        assertInvalid(() -> store.used(List.of(new Counter(key("r"), Kind.TOKENS_PER_MINUTE, 1, null)), T0));
        // none of them counted anything, and the store serves
        assertThat(reserve("a", T0, charge(budget, 100))).isEqualTo(new Granted(id("a"), Map.of(budget.key(), 0L)));
        assertThat(join(store.reserve(id("b"), List.of(charge(tpm("t", Charges.MAX / window), 1)), TTL, T0))).isInstanceOf(Granted.class);
    }

    @Test
    void aChargeNoCounterCanHoldIsRefusedWithoutOverflow() {
        Counter budget = spend("budget", 1_000);
        reserve("a", T0, charge(budget, 10));
        assertThat(reserve("b", T0, charge(budget, Long.MAX_VALUE))).isEqualTo(new Refused(budget, 10, null));
        assertThat(reserve("c", T0, charge(budget, Long.MAX_VALUE), charge(budget, Long.MAX_VALUE))).isEqualTo(new Refused(budget, 10, null));
        Counter tokens = tpm("tokens", 1_000);
        assertThat(reserve("d", T0, charge(tokens, Long.MAX_VALUE))).isEqualTo(new Refused(tokens, 0, null));
        Counter flight = concurrent("flight", 5);
        assertThat(reserve("e", T0, charge(flight, Long.MAX_VALUE))).isEqualTo(new Refused(flight, 0, null));
        assertThat(used(budget, T0)).isEqualTo(10);
    }

    // ---- spend

    @Test
    void spendIsGrantedUpToTheLimitAndNotOneMicroDollarFurther() {
        Counter budget = spend("budget", 1_000);
        assertThat(reserve("a", T0, charge(budget, 600))).isEqualTo(new Granted(id("a"), Map.of(budget.key(), 400L)));
        assertThat(reserve(other, "b", T0, charge(budget, 400))).isEqualTo(new Granted(id("b"), Map.of(budget.key(), 0L)));
        assertThat(reserve("c", T0, charge(budget, 1))).isEqualTo(new Refused(budget, 1_000, null));
        assertThat(used(budget, T0)).isEqualTo(1_000);
    }

    @Test
    void aRefusalAddsNothingToTheCountersThatHadRoom() {
        Counter wide = spend("wide", 100);
        Counter narrow = spend("narrow", 10);
        reserve("first", T0, charge(narrow, 5));
        Decision d = reserve("second", T0, charge(wide, 50), charge(narrow, 10), charge(tpm("tokens", 1_000), 10),
                charge(concurrent("flight", 1), 1));
        assertThat(d).isEqualTo(new Refused(narrow, 5, null));
        assertThat(join(store.used(List.of(wide, narrow, tpm("tokens", 1_000), concurrent("flight", 1)), T0)))
                .isEqualTo(Map.of(wide.key(), 0L, narrow.key(), 5L, key("tokens"), 0L, key("flight"), 0L));
        assertThat(reserve("third", T0, charge(wide, 50), charge(narrow, 5))).isInstanceOf(Granted.class);
        assertThat(used(wide, T0)).isEqualTo(50);
        assertThat(used(narrow, T0)).isEqualTo(10);
    }

    @Test
    void aRefusalByARateLeavesTheOtherKindsUntouched() {
        Counter budget = spend("budget", 1_000);
        Counter requests = rpm("requests", 1);
        Counter flight = concurrent("flight", 5);
        Charge[] charges = {charge(budget, 10), charge(flight, 1), charge(requests, 1)};
        assertThat(reserve("a", T0, charges)).isInstanceOf(Granted.class);
        assertThat(reserve(other, "b", T0, charges)).isEqualTo(new Refused(requests, 1, MINUTE));
        assertThat(join(store.used(List.of(budget, requests, flight), T0)))
                .isEqualTo(Map.of(budget.key(), 10L, requests.key(), 1L, flight.key(), 1L));
    }

    @Test
    void aRefusalNamesTheFirstCounterWithoutRoomInTheOrderCharged() {
        Counter a = spend("a", 10);
        Counter b = spend("b", 10);
        assertThat(reserve("x", T0, charge(a, 11), charge(b, 11))).isEqualTo(new Refused(a, 0, null));
        assertThat(reserve("y", T0, charge(b, 11), charge(a, 11))).isEqualTo(new Refused(b, 0, null));
        assertThat(reserve("z", T0, charge(a, 1), charge(b, 11), charge(a, 10))).as("a key is checked where it first appears, with its sum")
                .isEqualTo(new Refused(a, 0, null));
    }

    @Test
    void chargesOfOneCallOnTheSameKeyAddUp() {
        Counter budget = spend("budget", 100);
        assertThat(reserve("x", T0, charge(budget, 60), charge(budget, 60))).isEqualTo(new Refused(budget, 0, null));
        assertThat(reserve("y", T0, charge(budget, 60), charge(budget, 40))).isEqualTo(new Granted(id("y"), Map.of(budget.key(), 0L)));
        settle("y", T0, charge(budget, 30), charge(budget, 20));
        assertThat(used(budget, T0)).isEqualTo(50);
    }

    @Test
    void aReservationCountsUntilNowPlusTtlAndNotFromThatInstantOn() {
        Counter budget = spend("budget", 1_000);
        Counter flight = concurrent("flight", 1);
        reserve("a", T0, charge(budget, 300), charge(flight, 1));
        Instant expiry = T0.plus(TTL);
        assertThat(used(budget, expiry.minus(MICRO))).isEqualTo(300);
        assertThat(used(flight, expiry.minus(MICRO))).isEqualTo(1);
        assertThat(reserve(other, "early", expiry.minus(MICRO), charge(budget, 701))).isEqualTo(new Refused(budget, 300, null));
        assertThat(reserve(other, "early", expiry.minus(MICRO), charge(flight, 1))).isEqualTo(new Refused(flight, 1, null));
        assertThat(used(budget, expiry)).isZero();
        assertThat(used(flight, expiry)).isZero();
        assertThat(reserve("b", expiry, charge(budget, 1_000), charge(flight, 1))).isInstanceOf(Granted.class);
    }

    @Test
    void settleReplacesWhatWasReservedByWhatWasSpent() {
        Counter budget = spend("budget", 1_000);
        reserve("a", T0, charge(budget, 300));
        reserve(other, "b", T0, charge(budget, 500));
        assertThat(used(budget, T0)).isEqualTo(800);
        settle(other, "a", T0.plusSeconds(1), charge(budget, 120));
        assertThat(used(budget, T0.plusSeconds(1))).isEqualTo(620);
        settle("b", T0.plusSeconds(2), charge(budget, 700));
        assertThat(used(budget, T0.plusSeconds(2))).as("more than reserved: it was spent").isEqualTo(820);
        assertThat(reserve("c", T0.plusSeconds(3), charge(budget, 181))).isEqualTo(new Refused(budget, 820, null));
        assertThat(reserve("d", T0.plusSeconds(3), charge(budget, 180))).isEqualTo(new Granted(id("d"), Map.of(budget.key(), 0L)));
        assertThat(used(budget, T0.plus(TTL).plusSeconds(3))).as("d expired, the settled spend stays").isEqualTo(820);
    }

    @Test
    void settlingTwiceCountsOnce() {
        Counter budget = spend("budget", 1_000);
        Counter tokens = tpm("tokens", 10_000);
        reserve("a", T0, charge(budget, 500), charge(tokens, 500));
        settle("a", T0.plusSeconds(1), charge(budget, 100), charge(tokens, 900));
        settle(other, "a", T0.plusSeconds(1), charge(budget, 100), charge(tokens, 900));
        settle("a", T0.plusSeconds(1), charge(budget, 300));
        assertThat(used(budget, T0.plusSeconds(1))).isEqualTo(100);
        assertThat(used(tokens, T0.plusSeconds(1))).isEqualTo(900 - 1 * 10_000 / 60);
    }

    @Test
    void aLateSettleAfterExpiryStillCountsTheSpendOnce() {
        Counter budget = spend("budget", 1_000);
        reserve("a", T0, charge(budget, 500));
        Instant late = T0.plus(TTL).plusSeconds(30);
        assertThat(used(budget, late)).isZero();
        settle("a", late, charge(budget, 700));
        settle(other, "a", late.plusSeconds(1), charge(budget, 700));
        assertThat(used(budget, late.plusSeconds(1))).as("money spent counts, even past the limit's reservation").isEqualTo(700);
    }

    @Test
    void settlingAnIdTheStoreNeverSawCountsTheSpendOnce() {
        Counter budget = spend("budget", 1_000);
        settle("ghost", T0, charge(budget, 40));
        settle(other, "ghost", T0.plusSeconds(5), charge(budget, 40));
        assertThat(used(budget, T0.plusSeconds(5))).isEqualTo(40);
    }

    @Test
    void settleDropsSpendAndConcurrencyMissingFromTheActualAmountsAndKeepsRatesAsReserved() {
        Counter a = spend("a", 1_000);
        Counter b = spend("b", 1_000);
        Counter tokens = tpm("tokens", 1_000);
        Counter requests = rpm("requests", 10);
        Counter flight = concurrent("flight", 2);
        reserve("r", T0, charge(a, 100), charge(b, 100), charge(tokens, 400), charge(requests, 1), charge(flight, 1));
        settle("r", T0, charge(a, 30));
        assertThat(join(store.used(List.of(a, b, tokens, requests, flight), T0))).isEqualTo(Map.of(
                a.key(), 30L, b.key(), 0L, tokens.key(), 400L, requests.key(), 1L, flight.key(), 0L));
    }

    @Test
    void aRateNamedInTheActualAmountsIsCorrectedEvenToZeroAndConcurrencyIsReleasedWhateverActualSays() {
        Counter tokens = tpm("tokens", 1_000);
        Counter requests = rpm("requests", 10);
        Counter flight = concurrent("flight", 2);
        reserve("r", T0, charge(tokens, 400), charge(requests, 1), charge(flight, 1));
        settle("r", T0, charge(tokens, 150), charge(requests, 0), charge(flight, 1));
        assertThat(join(store.used(List.of(tokens, requests, flight), T0))).isEqualTo(Map.of(
                tokens.key(), 150L, requests.key(), 0L, flight.key(), 0L));
    }

    @Test
    void settleChargesNoRateTheReservationDidNotHold() {
        Counter budget = spend("budget", 1_000);
        Counter tokens = tpm("tokens", 1_000);
        Counter flight = concurrent("flight", 2);
        reserve("r", T0, charge(budget, 10));
        settle("r", T0, charge(budget, 10), charge(tokens, 500), charge(flight, 1));
        assertThat(join(store.used(List.of(budget, tokens, flight), T0))).isEqualTo(Map.of(budget.key(), 10L, tokens.key(), 0L, flight.key(), 0L));
    }

    @Test
    void reservingALiveIdAgainChargesNothingMoreAndAnswersForTheCountersNamed() {
        Counter budget = spend("budget", 1_000);
        Counter other2 = spend("other", 50);
        assertThat(reserve("a", T0, charge(budget, 300))).isEqualTo(new Granted(id("a"), Map.of(budget.key(), 700L)));
        assertThat(reserve(other, "a", T0, charge(budget, 300))).isEqualTo(new Granted(id("a"), Map.of(budget.key(), 700L)));
        assertThat(reserve("a", T0.plusSeconds(1), charge(budget, 900), charge(other2, 60)))
                .isEqualTo(new Granted(id("a"), Map.of(budget.key(), 700L, other2.key(), 50L)));
        assertThat(used(budget, T0)).isEqualTo(300);
        assertThat(used(budget, T0.plus(TTL))).as("asked again, it still expires with its first ttl").isZero();
    }

    @Test
    void reservingASettledIdFails() {
        Counter budget = spend("budget", 1_000);
        reserve("a", T0, charge(budget, 300));
        settle("a", T0, charge(budget, 10));
        assertReuseFails(store, "a", T0, budget);
        assertReuseFails(other, "a", T0, budget);
        assertThat(used(budget, T0)).isEqualTo(10);
    }

    @Test
    void reservingAnExpiredIdFails() {
        Counter budget = spend("budget", 1_000);
        reserve("a", T0, charge(budget, 300));
        assertReuseFails(store, "a", T0.plus(TTL), budget);
        assertThat(used(budget, T0.plus(TTL))).isZero();
    }

    @Test
    void anIdIsRememberedForTheLongerOfItsTtlAndTheSettledMemoryAfterItEnded() {
        Counter budget = spend("budget", 1_000_000);
        // settled, with a ttl shorter than the memory: for the memory
        reserve("short", T0, Duration.ofSeconds(1), charge(budget, 1));
        settle("short", T0, charge(budget, 1));
        assertReuseFails(store, "short", T0.plus(MEMORY).minus(MICRO), budget);
        assertThat(reserve("short", T0.plus(MEMORY), charge(budget, 1))).as("forgotten: new again").isInstanceOf(Granted.class);
        // settled, with a ttl longer than the memory: for the ttl
        Duration longer = MEMORY.multipliedBy(2);
        reserve("long", T0, longer, charge(budget, 1));
        Instant settled = T0.plus(MINUTE);
        settle("long", settled, charge(budget, 1));
        assertReuseFails(store, "long", settled.plus(longer).minus(MICRO), budget);
        assertThat(reserve("long", settled.plus(longer), charge(budget, 1))).isInstanceOf(Granted.class);
        // expired without a settle: from its expiry
        reserve("lapsed", T0, Duration.ofSeconds(1), charge(budget, 1));
        Instant expired = T0.plusSeconds(1);
        assertReuseFails(store, "lapsed", expired.plus(MEMORY).minus(MICRO), budget);
        assertThat(reserve("lapsed", expired.plus(MEMORY), charge(budget, 1))).isInstanceOf(Granted.class);
        // settled without a reservation the store knew: for the memory, then its spend would count again
        Counter ghostly = spend("ghostly", 1_000);
        settle("ghost", T0, charge(ghostly, 5));
        settle(other, "ghost", T0.plus(MEMORY).minus(MICRO), charge(ghostly, 5));
        assertThat(used(ghostly, T0.plus(MEMORY))).isEqualTo(5);
        settle("ghost", T0.plus(MEMORY), charge(ghostly, 5));
        assertThat(used(ghostly, T0.plus(MEMORY))).as("a forgotten id is new again").isEqualTo(10);
    }

    @Test
    void aStoreMadeWithAnotherSettledMemoryRemembersEndedIdsThatLong() {
        Duration memory = Duration.ofHours(2);
        Counter budget = spend("budget", 1_000);
        try (CounterStore remembering = newStore(memory)) {
            join(remembering.reserve(id("a"), List.of(charge(budget, 1)), TTL, T0));
            join(remembering.settle(id("a"), List.of(charge(budget, 1)), T0));
            join(remembering.settle(id("ghost"), List.of(charge(budget, 1)), T0));
            assertReuseFails(remembering, "a", T0.plus(memory).minus(MICRO), budget);
            join(remembering.settle(id("ghost"), List.of(charge(budget, 1)), T0.plus(memory).minus(MICRO)));
            assertThat(join(remembering.used(List.of(budget), T0.plus(memory).minus(MICRO)))).isEqualTo(Map.of(budget.key(), 2L));
            assertThat(join(remembering.reserve(id("a"), List.of(charge(budget, 1)), TTL, T0.plus(memory)))).isInstanceOf(Granted.class);
        }
    }

    @Test
    void countersNeverChargedHaveUsedNothing() {
        assertThat(join(store.used(List.of(spend("s", 1), rpm("r", 1), tpm("t", 1), concurrent("c", 1)), T0)))
                .isEqualTo(Map.of(key("s"), 0L, key("r"), 0L, key("t"), 0L, key("c"), 0L));
        assertThat(join(store.used(List.of(), T0))).isEmpty();
    }

    @Test
    void aSpendCounterIsKeptUntilTheLatestNowPlusWindowOfTheCallsThatChargedOrSettledIt() {
        Counter budget = new Counter(key("budget"), Kind.SPEND, 1_000, Duration.ofHours(1));
        settle("a", T0, charge(budget, 10));
        settle("b", T0.plus(Duration.ofMinutes(50)), charge(budget, 10));
        assertThat(used(budget, T0.plus(Duration.ofMinutes(110)).minus(MICRO))).isEqualTo(20);
        assertThat(used(budget, T0.plus(Duration.ofMinutes(110)))).isZero();
        settle("c", T0.plus(Duration.ofMinutes(110)), charge(budget, 5));
        assertThat(used(budget, T0.plus(Duration.ofMinutes(111)))).as("a forgotten counter starts again from zero").isEqualTo(5);
        // a granted reserve keeps it too (until 180), and a shorter window never shortens it
        reserve("d", T0.plus(Duration.ofMinutes(120)), charge(budget, 1));
        Counter shorter = new Counter(budget.key(), Kind.SPEND, 1_000, MINUTE);
        settle("e", T0.plus(Duration.ofMinutes(121)), charge(shorter, 2));
        assertThat(used(budget, T0.plus(Duration.ofMinutes(180)).minus(MICRO))).isEqualTo(7);
        assertThat(used(budget, T0.plus(Duration.ofMinutes(180)))).isZero();
    }

    @Test
    void aSpendCounterWithoutAWindowIsKeptForEver() {
        Counter total = new Counter(key("total"), Kind.SPEND, 1_000, null);
        settle("a", T0, charge(total, 10));
        Instant decadeLater = T0.plus(Duration.ofDays(3_650));
        assertThat(used(total, decadeLater)).isEqualTo(10);
        settle("b", T0.plus(Duration.ofDays(1)), charge(new Counter(total.key(), Kind.SPEND, 1_000, Duration.ofHours(1)), 1));
        assertThat(used(total, decadeLater)).as("a window given later does not end it").isEqualTo(11);
        assertThat(reserve("c", decadeLater, charge(total, 989))).isEqualTo(new Granted(id("c"), Map.of(total.key(), 0L)));
    }

    // ---- zero

    @Test
    void aChargeOfZeroAlwaysFitsAndHoldsNothing() {
        Counter budget = spend("budget", 100);
        settle("over", T0, charge(budget, 150));    // spent past its limit by a late settle
        Counter requests = rpm("requests", 1);
        reserve("r", T0, charge(requests, 1));
        Counter flight = concurrent("flight", 1);
        reserve("f", T0, charge(flight, 1));
        Counter closed = spend("closed", 0);
        Counter stopped = tpm("stopped", 0);
        Counter nobody = concurrent("nobody", 0);
        Decision d = reserve("zero", T0, charge(budget, 0), charge(requests, 0), charge(flight, 0), charge(closed, 0),
                charge(stopped, 0), charge(nobody, 0));
        assertThat(d).isEqualTo(new Granted(id("zero"), Map.of(budget.key(), -50L, requests.key(), 0L, flight.key(), 0L,
                closed.key(), 0L, stopped.key(), 0L, nobody.key(), 0L)));
        assertThat(join(store.used(List.of(budget, requests, flight), T0)))
                .isEqualTo(Map.of(budget.key(), 150L, requests.key(), 1L, flight.key(), 1L));
        settle("zero", T0, List.of());
        assertThat(used(flight, T0)).as("it held no slot, and released none").isEqualTo(1);
    }

    @Test
    void aLimitOfZeroAdmitsNoPositiveChargeAndARateWithItHoldsNothing() {
        Counter closed = spend("closed", 0);
        Counter none = rpm("none", 0);
        Counter nobody = concurrent("nobody", 0);
        assertThat(reserve("a", T0, charge(closed, 1))).isEqualTo(new Refused(closed, 0, null));
        assertThat(reserve("b", T0, charge(none, 1))).isEqualTo(new Refused(none, 0, null));
        assertThat(reserve("c", T0, charge(nobody, 1))).isEqualTo(new Refused(nobody, 0, null));
        // a rate's limit lowered to 0: it reads empty, and a call that charges it with the 0 limit empties it
        Counter tokens = tpm("tokens", 1_000);
        reserve("d", T0, charge(tokens, 1_000));
        Counter stopped = new Counter(tokens.key(), Kind.TOKENS_PER_MINUTE, 0, MINUTE);
        assertThat(used(stopped, T0)).isZero();
        assertThat(reserve("e", T0, charge(stopped, 1))).isEqualTo(new Refused(stopped, 0, null));
        assertThat(used(tokens, T0)).as("a read changes nothing").isEqualTo(1_000);
        assertThat(reserve("f", T0, charge(stopped, 0))).isEqualTo(new Granted(id("f"), Map.of(tokens.key(), 0L)));
        assertThat(used(tokens, T0)).isZero();
        assertThat(reserve("g", T0, charge(tokens, 1_000))).isInstanceOf(Granted.class);
    }

    // ---- rates (GCRA)

    @Test
    void aBurstOfNPlusKAdmitsExactlyN() {
        Counter requests = rpm("requests", 10);
        int granted = 0;
        for (int i = 0; i < 15; i++) {
            Decision d = reserve(i % 2 == 0 ? store : other, "r" + i, T0, charge(requests, 1));
            if (d instanceof Granted g) {
                granted++;
                assertThat(g.remaining()).containsEntry(requests.key(), (long) (10 - granted));
            } else {
                assertThat(d).isEqualTo(new Refused(requests, 10, Duration.ofSeconds(6)));
            }
        }
        assertThat(granted).isEqualTo(10);
        assertThat(used(requests, T0)).isEqualTo(10);
    }

    @Test
    void retryAfterIsTheFirstInstantTheChargeFitsAndAWindowLaterTheWholeBurstIsBack() {
        Counter requests = rpm("requests", 10);
        for (int i = 0; i < 10; i++) {
            reserve("r" + i, T0, charge(requests, 1));
        }
        Duration emission = Duration.ofSeconds(6);
        assertThat(reserve("late", T0, charge(requests, 1))).isEqualTo(new Refused(requests, 10, emission));
        Instant justBefore = T0.plus(emission).minus(MICRO);
        assertThat(reserve("before", justBefore, charge(requests, 1))).isEqualTo(new Refused(requests, 10, MICRO));
        assertThat(reserve("at", T0.plus(emission), charge(requests, 1))).isEqualTo(new Granted(id("at"), Map.of(requests.key(), 0L)));
        assertThat(reserve("after", T0.plus(emission), charge(requests, 1))).isEqualTo(new Refused(requests, 10, emission));
        Instant later = T0.plus(emission).plus(MINUTE);
        for (int i = 0; i < 10; i++) {
            assertThat(reserve(other, "c" + i, later, charge(requests, 1))).isInstanceOf(Granted.class);
        }
        assertThat(reserve("c-over", later, charge(requests, 1))).isEqualTo(new Refused(requests, 10, emission));
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
        assertThat(reserve("r8", T0.plus(wait).minus(MICRO), charge(requests, 1))).isEqualTo(new Refused(requests, 7, MICRO));
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
    void microsecondsAreTheResolution() {
        Counter requests = rpm("requests", 1);
        reserve("a", T0, charge(requests, 1));
        Instant almost = T0.plus(MINUTE).minusNanos(999);
        assertThat(reserve("b", almost, charge(requests, 1))).isEqualTo(new Refused(requests, 1, MICRO));
        assertThat(reserve("c", almost.plusNanos(999), charge(requests, 1))).isInstanceOf(Granted.class);
    }

    @Test
    void ratesAreExactUpToTheLargestLimit() {
        long w = MINUTE.toNanos() / 1_000;
        long most = Charges.MAX / w;    // 150,119,987 a minute
        Counter tokens = tpm("tokens", most);
        assertThat(reserve("all", T0, charge(tokens, most))).isEqualTo(new Granted(id("all"), Map.of(tokens.key(), 0L)));
        assertThat(reserve("one", T0, charge(tokens, 1))).isEqualTo(new Refused(tokens, most, MICRO));
        // a microsecond later `most` units × 1 µs have drained: a little over two and a half tokens
        Instant next = T0.plus(MICRO);
        long level = most * w - most + w;
        assertThat(reserve("next", next, charge(tokens, 1)))
                .isEqualTo(new Granted(id("next"), Map.of(tokens.key(), Math.floorDiv(most * w - level, w))));
        assertThat(used(tokens, next)).isEqualTo(-Math.floorDiv(-level, w)).isEqualTo(most - 1);
        settle("all", next, charge(tokens, most - 7));
        assertThat(used(tokens, next)).isEqualTo(-Math.floorDiv(-(level - 7 * w), w));
    }

    @Test
    void tokensRefillContinuouslyAndRetryAfterCoversTheWholeCharge() {
        Counter tokens = tpm("tokens", 1_000);    // one token every 60 ms
        assertThat(reserve("a", T0, charge(tokens, 600))).isEqualTo(new Granted(id("a"), Map.of(tokens.key(), 400L)));
        // 200 tokens short at 1,000 a minute: 12 s
        assertThat(reserve("b", T0, charge(tokens, 600))).isEqualTo(new Refused(tokens, 600, Duration.ofSeconds(12)));
        assertThat(used(tokens, T0.plusSeconds(6))).isEqualTo(500);
        assertThat(reserve(other, "c", T0.plusSeconds(12), charge(tokens, 600))).isEqualTo(new Granted(id("c"), Map.of(tokens.key(), 0L)));
        assertThat(used(tokens, T0.plusSeconds(12))).isEqualTo(1_000);
        assertThat(used(tokens, T0.plusSeconds(42))).isEqualTo(500);
        assertThat(used(tokens, T0.plusSeconds(72))).isZero();
    }

    @Test
    void aChargeLargerThanTheLimitIsRefusedWithNoRetryAfter() {
        Counter tokens = tpm("tokens", 1_000);
        assertThat(reserve("a", T0, charge(tokens, 1_001))).isEqualTo(new Refused(tokens, 0, null));
        assertThat(reserve("b", T0, charge(tokens, 1_000))).isInstanceOf(Granted.class);
        assertThat(reserve("c", T0.plusSeconds(600), charge(tokens, 1_001))).isEqualTo(new Refused(tokens, 0, null));
    }

    @Test
    void settleCreditsUnusedTokensButNeverMoreThanAFullBucket() {
        Counter tokens = tpm("tokens", 1_000);
        reserve("a", T0, charge(tokens, 800));
        settle(other, "a", T0, charge(tokens, 100));
        assertThat(used(tokens, T0)).isEqualTo(100);
        assertThat(reserve("b", T0, charge(tokens, 900))).isEqualTo(new Granted(id("b"), Map.of(tokens.key(), 0L)));

        Counter more = tpm("more", 1_000);
        reserve("c", T0, charge(more, 100));
        settle("c", T0.plus(MINUTE), charge(more, 0));
        assertThat(used(more, T0.plus(MINUTE))).isZero();
        assertThat(reserve("d", T0.plus(MINUTE), charge(more, 1_001))).isInstanceOf(Refused.class);
        assertThat(reserve("e", T0.plus(MINUTE), charge(more, 1_000))).isInstanceOf(Granted.class);

        // half refilled, then all of it credited back: empty, not less
        Counter half = tpm("half", 1_000);
        reserve("f", T0, charge(half, 1_000));
        Instant then = T0.plusSeconds(30);
        settle("f", then, charge(half, 0));
        assertThat(used(half, then)).isZero();
        assertThat(reserve("g", then, charge(half, 1_000))).isInstanceOf(Granted.class);
        assertThat(reserve("h", then, charge(half, 1))).isEqualTo(new Refused(half, 1_000, Duration.ofMillis(60)));
    }

    @Test
    void settleChargesTokensBeyondTheReservationAndTheDebtOutlastsTheWindow() {
        Counter tokens = tpm("tokens", 1_000);
        reserve("a", T0, charge(tokens, 100));
        settle("a", T0, charge(tokens, 700));
        assertThat(used(tokens, T0)).isEqualTo(700);
        assertThat(reserve("b", T0, charge(tokens, 301))).isEqualTo(new Refused(tokens, 700, Duration.ofMillis(60)));

        Counter deep = tpm("deep", 1_000);
        reserve("c", T0, charge(deep, 100));
        settle("c", T0, charge(deep, 3_200));
        assertThat(used(deep, T0)).isEqualTo(3_200);
        assertThat(reserve("d", T0, charge(deep, 1))).isEqualTo(new Refused(deep, 3_200, Duration.ofMillis((3_200 + 1 - 1_000) * 60)));
        assertThat(used(deep, T0.plus(MINUTE).plusSeconds(1))).isEqualTo(2_184);
    }

    @Test
    void aRateAdmittedStaysAdmittedWhenTheReservationExpires() {
        Counter requests = rpm("requests", 1);
        reserve("a", T0, Duration.ofSeconds(1), charge(requests, 1));
        assertThat(reserve("b", T0.plusSeconds(2), charge(requests, 1))).isEqualTo(new Refused(requests, 1, Duration.ofSeconds(58)));
        settle("a", T0.plusSeconds(3), charge(requests, 0));
        assertThat(used(requests, T0.plusSeconds(3))).as("a late settle does not credit a rate").isEqualTo(1);
    }

    @Test
    void timeNeverRunsBackwardsForARate() {
        Counter requests = rpm("requests", 10);
        Instant t1 = T0.plus(MINUTE);
        for (int i = 0; i < 10; i++) {
            reserve("r" + i, t1, charge(requests, 1));
        }
        assertThat(reserve(other, "earlier", T0.plusSeconds(30), charge(requests, 1)))
                .as("an earlier now counts as no time passed").isEqualTo(new Refused(requests, 10, Duration.ofSeconds(6)));
        assertThat(used(requests, T0)).isEqualTo(10);
        assertThat(reserve("on-time", t1.plusSeconds(6), charge(requests, 1))).isInstanceOf(Granted.class);
    }

    @Test
    void aChangedWindowKeepsTheShareOfTheBucket() {
        Counter perMinute = rpm("requests", 10);
        Counter perTwoMinutes = new Counter(perMinute.key(), Kind.REQUESTS_PER_MINUTE, 10, Duration.ofMinutes(2));
        reserve("a", T0, charge(perMinute, 5));
        assertThat(used(perTwoMinutes, T0)).isEqualTo(5);
        assertThat(used(perTwoMinutes, T0.plusSeconds(12))).as("one every 12 s").isEqualTo(4);
        assertThat(used(perMinute, T0.plusSeconds(12))).as("one every 6 s").isEqualTo(3);
        assertThat(reserve("b", T0.plusSeconds(12), charge(perTwoMinutes, 6))).isEqualTo(new Granted(id("b"), Map.of(perMinute.key(), 0L)));
        assertThat(used(perMinute, T0.plusSeconds(12))).isEqualTo(10);
    }

    // ---- concurrency

    @Test
    void concurrencyAdmitsUpToTheLimitAndSettleReleases() {
        Counter flight = concurrent("flight", 2);
        assertThat(reserve("a", T0, charge(flight, 1))).isEqualTo(new Granted(id("a"), Map.of(flight.key(), 1L)));
        assertThat(reserve(other, "b", T0, charge(flight, 1))).isEqualTo(new Granted(id("b"), Map.of(flight.key(), 0L)));
        assertThat(reserve("c", T0, charge(flight, 1))).isEqualTo(new Refused(flight, 2, null));
        settle(other, "a", T0, List.of());
        assertThat(used(flight, T0)).isEqualTo(1);
        assertThat(reserve("d", T0, charge(flight, 1))).isInstanceOf(Granted.class);
    }

    @Test
    void aConcurrencyChargeOfNHoldsNSlots() {
        Counter flight = concurrent("flight", 3);
        assertThat(reserve("a", T0, charge(flight, 2))).isEqualTo(new Granted(id("a"), Map.of(flight.key(), 1L)));
        assertThat(reserve("b", T0, charge(flight, 2))).isEqualTo(new Refused(flight, 2, null));
        assertThat(reserve("c", T0, charge(flight, 1), charge(flight, 0))).isEqualTo(new Granted(id("c"), Map.of(flight.key(), 0L)));
        settle("a", T0, charge(flight, 0));
        assertThat(used(flight, T0)).isEqualTo(1);
    }

    @Test
    void anExpiredReservationReleasesItsSlotOnceEvenWhenSettledLate() {
        Counter flight = concurrent("flight", 1);
        reserve("a", T0, Duration.ofSeconds(1), charge(flight, 1));
        assertThat(reserve("b", T0.plusSeconds(1).minus(MICRO), charge(flight, 1))).isEqualTo(new Refused(flight, 1, null));
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
            if (reserve(thread % 2 == 0 ? store : other, thread + "-" + i, T0, charge(budget, 1)) instanceof Granted) {
                granted.incrementAndGet();
            }
        });
        assertThat(granted.get()).isEqualTo(5_000);
        assertThat(used(budget, T0)).isEqualTo(5_000);
    }

    @Test
    void manyThreadsReservingAndSettlingNeverTakeABudgetPastItsLimitAndEveryAnswerIsOneStateOfTheCounter() throws Exception {
        long limit = 20_000;
        Counter budget = spend("budget", limit);
        record Outcome(long amount, Decision decision) {}
        ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
        hammer(8, 200, (thread, i) -> {
            CounterStore mine = thread % 2 == 0 ? store : other;
            String name = thread + "-" + i;
            long amount = ThreadLocalRandom.current().nextLong(1, 51);
            Decision decision = reserve(mine, name, T0, charge(budget, amount));
            outcomes.add(new Outcome(amount, decision));
            if (decision instanceof Granted) {
                settle(mine, name, T0, charge(budget, amount));
            }
        });
        assertThat(outcomes).hasSize(1_600);
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
        assertThat(used(budget, T0)).as("all settled, at what was reserved").isEqualTo(total).isLessThanOrEqualTo(limit);
        Set<Long> states = Set.copyOf(chain);
        List<Outcome> refusals = outcomes.stream().filter(o -> o.decision() instanceof Refused).toList();
        assertThat(refusals).as("demand was twice the budget").isNotEmpty();
        for (Outcome r : refusals) {
            long usedThen = ((Refused) r.decision()).used();
            assertThat(states).as("a refusal saw a state of the counter").contains(usedThen);
            assertThat(usedThen + r.amount()).as("a refusal came when there was no room").isGreaterThan(limit);
        }
    }

    @Test
    void manyThreadsNeverHaveMoreInFlightThanTheLimit() throws Exception {
        Counter flight = concurrent("flight", 3);
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger admitted = new AtomicInteger();
        hammer(8, 500, (thread, i) -> {
            CounterStore mine = thread % 2 == 0 ? store : other;
            String name = thread + "-" + i;
            if (reserve(mine, name, T0, charge(flight, 1)) instanceof Granted) {
                admitted.incrementAndGet();
                most.accumulateAndGet(holding.incrementAndGet(), Math::max);
                holding.decrementAndGet();
                settle(mine, name, T0, List.of());
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
            if (reserve(thread % 2 == 0 ? store : other, thread + "-" + i, T0, charge(requests, 1)) instanceof Granted) {
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
        return reserve(store, name, now, charges);
    }

    protected Decision reserve(CounterStore on, String name, Instant now, Charge... charges) {
        return join(on.reserve(id(name), List.of(charges), TTL, now));
    }

    protected Decision reserve(String name, Instant now, Duration ttl, Charge... charges) {
        return join(store.reserve(id(name), List.of(charges), ttl, now));
    }

    protected void settle(String name, Instant now, Charge... actual) {
        settle(store, name, now, actual);
    }

    protected void settle(CounterStore on, String name, Instant now, Charge... actual) {
        join(on.settle(id(name), List.of(actual), now));
    }

    protected void settle(String name, Instant now, List<Charge> actual) {
        settle(store, name, now, actual);
    }

    protected void settle(CounterStore on, String name, Instant now, List<Charge> actual) {
        join(on.settle(id(name), actual, now));
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

    /** A reserve of {@code name} at {@code now} completes with {@link IllegalStateException} and charges nothing. */
    protected void assertReuseFails(CounterStore on, String name, Instant now, Counter counter) {
        Map<String, Long> before = join(on.used(List.of(counter), now));
        CompletionStage<Decision> again = on.reserve(id(name), List.of(charge(counter, 1)), TTL, now);
        assertThatThrownBy(() -> again.toCompletableFuture().get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(IllegalStateException.class);
        assertThat(join(on.used(List.of(counter), now))).isEqualTo(before);
    }

    /** The call returns a stage (it does not throw) that completes with {@link IllegalArgumentException}. */
    protected static void assertInvalid(Supplier<CompletionStage<?>> call) {
        CompletionStage<?> stage = call.get();
        assertThatThrownBy(() -> stage.toCompletableFuture().get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(IllegalArgumentException.class);
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
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}

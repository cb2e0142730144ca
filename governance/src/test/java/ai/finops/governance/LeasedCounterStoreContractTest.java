package ai.finops.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.governance.CounterStore.Counter;
import ai.finops.governance.CounterStore.Decision;
import ai.finops.governance.CounterStore.Granted;
import ai.finops.governance.CounterStore.Refused;
import ai.finops.testkit.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The contract on {@link LeasedCounterStore} over a real {@code redis-server}, with its default lease rules: the
 * same answers as {@link RedisCounterStore}, whether a request is granted on a slice or reserved in Redis (several
 * tests charge 1 on limits of thousands, which the default rules lease). The replica is a second leased store on
 * the same Redis.
 *
 * <p>Two tests are replaced, for what leases change by design (see {@link LeasedCounterStore}, Semantics): a
 * replica's {@code used} does not see the requests another replica granted on its slices and has not settled, and
 * a grant's {@code remaining} is its replica's view, so grants of two replicas do not form one chain. What they
 * check otherwise holds, and is checked: exactly the limit granted, never more, refusals only without room.
 */
class LeasedCounterStoreContractTest extends CounterStoreContract {
    static RedisServer server;

    @Override
    protected CounterStore newStore(Duration settledMemory) {
        if (server == null) {
            server = RedisServer.start();
        }
        return new LeasedCounterStore(new RedisCounterStore(server.url(), RedisCounterStoreContractTest.OPTIONS.withSettledMemory(settledMemory)),
                LeasedCounterStore.Options.defaults(), settledMemory);
    }

    @Override
    protected CounterStore newReplica() {
        return new LeasedCounterStore(new RedisCounterStore(server.url(), RedisCounterStoreContractTest.OPTIONS));
    }

    @AfterAll
    static void stopRedis() {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    @Override
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
        assertThat(((LeasedCounterStore) store).localGrants() + ((LeasedCounterStore) other).localGrants())
                .as("most of them on slices").isGreaterThan(2_500);
        assertThat(reserve("after", T0, charge(budget, 1))).isEqualTo(new Refused(budget, 5_000, null));
        assertThat(used(budget, T0) + join(other.used(List.of(budget), T0)).get(budget.key()) - exactlyReserved(budget))
                .as("each replica sees Redis's reservations and its own").isEqualTo(5_000);
    }

    @Override
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
        long total = outcomes.stream().filter(o -> o.decision() instanceof Granted).mapToLong(Outcome::amount).sum();
        assertThat(total).isLessThanOrEqualTo(limit);
        for (Outcome o : outcomes) {
            if (o.decision() instanceof Granted g) {
                assertThat(g.remaining().get(budget.key())).as("a grant leaves the counter within its limit").isBetween(0L, limit - o.amount());
            } else {
                Refused r = (Refused) o.decision();
                assertThat(r.used() + o.amount()).as("a refusal came when there was no room, slices counted").isGreaterThan(limit);
            }
        }
        assertThat(outcomes.stream().filter(o -> o.decision() instanceof Refused)).as("demand was twice the budget").isNotEmpty();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(used(budget, T0)).as("all settled, at what was reserved, moved to Redis").isEqualTo(total));
        assertThat(total).as("what slices hold near the limit comes back: at most one slice per replica short of it")
                .isGreaterThanOrEqualTo(limit - 2 * (limit / 100));
    }

    /** What the exact reservations hold in Redis, slices left out: what both replicas' {@code used} count once each. */
    private long exactlyReserved(Counter budget) {
        try (RedisCounterStore reader = new RedisCounterStore(server.url(), RedisCounterStoreContractTest.OPTIONS)) {
            return join(reader.used(List.of(budget), T0)).get(budget.key());
        }
    }
}

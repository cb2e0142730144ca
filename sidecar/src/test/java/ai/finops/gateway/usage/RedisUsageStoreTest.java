package ai.finops.gateway.usage;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.testkit.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link RedisUsageStore} against a real {@code redis-server} (skipped with the reason when it is not
 * installed, failed in CI): two stores on one Redis read each other's rows, a day's hash layout and TTL.
 */
class RedisUsageStoreTest {
    static final LocalDate DAY = UsageLedgerTest.DAY;
    static RedisServer server;

    @BeforeAll
    static void startRedis() {
        server = RedisServer.start();
    }

    @AfterAll
    static void stopRedis() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void twoStoresOnOneRedisReadEachOthersRows() throws Exception {
        UsageKey odd = new UsageKey("k|%7C", "ml, research", "", "openai-compatible", "local", "llm.example.com", "m", "");
        try (RedisUsageStore a = new RedisUsageStore(server.url(), "t1"); RedisUsageStore b = new RedisUsageStore(server.url(), "t1")) {
            a.add(DAY, UsageLedgerTest.ALICE, UsageLedgerTest.priced(UsageLedgerTest.usage(1000, 200, 5000, 0)));
            b.add(DAY, UsageLedgerTest.ALICE, UsageLedgerTest.priced(UsageLedgerTest.usage(1000, 0, 0, 0)));
            b.add(DAY.minusDays(1), odd, UsageLedger.values(null, null, null));
            List<UsageRow> rows = waitFor(a, r -> r.stream().mapToLong(x -> x.get(Measure.REQUESTS)).sum() == 3);
            UsageRow alice = rows.stream().filter(r -> r.key().equals(UsageLedgerTest.ALICE)).findFirst().orElseThrow();
            assertThat(alice.day()).isEqualTo(DAY);
            assertThat(alice.get(Measure.REQUESTS)).isEqualTo(2);
            assertThat(alice.get(Measure.INPUT_TOKENS)).isEqualTo(2000);
            assertThat(alice.get(Measure.COST_MICROS)).isEqualTo(10_500);
            assertThat(alice.get(Measure.INPUT_COST_MICROS)).isEqualTo(6_000);
            assertThat(rows).anySatisfy(r -> {
                assertThat(r.key()).isEqualTo(odd);
                assertThat(r.day()).isEqualTo(DAY.minusDays(1));
            });
        }
        try (RedisClient client = RedisClient.create(server.url()); StatefulRedisConnection<String, String> c = client.connect()) {
            String key = "{t1}:usage:" + DAY;
            Map<String, String> hash = c.sync().hgetall(key);
            assertThat(hash).containsEntry("alice|platform|team-a|anthropic|anthropic-direct|api.anthropic.com|claude-sonnet-4-6|3 15 0.3 3.75"
                    + "|costMicros", "10500");
            assertThat(hash).doesNotContainKey("alice|platform|team-a|anthropic|anthropic-direct|api.anthropic.com|claude-sonnet-4-6|3 15 0.3 3.75"
                    + "|cacheWriteTokens");    // zeros are not written
            assertThat(c.sync().ttl(key)).isBetween(Duration.ofDays(399).toSeconds(), Duration.ofDays(400).toSeconds());
            assertThat(c.sync().hkeys("{t1}:usage:" + DAY.minusDays(1))).contains("k%7C%257C|ml, research||openai-compatible|local|llm.example.com|m||requests");
        }
    }

    @Test
    void rowsAddedWhileRedisIsAwayAreSentWhenItIsBack() throws Exception {
        try (RedisUsageStore store = new RedisUsageStore(server.url(), "t2")) {
            waitFor(store, r -> true);
            server.stop();
            store.add(DAY, UsageLedgerTest.ALICE, UsageLedgerTest.priced(UsageLedgerTest.usage(1000, 0, 0, 0)));
            Thread.sleep(3 * RedisUsageStore.FLUSH_EVERY.toMillis());
            server.restart();
            List<UsageRow> rows = waitFor(store, r -> r.size() == 1);
            assertThat(rows.get(0).get(Measure.COST_MICROS)).isEqualTo(3_000);
        }
    }

    /** The store's rows of the last two days, once they are as {@code expected} (the flush is asynchronous). */
    static List<UsageRow> waitFor(UsageStore store, java.util.function.Predicate<List<UsageRow>> expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        List<UsageRow> rows = List.of();
        while (System.nanoTime() < deadline) {
            try {
                rows = store.read(DAY.minusDays(1), DAY).toCompletableFuture().get(5, TimeUnit.SECONDS);
                if (expected.test(rows)) {
                    return rows;
                }
            } catch (java.util.concurrent.ExecutionException e) {
                // not connected yet
            }
            Thread.sleep(50);
        }
        throw new AssertionError("rows not as expected within 15 s: " + rows);
    }
}

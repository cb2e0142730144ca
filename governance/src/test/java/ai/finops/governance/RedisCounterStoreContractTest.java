package ai.finops.governance;

import ai.finops.testkit.RedisServer;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;

/**
 * The contract on a real {@code redis-server} (one per class, its counters kept apart per test by
 * unique keys and ids); the replica is a second store, another connection to the same Redis.
 * Without redis-server every test is skipped with the reason (or fails, in CI): the server is
 * started from the first test, not before the class.
 */
class RedisCounterStoreContractTest extends CounterStoreContract {
    /** Generous: these tests are about semantics, on a machine that may be busy; RedisCounterStoreConnectionTest takes the timeout apart. */
    static final RedisCounterStore.Options OPTIONS = RedisCounterStore.Options.defaults().withTimeout(Duration.ofSeconds(5));

    static RedisServer server;

    @Override
    protected CounterStore newStore(Duration settledMemory) {
        if (server == null) {
            server = RedisServer.start();
        }
        return new RedisCounterStore(server.url(), OPTIONS.withSettledMemory(settledMemory));
    }

    @Override
    protected CounterStore newReplica() {
        return new RedisCounterStore(server.url(), OPTIONS);
    }

    @AfterAll
    static void stopRedis() {
        if (server != null) {
            server.close();
            server = null;
        }
    }
}

package ai.finops.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.governance.CounterStore.Charge;
import ai.finops.governance.CounterStore.Counter;
import ai.finops.governance.CounterStore.Counter.Kind;
import ai.finops.governance.CounterStore.Decision;
import ai.finops.governance.CounterStore.Granted;
import ai.finops.testkit.RedisServer;
import ai.finops.testkit.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How {@link RedisCounterStore} meets a Redis that goes away, freezes, comes back, asks for a password
 * or speaks TLS: a call completes within its timeout, with {@link StoreUnavailable} when Redis cannot
 * answer, and the store serves again once Redis is back, without being rebuilt.
 */
class RedisCounterStoreConnectionTest {
    static final Duration TIMEOUT = Duration.ofMillis(200);
    /** What a busy two-core machine may add to the timeout before a completion is seen. */
    static final long SLACK_MILLIS = 1_000;
    static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
    static final Counter BUDGET = new Counter("spend:ns/budget/b:2026-12", Kind.SPEND, 1_000_000_000L, Duration.ofDays(40));
    static final AtomicInteger IDS = new AtomicInteger();

    final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    <T extends AutoCloseable> T closing(T resource) {
        closing.add(resource);
        return resource;
    }

    RedisCounterStore store(String url, RedisCounterStore.Options options) {
        return closing(new RedisCounterStore(url, options.withTimeout(TIMEOUT)));
    }

    @Test
    void onTheCallersEventLoopsItIsAnsweredThereAndLeavesThemRunning() throws Exception {
        RedisServer server = closing(RedisServer.start());
        io.netty.channel.EventLoopGroup loops = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
                new io.netty.util.concurrent.DefaultThreadFactory("callers-loop"), io.netty.channel.nio.NioIoHandler.newFactory());
        try {
            RedisCounterStore store = new RedisCounterStore(server.url(), RedisCounterStore.Options.defaults().withTimeout(TIMEOUT), loops);
            awaitServing(store);
            AtomicReference<String> answeredOn = new AtomicReference<>();
            CompletableFuture<Decision> decided = new CompletableFuture<>();
            loops.next().execute(() -> reserve(store).whenComplete((d, e) -> {
                answeredOn.set(Thread.currentThread().getName());
                decided.complete(d);
            }));
            assertThat(decided).succeedsWithin(Duration.ofSeconds(5)).isInstanceOf(Granted.class);
            assertThat(answeredOn.get()).as("no hand-off to a thread of Lettuce's").startsWith("callers-loop");
            store.close();
            assertThat(loops.isShuttingDown()).as("the caller's loops are the caller's to stop").isFalse();
            CompletableFuture<Boolean> stillRunning = new CompletableFuture<>();
            loops.next().execute(() -> stillRunning.complete(true));
            assertThat(stillRunning).succeedsWithin(Duration.ofSeconds(2));
        } finally {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void theSettlesOfOneTurnOfALoopGoAsOneScriptCallTakenInOrder() throws Exception {
        RedisServer server = closing(RedisServer.start());
        io.netty.channel.EventLoopGroup loops = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
                new io.netty.util.concurrent.DefaultThreadFactory("callers-loop"), io.netty.channel.nio.NioIoHandler.newFactory());
        try (RedisCounterStore store = new RedisCounterStore(server.url(), RedisCounterStore.Options.defaults().withTimeout(TIMEOUT), loops);
                io.lettuce.core.RedisClient admin = io.lettuce.core.RedisClient.create(server.url());
                io.lettuce.core.api.StatefulRedisConnection<String, String> adminConnection = admin.connect()) {
            awaitServing(store);
            Counter inFlight = new Counter("conc:ns/key/dev", Kind.CONCURRENT, 2, null);
            Counter budget = new Counter("spend:ns/budget/batched:2026-12", Kind.SPEND, 1_000, Duration.ofDays(40));
            List<Charge> one = List.of(new Charge(inFlight, 1), new Charge(budget, 10));
            Duration ttl = Duration.ofMinutes(1);
            CompletableFuture<Decision> reserved = new CompletableFuture<>();
            loops.next().execute(() -> store.reserve("a", one, ttl, T0).thenCompose(a -> store.reserve("b", one, ttl, T0))
                    .whenComplete((d, e) -> reserved.complete(d)));
            assertThat(reserved).succeedsWithin(Duration.ofSeconds(5)).isInstanceOf(Granted.class);
            adminConnection.sync().configResetstat();

            CompletableFuture<Decision> after = new CompletableFuture<>();
            loops.next().execute(() -> {
                // settled twice (the second changes nothing), and settled with another id in the same turn
                CompletableFuture<Void> a = store.settle("a", List.of(new Charge(budget, 7)), T0).toCompletableFuture();
                CompletableFuture<Void> again = store.settle("a", List.of(new Charge(budget, 7)), T0).toCompletableFuture();
                CompletableFuture<Void> b = store.settle("b", List.of(new Charge(budget, 3)), T0).toCompletableFuture();
                CompletableFuture.allOf(a, again, b).thenCompose(v -> store.reserve("c", one, ttl, T0))
                        .whenComplete((d, e) -> after.complete(d));
            });
            assertThat(after).succeedsWithin(Duration.ofSeconds(5)).isInstanceOf(Granted.class);
            assertThat(((Granted) after.join()).remaining()).containsEntry(inFlight.key(), 1L)
                    .containsEntry(budget.key(), 1_000L - 7 - 3 - 10);
            String stats = adminConnection.sync().info("commandstats");
            assertThat(stats).as("one script call for the three settles, one for the reservation")
                    .containsPattern("cmdstat_evalsha:calls=2,");
        } finally {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void aKilledRedisFailsCallsAtOnceAndARestartedOneServesAgain() throws Exception {
        RedisServer server = closing(RedisServer.start());
        RedisCounterStore store = store(server.url(), RedisCounterStore.Options.defaults());
        awaitServing(store);

        server.kill();
        for (int i = 0; i < 20; i++) {
            assertUnavailableInTime(store);
        }
        server.restart();
        awaitServing(store);    // Lettuce reconnected; the empty server got the script again through EVAL
        assertThat(reserve(store)).succeedsWithin(Duration.ofSeconds(5)).isInstanceOf(Granted.class);
    }

    @Test
    void aFrozenRedisTimesCallsOutWithinTheTimeout() throws Exception {
        RedisServer server = closing(RedisServer.start());
        RedisCounterStore store = store(server.url(), RedisCounterStore.Options.defaults());
        awaitServing(store);

        server.freeze();
        try {
            for (int i = 0; i < 5; i++) {
                long start = System.nanoTime();
                Throwable failure = assertUnavailableInTime(store);
                assertThat(failure).hasMessageContaining("did not answer within 200 ms");
                assertThat(millisSince(start)).isGreaterThanOrEqualTo(TIMEOUT.toMillis() - 5);
            }
        } finally {
            server.thaw();
        }
        awaitServing(store);
    }

    @Test
    void aStoreMadeWhileRedisIsDownConnectsOnceItIsUp() throws Exception {
        RedisServer server = closing(RedisServer.start());
        server.stop();
        RedisCounterStore store = store(server.url(), RedisCounterStore.Options.defaults());
        for (int i = 0; i < 5; i++) {
            assertUnavailableInTime(store);
        }
        server.restart();
        awaitServing(store);
    }

    @Test
    void underLoadAKilledAndRestartedRedisNeverStallsACall() throws Exception {
        RedisServer server = closing(RedisServer.start());
        RedisCounterStore store = store(server.url(), RedisCounterStore.Options.defaults());
        awaitServing(store);

        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong slowest = new AtomicLong();
        AtomicInteger granted = new AtomicInteger();
        AtomicInteger unavailable = new AtomicInteger();
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                while (running.get()) {
                    long start = System.nanoTime();
                    try {
                        reserve(store).get(10, TimeUnit.SECONDS);
                        granted.incrementAndGet();
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof StoreUnavailable) {
                            unavailable.incrementAndGet();
                        } else {
                            unexpected.compareAndSet(null, e.getCause());
                        }
                    } catch (Exception e) {
                        unexpected.compareAndSet(null, e);
                    }
                    slowest.accumulateAndGet(millisSince(start), Math::max);
                }
            }, "load-" + t);
            thread.start();
            threads.add(thread);
        }
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> granted.get() > 200);
            server.kill();
            await().atMost(Duration.ofSeconds(10)).until(() -> unavailable.get() > 50);
            Thread.sleep(300);
            server.restart();
            int before = granted.get();
            await().atMost(Duration.ofSeconds(15)).until(() -> granted.get() > before + 200);
        } finally {
            running.set(false);
            for (Thread thread : threads) {
                thread.join(10_000);
            }
        }
        assertThat(unexpected.get()).isNull();
        assertThat(slowest.get()).as("the slowest call, ms").isLessThan(TIMEOUT.toMillis() + SLACK_MILLIS);
    }

    @Test
    void aPasswordComesInTheUrlOrApartFromASecret() throws Exception {
        RedisServer server = closing(RedisServer.start("--requirepass", "s3cret", "--user", "gateway", "on", ">gw-pass", "~*", "+@all"));
        String hostPort = "127.0.0.1:" + server.port();
        RedisCounterStore.Options defaults = RedisCounterStore.Options.defaults();

        awaitServing(store("redis://:s3cret@" + hostPort, defaults));
        awaitServing(store("redis://" + hostPort, defaults.withPassword("s3cret")));
        awaitServing(store("redis://gateway@" + hostPort, defaults.withPassword("gw-pass")));
        awaitServing(store("redis://gateway:gw-pass@" + hostPort, defaults));

        RedisCounterStore wrong = store("redis://" + hostPort, defaults.withPassword("wrong"));
        assertUnavailableInTime(wrong);
        RedisCounterStore none = store("redis://" + hostPort, defaults);
        assertUnavailableInTime(none);
        assertThat(defaults.withPassword("s3cret").toString()).doesNotContain("s3cret");
    }

    @Test
    void tlsVerifiesTheServersCertificate(@TempDir Path dir) throws Exception {
        TestCertificates.Certificate certificate = TestCertificates.selfSigned("127.0.0.1", "localhost");
        RedisServer server = closing(RedisServer.startTls(certificate));
        assertThat(server.url()).startsWith("rediss://");
        Path trusted = Files.writeString(dir.resolve("ca.pem"), certificate.certificatePem());

        awaitServing(store(server.url(), RedisCounterStore.Options.defaults().withTrustedCertificates(trusted)));
        // the JVM's trust store does not know the test certificate
        assertUnavailableInTime(store(server.url(), RedisCounterStore.Options.defaults()));
    }

    // --- helpers

    static CompletableFuture<Decision> reserve(RedisCounterStore store) {
        return store.reserve("r-" + IDS.incrementAndGet(), List.of(new Charge(BUDGET, 1)), Duration.ofMinutes(1), T0)
                .toCompletableFuture();
    }

    /** Waits (the first connection and reconnections take their time) until a reserve is granted. */
    static void awaitServing(RedisCounterStore store) {
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                .until(() -> reserve(store).get(5, TimeUnit.SECONDS) instanceof Granted);
    }

    /** A reserve completes with {@link StoreUnavailable}, within the timeout and some slack; returns the failure. */
    static Throwable assertUnavailableInTime(RedisCounterStore store) throws InterruptedException {
        long start = System.nanoTime();
        CompletableFuture<Decision> call = reserve(store);
        Throwable failure;
        try {
            call.get(TIMEOUT.toMillis() + SLACK_MILLIS, TimeUnit.MILLISECONDS);
            throw new AssertionError("the reserve succeeded");
        } catch (ExecutionException e) {
            failure = e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the reserve did not complete within " + (TIMEOUT.toMillis() + SLACK_MILLIS) + " ms");
        }
        assertThat(failure).isInstanceOf(StoreUnavailable.class);
        assertThat(millisSince(start)).isLessThan(TIMEOUT.toMillis() + SLACK_MILLIS);
        return failure;
    }

    static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }
}

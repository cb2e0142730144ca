package ai.finops.governance;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shared store (Redis) with local counters for when it does not answer. While the shared store is
 * unavailable, a reserve it could not decide is decided by the local store when {@code fallBack} says
 * so (the gateway's {@code onStoreFailure: Allow}), else it fails with {@link StoreUnavailable}. A
 * reservation made locally settles locally, and its settle is also queued for the shared store; so is
 * any settle the shared store could not take. The queue is replayed, in order, once a second until the
 * shared store takes it: spend made during an outage is added when the store returns, never lost (up
 * to {@value #MAX_PENDING} settles held; beyond, the oldest are dropped and counted) and never counted
 * twice (a settle of an id the store has seen changes nothing more, and a replayed settle comes within
 * the store's memory of ended ids as long as the outage is shorter than it: 10 minutes by default).
 *
 * <p>With a {@link LeasedCounterStore} as the shared store, requests are granted on the slices it holds for as
 * long as they last (their spend is kept there and moved to Redis when it returns), and its failed calls begin an
 * outage like a failed reserve; requests its slices cannot grant go to Redis, fail, and are decided here.
 *
 * <p>What the local counters decide during an outage: each gateway counts only what it admitted itself
 * since the outage began (a budget starts from zero there, a rate limit is per replica), so the
 * replicas together may admit more than the limits for as long as it lasts. An outage begins with a
 * call the shared store could not decide and ends once it has answered for {@link #RECOVERY} without
 * another failure (a flapping store is one outage); one line is logged when it begins and one when it ends.
 */
public final class FailoverCounterStore implements CounterStore {
    private static final Logger LOG = LoggerFactory.getLogger(FailoverCounterStore.class);
    /** The most settles held for the shared store while it is away. */
    public static final int MAX_PENDING = 100_000;
    /** How long the shared store must answer without a failure before an outage is over. */
    static final java.time.Duration RECOVERY = java.time.Duration.ofSeconds(2);

    private final CounterStore shared;
    private final CounterStore local;
    private final BooleanSupplier fallBack;
    private final Map<String, Instant> localIds = new ConcurrentHashMap<>();
    private final Deque<Pending> pending = new ArrayDeque<>();
    private final AtomicBoolean down = new AtomicBoolean();
    private final AtomicBoolean replaying = new AtomicBoolean();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile long lastFailureNanos;
    private final ScheduledExecutorService timer;

    private static final Counter PROBE = new Counter("probe", Counter.Kind.CONCURRENT, 1, null);

    private record Pending(String id, List<Charge> actual, Instant now) {}

    /**
     * @param fallBack whether a reserve the shared store cannot decide is decided locally (asked at each one)
     */
    public FailoverCounterStore(CounterStore shared, CounterStore local, BooleanSupplier fallBack) {
        this.shared = shared;
        this.local = local;
        this.fallBack = fallBack;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "finops-governance-replay");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::replay, 1, 1, TimeUnit.SECONDS);
        if (shared instanceof LeasedCounterStore leased) {
            // requests granted on slices never call Redis: its outages show in the slices' own calls
            leased.onLeaseCalls(error -> {
                if (error == null) {
                    up();
                } else if (unwrap(error) instanceof StoreUnavailable) {
                    down(unwrap(error));
                }
            });
        }
    }

    @Override
    public CompletionStage<Decision> reserve(String reservationId, List<Charge> charges, Duration ttl, Instant now) {
        return shared.reserve(reservationId, charges, ttl, now).handle((decision, error) -> {
            if (error == null) {
                up();
                return CompletableFuture.completedFuture(decision);
            }
            Throwable cause = unwrap(error);
            if (!(cause instanceof StoreUnavailable)) {
                return CompletableFuture.<Decision>failedFuture(cause);
            }
            down(cause);
            if (!fallBack.getAsBoolean()) {
                return CompletableFuture.<Decision>failedFuture(cause);
            }
            localIds.put(reservationId, now.plus(ttl));
            return local.reserve(reservationId, charges, ttl, now);
        }).thenCompose(stage -> stage);
    }

    @Override
    public CompletionStage<Void> settle(String reservationId, List<Charge> actual, Instant now) {
        if (localIds.remove(reservationId) != null) {
            queue(new Pending(reservationId, actual, now));
            return local.settle(reservationId, actual, now);
        }
        return shared.settle(reservationId, actual, now).handle((ok, error) -> {
            if (error != null) {
                Throwable cause = unwrap(error);
                if (!(cause instanceof StoreUnavailable)) {
                    throw new CompletionException(cause);
                }
                down(cause);
                queue(new Pending(reservationId, actual, now));
            } else {
                up();
            }
            return null;
        });
    }

    @Override
    public CompletionStage<Map<String, Long>> used(List<Counter> counters, Instant now) {
        return shared.used(counters, now).handle((used, error) -> {
            if (error == null) {
                return CompletableFuture.completedFuture(used);
            }
            Throwable cause = unwrap(error);
            return cause instanceof StoreUnavailable ? local.used(counters, now) : CompletableFuture.<Map<String, Long>>failedFuture(cause);
        }).thenCompose(stage -> stage);
    }

    /** Whether the shared store answers: false from a failure until it has answered for {@link #RECOVERY} without one. */
    public boolean available() {
        return !down.get();
    }

    /** Calls the shared store could not decide. */
    public long failures() {
        return failures.get();
    }

    /** Settles waiting for the shared store. */
    public int pending() {
        synchronized (pending) {
            return pending.size();
        }
    }

    /** Settles dropped because too many were waiting: their spend is lost to the shared store. */
    public long dropped() {
        return dropped.get();
    }

    @Override
    public String mode() {
        return shared.mode();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        replayNow(Duration.ofSeconds(2));
        int left = pending();
        if (left > 0) {
            LOG.atWarn().addKeyValue("settles", left).log("closing with settles the governance store never took; their spend is not in it");
        }
        shared.close();
        local.close();
    }

    @Override
    public String toString() {
        return shared + " (local counters when it does not answer)";
    }

    private void queue(Pending p) {
        synchronized (pending) {
            if (pending.size() >= MAX_PENDING) {
                pending.pollFirst();
                dropped.incrementAndGet();
            }
            pending.addLast(p);
        }
    }

    private void down(Throwable cause) {
        failures.incrementAndGet();
        lastFailureNanos = System.nanoTime();
        if (down.compareAndSet(false, true)) {
            LOG.atWarn().addKeyValue("store", shared.toString()).addKeyValue("error", cause.getMessage())
                    .log("governance store unavailable: " + (fallBack.getAsBoolean()
                            ? "admitting on this gateway's own counters until it returns (onStoreFailure: Allow)"
                            : "refusing governed requests until it returns (onStoreFailure: Deny)"));
        }
    }

    private void up() {
        if (down.get() && System.nanoTime() - lastFailureNanos > RECOVERY.toNanos() && down.compareAndSet(true, false)) {
            LOG.atInfo().addKeyValue("store", shared.toString()).addKeyValue("settles_to_replay", pending())
                    .log("governance store available again");
        }
    }

    /** Sends the waiting settles, oldest first, until one fails; one round at a time. */
    private void replay() {
        try {
            replayNow(Duration.ofSeconds(5));
            if (down.get() && pending() == 0) {
                // no traffic to tell: ask the store whether it is back
                shared.used(List.of(PROBE), Instant.now()).whenComplete((used, error) -> {
                    if (error == null) {
                        up();
                    }
                });
            }
            Instant now = Instant.now();
            localIds.values().removeIf(expiry -> expiry.isBefore(now.minusSeconds(60)));
        } catch (RuntimeException e) {
            LOG.atWarn().setCause(e).log("replaying settles failed");
        }
    }

    private void replayNow(Duration budget) {
        if (!replaying.compareAndSet(false, true)) {
            return;
        }
        try {
            long deadline = System.nanoTime() + budget.toNanos();
            while (System.nanoTime() < deadline) {
                Pending next;
                synchronized (pending) {
                    next = pending.peekFirst();
                }
                if (next == null) {
                    return;
                }
                try {
                    shared.settle(next.id(), next.actual(), next.now()).toCompletableFuture().get(budget.toMillis(), TimeUnit.MILLISECONDS);
                } catch (Exception e) {
                    return;    // still away: the next round tries again
                }
                up();
                synchronized (pending) {
                    if (pending.peekFirst() == next) {
                        pending.pollFirst();
                    }
                }
            }
        } finally {
            replaying.set(false);
        }
    }

    private static Throwable unwrap(Throwable error) {
        Throwable e = error;
        while ((e instanceof CompletionException || e instanceof java.util.concurrent.ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}

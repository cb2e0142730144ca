package ai.finops.governance;

import ai.finops.governance.RedisCounterStore.LeaseReply;
import ai.finops.governance.RedisCounterStore.LeaseStep;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link RedisCounterStore} with leases: a replica takes a slice of a counter's room from Redis and admits
 * requests against it in the process, so that most requests cost no Redis round trip; near a limit it falls
 * back to one exact reservation per request, as the Redis store alone does.
 *
 * <h2>Slices</h2>
 * A request whose every counter has a slice with room for its charge is granted here, at once. Otherwise it is
 * reserved in Redis, exactly as {@link RedisCounterStore} does; and when every counter it charges may be leased
 * (a positive charge, a slice large enough), for each whose slice is gone or less than half left, this replica asks
 * for another one in the background (one script call at a
 * time for all its counters, {@code counters.lua} op {@code lease}), so that under steady traffic the next slice
 * is there before the current one runs out. A slice is:
 * <ul>
 * <li>spend and concurrency: a hold in the counter's hash in Redis ({@code l:<lease id>}), counted against the
 *     limit like a reservation, with its own expiry ({@link Options#leaseTtl()}, 30 s, renewed while it is used):
 *     a replica that dies loses its slices to Redis within that time. The spend settled on a slice is moved from
 *     the hold to the settled total by the next call (every {@link Options#flushEvery()}, 100 ms): one command for
 *     every counter of every request settled meanwhile;</li>
 * <li>requests and tokens per minute: units charged to the GCRA level at once, used here within
 *     {@link Options#rateLeaseTtl()} (1 s), after which what is left is credited back. Units are counted when the
 *     slice is taken, not when a request uses them: a window may see up to a slice and a half more than its limit
 *     per replica (the next slice is taken when half of one is left), while slices are taken (never near the limit,
 *     see below).</li>
 * </ul>
 * A slice is {@code min(limit / share, chargesPerSlice × charge)} (defaults: a hundredth of the limit, 256
 * charges of the request that asks for it), and a counter is leased only when that holds at least
 * {@value #MIN_CHARGES} such charges: a small limit (a budget of a few requests, {@code maxConcurrentRequests: 4},
 * {@code requestsPerMinute: 20}) is never leased, every request of it is exact.
 *
 * <h2>The rule near a limit: exactness wins</h2>
 * Redis grants a slice only when the counter has at least {@code headroom × slice} left (default 4 slices), every
 * reservation and every replica's slice counted, in the same atomic step. A slice refused turns the counter back
 * to exact reservations on this replica for a second at least, and what is left of its slice is returned at once
 * (a replica holding room it cannot use must not make the others refuse). So the total of all slices and
 * reservations never exceeds the limit (a budget is never overspent by more than one reservation, as with exact
 * reservations), and a request is refused only by Redis itself, exactly. Room another replica still holds when a
 * request is refused comes back within a call of that replica (or its slice's expiry): under a burst at the
 * limit, a few requests may be refused that exact reservations would have admitted; never the other way round.
 *
 * <h2>Semantics kept and changed</h2>
 * A request granted here has the semantics of a reservation (its ttl, settle once, spend of a late settle counted
 * once, rates corrected by {@code actual - reserved}, concurrency released), kept in this process; its
 * {@link Granted#remaining()} is this replica's view (what Redis had left at the last call, every slice counted,
 * plus its own slice's room), exact when it is the only replica charging the counter. The ids reserved in
 * Redis are kept until they are settled, so that a retried reserve of one goes to Redis, never to a slice. Ids
 * ended here are remembered for {@code settledMemory} but at most {@value #MAX_ENDED} of them. {@link #used} is what Redis holds
 * (settled spend and exact reservations, never the slices' room) plus this replica's own requests in flight and
 * spend not moved yet. Settles reach Redis within {@code flushEvery}; a call that fails is sent again, the same,
 * until Redis takes it (Redis remembers its id, so it counts once), and {@link #close()} returns every slice and
 * moves the spend left (within two seconds). A crash loses what a crash of the Redis store loses: the spend of
 * requests in flight (bounded by their ttl) plus the spend settled in the last {@code flushEvery}.
 *
 * <h2>Threads</h2>
 * Calls never block: a local grant or settle completes before the call returns; everything else completes on
 * Redis's threads. One lock guards the slices; the background calls run on a timer thread of the store's own.
 */
public final class LeasedCounterStore implements CounterStore {
    private static final Logger LOG = LoggerFactory.getLogger(LeasedCounterStore.class);
    /** A counter is leased only when its slice holds at least this many charges of the request asking for it. */
    static final int MIN_CHARGES = 4;
    /** How many ended local ids are remembered at most. */
    static final int MAX_ENDED = 100_000;
    /** How long a counter whose slice was refused stays with exact reservations. */
    static final long NEAR_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How soon a call that failed is sent again. */
    static final long RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** A spend or concurrency slice is used only while its Redis expiry is further than this ahead. */
    static final long EXPIRY_MARGIN_MICROS = 2_000_000;

    /**
     * @param share           a slice is at most {@code limit / share}
     * @param headroom        a slice is granted only when the counter has at least {@code headroom} slices left
     * @param chargesPerSlice a slice is at most this many charges of the request that asks for it
     * @param leaseTtl        how long Redis keeps a spend or concurrency slice that is not renewed (a replica that died)
     * @param rateLeaseTtl    how long units taken for a rate are used before what is left goes back
     * @param flushEvery      how often settled spend, rate corrections and renewals go to Redis
     * @param idle            a slice unused this long goes back
     */
    public record Options(int share, int headroom, int chargesPerSlice, Duration leaseTtl, Duration rateLeaseTtl, Duration flushEvery,
            Duration idle) {
        public Options {
            if (share < 1 || headroom < 1 || chargesPerSlice < MIN_CHARGES) {
                throw new IllegalArgumentException("share and headroom must be positive, chargesPerSlice at least " + MIN_CHARGES);
            }
            Objects.requireNonNull(leaseTtl, "leaseTtl");
            Objects.requireNonNull(rateLeaseTtl, "rateLeaseTtl");
            Objects.requireNonNull(flushEvery, "flushEvery");
            Objects.requireNonNull(idle, "idle");
            if (leaseTtl.toMillis() < 2 * EXPIRY_MARGIN_MICROS / 1000 || flushEvery.toMillis() < 1 || rateLeaseTtl.toMillis() < 1) {
                throw new IllegalArgumentException("leaseTtl must be at least 4 s, flushEvery and rateLeaseTtl at least 1 ms");
            }
        }

        public static Options defaults() {
            return new Options(100, 4, 256, Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofMillis(100), Duration.ofSeconds(5));
        }

        public Options withShare(int value) {
            return new Options(value, headroom, chargesPerSlice, leaseTtl, rateLeaseTtl, flushEvery, idle);
        }

        public Options withHeadroom(int value) {
            return new Options(share, value, chargesPerSlice, leaseTtl, rateLeaseTtl, flushEvery, idle);
        }

        public Options withLeaseTtl(Duration value) {
            return new Options(share, headroom, chargesPerSlice, value, rateLeaseTtl, flushEvery, idle);
        }

        public Options withIdle(Duration value) {
            return new Options(share, headroom, chargesPerSlice, leaseTtl, rateLeaseTtl, flushEvery, value);
        }
    }

    private final RedisCounterStore redis;
    private final Options options;
    private final String leaseId = UUID.randomUUID().toString();
    private final long memoryMicros;
    private final ScheduledExecutorService timer;

    private final Object lock = new Object();
    // all guarded by lock
    private final Map<String, Lease> leases = new HashMap<>();
    private final Map<String, Local> live = new HashMap<>();
    /** Requests reserved in Redis and not settled yet: a retry of one goes to Redis, never to a slice. */
    private final Map<String, Local> exact = new HashMap<>();
    private final LinkedHashMap<String, Ended> ended = new LinkedHashMap<>();
    /** The call in flight, or the one that failed and is sent again until Redis takes it. */
    private Call call;
    private boolean again;
    private long calls;
    private boolean closing;
    /** The callers' clock: the latest {@code now} given, and when (System.nanoTime). */
    private long baseMicros;
    private long baseNanos;

    /** Told the outcome of every lease call: null when Redis took it, else why not. */
    private volatile java.util.function.Consumer<Throwable> outcomes = e -> { };
    private final AtomicLong localGrants = new AtomicLong();
    private final AtomicLong exactReserves = new AtomicLong();
    private final AtomicLong leaseCalls = new AtomicLong();
    private volatile boolean closed;

    public LeasedCounterStore(RedisCounterStore redis) {
        this(redis, Options.defaults(), DEFAULT_SETTLED_MEMORY);
    }

    /** @param settledMemory how long ids ended here are remembered (at most {@value #MAX_ENDED} of them): the Redis store's */
    public LeasedCounterStore(RedisCounterStore redis, Options options, Duration settledMemory) {
        this.redis = Objects.requireNonNull(redis, "redis");
        this.options = Objects.requireNonNull(options, "options");
        this.memoryMicros = Charges.micros(settledMemory);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "finops-governance-leases");
            t.setDaemon(true);
            return t;
        });
        long every = options.flushEvery().toNanos();
        timer.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.NANOSECONDS);
    }

    // --- the calls

    @Override
    public CompletionStage<Decision> reserve(String reservationId, List<Charge> charges, Duration ttl, Instant now) {
        List<Charge> merged;
        long t;
        long ttlMicros;
        try {
            Charges.id(reservationId);
            ttlMicros = Charges.ttl(ttl);
            t = Charges.now(now);
            merged = Charges.reserved(charges);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        Decision granted;
        boolean kick = false;
        synchronized (lock) {
            if (closing) {
                return redis.reserve(reservationId, charges, ttl, now);
            }
            advance(t);
            expireIfDue(reservationId, t);
            if (live.containsKey(reservationId)) {      // a retried call: granted as it is
                return CompletableFuture.completedFuture(new Granted(reservationId, remaining(merged)));
            }
            if (exact.containsKey(reservationId)) {     // a retried call of one Redis holds: Redis answers it
                return redis.reserve(reservationId, charges, ttl, now);
            }
            Ended e = ended.get(reservationId);
            if (e != null && e.forgetAt > t && e.inRedis) {
                return redis.reserve(reservationId, charges, ttl, now);
            }
            if (e != null && e.forgetAt > t) {
                return CompletableFuture.failedFuture(new IllegalStateException(
                        "reservation " + reservationId + " was settled or expired already; an id is reserved once"));
            }
            granted = grant(reservationId, merged, t, ttlMicros);
            if (leasable(merged)) {
                for (Charge c : merged) {
                    kick |= want(c, t);
                }
            }
        }
        if (kick) {
            sync(t);
        }
        if (granted != null) {
            localGrants.incrementAndGet();
            return CompletableFuture.completedFuture(granted);
        }
        exactReserves.incrementAndGet();
        return redis.reserve(reservationId, charges, ttl, now).thenApply(decision -> {
            if (decision instanceof Granted) {
                synchronized (lock) {
                    exact.put(reservationId, new Local(List.of(), t + ttlMicros, ttlMicros));
                }
            }
            return decision;
        });
    }

    @Override
    public CompletionStage<Void> settle(String reservationId, List<Charge> actual, Instant now) {
        List<Charge> merged;
        long t;
        try {
            Charges.id(reservationId);
            t = Charges.now(now);
            advanceChecked(t);
            merged = Charges.settled(actual);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        synchronized (lock) {
            expireIfDue(reservationId, t);
            Local l = live.remove(reservationId);
            if (l != null) {
                release(l, merged);
                spend(merged);
                end(reservationId, false, t, l.ttl(), false);
                return CompletableFuture.completedFuture(null);
            }
            Local x = exact.remove(reservationId);
            if (x != null) {
                end(reservationId, false, t, x.ttl(), true);
                return redis.settle(reservationId, actual, now);
            }
            Ended e = ended.get(reservationId);
            if (e != null && e.forgetAt > t && e.inRedis) {
                return redis.settle(reservationId, actual, now);
            }
            if (e != null && e.forgetAt > t) {
                if (e.expired) {       // expired unsettled: its spend counts, once
                    spend(merged);
                    end(reservationId, false, t, e.ttl, false);
                }
                return CompletableFuture.completedFuture(null);
            }
        }
        return redis.settle(reservationId, actual, now);
    }

    @Override
    public CompletionStage<Map<String, Long>> used(List<Counter> counters, Instant now) {
        List<Counter> merged;
        long t;
        try {
            merged = Charges.counters(counters);
            t = Charges.now(now);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        Map<String, Long> mine = new HashMap<>();
        CompletionStage<Map<String, Long>> read;
        synchronized (lock) {
            advance(t);
            expireDue(t);
            for (Counter c : merged) {
                Lease l = leases.get(c.key());
                if (l != null) {
                    mine.put(c.key(), switch (c.kind()) {
                        case SPEND -> l.reserved + l.spent;
                        case CONCURRENT -> l.reserved;
                        case REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE -> -Math.max(0, l.free());
                    });
                }
            }
            read = redis.used(counters, now);      // sent after any call of ours: Redis has taken them when it reads
        }
        if (mine.isEmpty()) {
            return read;
        }
        return read.thenApply(used -> {
            Map<String, Long> out = new LinkedHashMap<>(used);
            mine.forEach((k, v) -> out.computeIfPresent(k, (key, u) -> Math.max(0, u + v)));
            return Collections.unmodifiableMap(out);
        });
    }

    @Override
    public String mode() {
        return redis.mode();
    }

    /** Returns every slice and moves the spend left to Redis (within two seconds), then closes the Redis store. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        timer.shutdownNow();
        synchronized (lock) {
            closing = true;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (System.nanoTime() - deadline < 0) {
            CompletableFuture<?> sent;
            synchronized (lock) {
                if (call == null) {
                    Call next = build(clock());
                    if (next == null) {
                        break;
                    }
                    call = next;
                    sent = send(next);
                } else {
                    sent = call.failed ? send(call) : call.sent;
                }
            }
            try {
                sent.get(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Exception e) {
                sleep(50);
            }
        }
        synchronized (lock) {
            if (call != null || leases.values().stream().anyMatch(l -> l.spent > 0)) {
                LOG.atWarn().addKeyValue("store", redis.toString())
                        .log("closing with spend settled on leases that Redis did not take; their slices lapse after their ttl");
            }
        }
        redis.close();
    }

    @Override
    public String toString() {
        return redis + " with leases";
    }

    /**
     * Tells {@code listener} the outcome of every lease call (null: Redis took it; else a {@link StoreUnavailable} or
     * other failure), so that an outage is noticed while requests are granted on slices and none goes to Redis.
     */
    public void onLeaseCalls(java.util.function.Consumer<Throwable> listener) {
        this.outcomes = Objects.requireNonNull(listener, "listener");
    }

    /** Requests granted on a slice, without a Redis call. */
    public long localGrants() {
        return localGrants.get();
    }

    /** Requests reserved in Redis, one by one. */
    public long exactReserves() {
        return exactReserves.get();
    }

    /** Script calls of the leases (slices taken, renewed, returned; spend moved). */
    public long leaseCalls() {
        return leaseCalls.get();
    }

    // --- slices

    /** One counter's slice on this replica, and what the requests granted on it hold and spent. */
    private static final class Lease {
        Counter counter;
        /** Spend and concurrency: the hold in Redis as of the last reply (less what was sent since); rates: units in hand. */
        long held;
        /** Spend and concurrency: what live local reservations hold; rates: units granted from {@link #held}. */
        long reserved;
        /** Spend settled here, not moved to Redis yet. */
        long spent;
        /** Rates: units to charge (positive) or credit (negative) from settles' corrections. */
        long adjust;
        /** Epoch µs: a spend or concurrency hold's expiry in Redis; a rate slice's last use. */
        long expires;
        /** What Redis had left at the last call, every slice counted (this replica's too). */
        long remaining;
        long slice;
        boolean want;
        /** A take is in a call not answered yet. */
        boolean asking;
        boolean giveBack;
        long nearUntil = System.nanoTime();
        long lastUse = System.nanoTime();

        Lease(Counter counter) {
            this.counter = counter;
        }

        long free() {
            return held - reserved - spent;
        }

        boolean rate() {
            return counter.kind() == Counter.Kind.REQUESTS_PER_MINUTE || counter.kind() == Counter.Kind.TOKENS_PER_MINUTE;
        }
    }

    /** A request granted here: its merged charges, until its expiry (epoch µs), and its ttl (µs). */
    private record Local(List<Charge> charges, long expires, long ttl) {}

    /**
     * An id that ended: remembered until {@code forgetAt} (epoch µs); {@code expired} unsettled; {@code inRedis} reserved
     * in Redis, which remembers it too and answers every later call of it.
     */
    private record Ended(long forgetAt, boolean expired, long ttl, boolean inRedis) {}

    /** The grant of a request whose every counter has a usable slice with room, taken from them; null otherwise. */
    private Decision grant(String id, List<Charge> merged, long now, long ttlMicros) {
        if (merged.isEmpty()) {
            return null;
        }
        for (Charge c : merged) {
            Lease l = leases.get(c.counter().key());
            if (l == null || !usable(l, c, now)) {
                return null;
            }
        }
        long t = System.nanoTime();
        Map<String, Long> remaining = new LinkedHashMap<>();
        for (Charge c : merged) {
            Lease l = leases.get(c.counter().key());
            l.reserved += c.amount();
            l.lastUse = t;
            remaining.put(c.counter().key(), l.remaining + l.free());
        }
        live.put(id, new Local(merged, now + ttlMicros, ttlMicros));
        return new Granted(id, Collections.unmodifiableMap(remaining));
    }

    private boolean usable(Lease l, Charge c, long now) {
        if (!same(l.counter, c.counter()) || l.giveBack || l.held <= 0 || l.free() < c.amount()) {
            return false;
        }
        return l.rate() ? now < l.expires : now < l.expires - EXPIRY_MARGIN_MICROS;
    }

    private Map<String, Long> remaining(List<Charge> merged) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Charge c : merged) {
            Lease l = leases.get(c.counter().key());
            out.put(c.counter().key(), l == null ? 0 : l.remaining + l.free());
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Whether every counter a request charges may be leased: a request is granted on slices only when all its
     * counters have one, so slices of some of them alone would hold room no request uses.
     */
    private boolean leasable(List<Charge> merged) {
        for (Charge c : merged) {
            if (c.amount() <= 0 || slice(c.counter(), c.amount()) == 0) {
                return false;     // a charge of 0 asks for no slice, and a request is granted only where every counter has one
            }
        }
        return !merged.isEmpty();
    }

    /** Whether {@code c}'s counter should get a slice now; marks it wanted. */
    private boolean want(Charge c, long now) {
        long amount = c.amount();
        if (amount <= 0) {
            return false;
        }
        long slice = slice(c.counter(), amount);
        if (slice == 0) {
            return false;
        }
        Lease l = leases.computeIfAbsent(c.counter().key(), k -> new Lease(c.counter()));
        if (!same(l.counter, c.counter())) {       // a limit changed: what was taken under the old one goes back
            l.counter = c.counter();
            l.giveBack = true;
            return true;
        }
        l.counter = c.counter();                    // a spend counter's window (its keep) moves with now
        if (l.want || l.asking || l.giveBack || System.nanoTime() - l.nearUntil < 0) {
            return false;
        }
        boolean expiring = l.rate() ? now >= l.expires - Charges.micros(options.rateLeaseTtl()) / 2
                : now >= l.expires - Charges.micros(options.leaseTtl()) / 2;
        if (l.held <= 0 || l.free() < slice / 2 || expiring) {
            l.want = true;
            l.slice = slice;
            return true;
        }
        return false;
    }

    /** Whether a slice taken for {@code a} serves {@code b}: the same limit (and window, for a rate). */
    private static boolean same(Counter a, Counter b) {
        return a.kind() == b.kind() && a.limit() == b.limit()
                && (a.kind() == Counter.Kind.SPEND || a.kind() == Counter.Kind.CONCURRENT || a.window().equals(b.window()));
    }

    /** The slice of a counter for a request charging {@code amount}, or 0 when it is not leased. */
    long slice(Counter counter, long amount) {
        long byShare = counter.limit() / options.share();
        long byCharges = amount > Long.MAX_VALUE / options.chargesPerSlice() ? Long.MAX_VALUE : amount * options.chargesPerSlice();
        long slice = Math.min(byShare, byCharges);
        return amount <= slice / MIN_CHARGES ? slice : 0;
    }

    private void release(Local l, List<Charge> actual) {
        for (Charge r : l.charges()) {
            Lease lease = lease(r.counter());
            switch (r.counter().kind()) {
                case SPEND, CONCURRENT -> lease.reserved -= r.amount();
                case REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE -> {
                    for (Charge a : actual) {
                        if (a.counter().key().equals(r.counter().key())) {
                            lease.adjust += a.amount() - r.amount();
                        }
                    }
                }
            }
        }
    }

    /** Spend settled here: moved to Redis by the next call. */
    private void spend(List<Charge> actual) {
        for (Charge a : actual) {
            if (a.counter().kind() == Counter.Kind.SPEND && a.amount() > 0) {
                lease(a.counter()).spent += a.amount();
            }
        }
    }

    private Lease lease(Counter c) {
        return leases.computeIfAbsent(c.key(), k -> new Lease(c));
    }

    /** Expires every local reservation whose expiry is at or before {@code now}, and forgets the exact ones that expired. */
    private void expireDue(long now) {
        for (Iterator<Map.Entry<String, Local>> it = exact.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Local> e = it.next();
            if (e.getValue().expires() <= now) {
                it.remove();
                end(e.getKey(), true, e.getValue().expires(), e.getValue().ttl(), true);
            }
        }
        for (Iterator<Map.Entry<String, Local>> it = live.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Local> e = it.next();
            if (e.getValue().expires() <= now) {
                it.remove();
                release(e.getValue(), List.of());
                end(e.getKey(), true, e.getValue().expires(), e.getValue().ttl(), false);
            }
        }
    }

    /** Expires the local reservation {@code id} when its expiry is at or before {@code now} (an exact one: forgets it). */
    private void expireIfDue(String id, long now) {
        Local x = exact.get(id);
        if (x != null && x.expires() <= now) {
            exact.remove(id);
            end(id, true, x.expires(), x.ttl(), true);
        }
        Local l = live.get(id);
        if (l != null && l.expires() <= now) {
            live.remove(id);
            release(l, List.of());
            end(id, true, l.expires(), l.ttl(), false);
        }
    }

    /** Remembers {@code id}, ended at {@code at}, for the longer of its ttl and the settled memory. */
    private void end(String id, boolean expired, long at, long ttl, boolean inRedis) {
        ended.remove(id);
        ended.put(id, new Ended(at + Math.max(ttl, memoryMicros), expired, ttl, inRedis));
        if (ended.size() > MAX_ENDED) {
            Iterator<String> oldest = ended.keySet().iterator();
            oldest.next();
            oldest.remove();
        }
    }

    // --- the calls to Redis

    /** One script call: the steps of every counter that had something to send, and their leases. */
    private static final class Call {
        final String id;
        final long now;
        final List<LeaseStep> steps;
        final List<Lease> leases;
        long failedAt;
        boolean failed;
        CompletableFuture<?> sent;

        Call(String id, long now, List<LeaseStep> steps, List<Lease> leases) {
            this.id = id;
            this.now = now;
            this.steps = steps;
            this.leases = leases;
        }
    }

    /** Sends what the slices have to send, at the callers' clock, unless a call is in flight (then once it ends). */
    private void sync() {
        synchronized (lock) {
            sync(clock());
        }
    }

    /** As above, at {@code now}: the instant of the call that asks for a slice. */
    private void sync(long now) {
        synchronized (lock) {
            if (call != null) {
                again = true;
                return;
            }
            Call next = build(now);
            if (next != null) {
                call = next;
                send(next);
            }
        }
    }

    /** The next call: what each slice has to send (its local effects applied now), or null when there is nothing. */
    private Call build(long now) {
        List<LeaseStep> steps = new ArrayList<>();
        List<Lease> touched = new ArrayList<>();
        long t = System.nanoTime();
        long idle = options.idle().toNanos();
        for (Iterator<Lease> it = leases.values().iterator(); it.hasNext(); ) {
            Lease l = it.next();
            boolean unused = t - l.lastUse > idle;
            boolean giveAll = closing || l.giveBack || unused;
            long consume = 0;
            long give = 0;
            long take = 0;
            boolean renew = false;
            if (l.rate()) {
                long back = 0;
                if (l.held > 0 && (giveAll || l.want || now >= l.expires)) {
                    back = Math.max(0, l.free());
                    l.held = 0;
                    l.reserved = 0;
                }
                long net = l.adjust - back;
                consume = Math.max(0, net);
                give = Math.max(0, -net);
                l.adjust = 0;
            } else {
                if (l.spent > 0) {
                    consume = l.spent;
                    l.held -= Math.min(Math.max(l.held, 0), consume);
                    l.spent = 0;
                }
                if (giveAll && l.free() > 0) {
                    give = l.free();
                    l.held -= give;
                }
                renew = l.held > 0 && now >= l.expires - Charges.micros(options.leaseTtl()) / 2;
            }
            if (l.want && !closing && !l.giveBack) {
                take = l.slice;
                l.asking = true;
            }
            l.want = false;
            l.giveBack = false;
            if (consume != 0 || give != 0 || take != 0 || renew) {
                long min = take == 0 ? 0 : (take > Long.MAX_VALUE / options.headroom() ? Long.MAX_VALUE : take * options.headroom());
                steps.add(new LeaseStep(l.counter, consume, give, take, Math.min(min, Charges.MAX)));
                touched.add(l);
            } else if (unused && l.held <= 0 && l.reserved == 0 && l.spent == 0 && l.adjust == 0) {
                it.remove();    // nothing held, nothing owed
            }
        }
        if (steps.isEmpty()) {
            return null;
        }
        return new Call(leaseId + ":" + (++calls), now, List.copyOf(steps), touched);
    }

    private CompletableFuture<?> send(Call c) {
        c.failed = false;
        leaseCalls.incrementAndGet();
        c.sent = redis.lease(c.id, leaseId, options.leaseTtl(), c.steps, Instant.EPOCH.plus(c.now, java.time.temporal.ChronoUnit.MICROS))
                .whenComplete((replies, error) -> done(c, replies, error));
        return c.sent;
    }

    private void done(Call c, List<LeaseReply> replies, Throwable error) {
        try {
            outcomes.accept(error);
        } catch (RuntimeException e) {
            LOG.atWarn().setCause(e).log("a lease call's listener failed");
        }
        boolean kick;
        synchronized (lock) {
            if (call != c) {
                return;
            }
            if (error != null) {
                if (!c.failed && c.failedAt == 0) {
                    LOG.atDebug().addKeyValue("error", String.valueOf(error.getMessage())).log("a lease call failed; it is sent again");
                }
                c.failed = true;
                c.failedAt = System.nanoTime();
                return;
            }
            kick = again;
            again = false;
            call = null;
            long t = System.nanoTime();
            for (int i = 0; i < c.steps.size(); i++) {
                LeaseStep step = c.steps.get(i);
                LeaseReply reply = replies.get(i);
                Lease l = c.leases.get(i);
                l.remaining = reply.remaining();
                if (step.take() > 0) {
                    l.asking = false;
                }
                if (l.rate()) {
                    if (reply.taken() > 0) {
                        l.held += reply.taken();
                        l.expires = c.now + Charges.micros(options.rateLeaseTtl());
                    }
                } else {
                    l.held = reply.hold();
                    if (l.held > 0) {
                        l.expires = c.now + Charges.micros(options.leaseTtl());
                    }
                }
                if (step.take() > 0 && reply.taken() == 0) {
                    // near the limit: exact reservations from now on, and what this replica holds goes back
                    l.nearUntil = t + NEAR_BACKOFF_NANOS;
                    l.giveBack = true;
                    kick = true;
                }
            }
        }
        if (kick && !closed) {
            sync();
        }
    }

    /** Every {@code flushEvery}: expired local reservations, ids to forget, a failed call again, then what there is to send. */
    private void tick() {
        try {
            synchronized (lock) {
                long now = clock();
                expireDue(now);
                for (Iterator<Ended> it = ended.values().iterator(); it.hasNext(); ) {
                    if (it.next().forgetAt() > now) {
                        break;      // in the order they ended: roughly the order they are forgotten
                    }
                    it.remove();
                }
                long t = System.nanoTime();
                if (call != null) {
                    if (call.failed && t - call.failedAt > RETRY_NANOS) {
                        send(call);
                    }
                    return;
                }
            }
            sync();
        } catch (RuntimeException e) {
            LOG.atWarn().setCause(e).log("lease upkeep failed");
        }
    }

    // --- time

    /** Moves the callers' clock to {@code nowMicros} when that is later than it reads (never back). */
    private void advance(long nowMicros) {
        if (baseNanos == 0 || nowMicros > clock()) {
            baseMicros = nowMicros;
            baseNanos = System.nanoTime();
        }
    }

    private void advanceChecked(long nowMicros) {
        synchronized (lock) {
            advance(nowMicros);
        }
    }

    /** The callers' clock now: the latest {@code now} given, plus the time since. */
    private long clock() {
        if (baseNanos == 0) {
            return 0;     // no call yet: nothing to keep either
        }
        return baseMicros + (System.nanoTime() - baseNanos) / 1_000;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package ai.finops.governance;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The counters in Redis, shared by every replica: exact across gateways, as long as Redis answers.
 * Every call is one Lua script ({@code counters.lua}, run with {@code EVALSHA}, and with {@code EVAL}
 * when Redis answers {@code NOSCRIPT}, after a restart or a {@code SCRIPT FLUSH}), so a decision is
 * atomic in Redis: no other call interleaves with it.
 *
 * <h2>Semantics</h2>
 *
 * Those of {@link EmbeddedCounterStore}, stated once in its javadoc for both stores (arguments, time,
 * reservations, settles, how long ids are remembered, the four kinds); {@code CounterStoreContract}
 * holds both to them, to the microsecond. How they are kept here:
 * <ul>
 * <li>Time is the {@code now} the caller passes, in epoch microseconds, never Redis's clock. Every
 * deadline (a reservation's expiry, the instant an ended id is forgotten, the end of a spend counter)
 * is stored as such an instant and compared with the {@code now} of each call; the keys' TTLs only
 * collect what no longer counts, a minute after ({@code GRACE}).</li>
 * <li>The script computes in Lua numbers (doubles). Every integer it handles stays within
 * 2<sup>53</sup> − 1, which is why the shared argument rules bound limits, windows, {@code now} and
 * settled amounts there: its arithmetic is then exact, and every number it gives Redis is written out
 * in full. A reserved amount above the limit may be larger: it is only compared, and refused. A level
 * rescaled to another window is exact while the windows' product (in µs²) stays below 2<sup>53</sup>
 * (two windows of up to a minute and a half).</li>
 * <li>A reservation's expiry is applied per counter, by the next call that touches it (its ids and
 * amounts leave the counter's running total then), so all calls agree as long as their instants come
 * in order; see Clocks for instants that do not.</li>
 * </ul>
 *
 * <h2>Clocks</h2>
 *
 * Expiries and rate levels are written with the clock of the replica that made the call and compared
 * with the clock of the next one, so replicas' clocks must be synchronized (NTP). A replica whose clock
 * is {@code d} ahead of the others sees their reservations expire {@code d} early (a crashed gateway's
 * spend is released sooner) and their rate limits refill {@code d} early (up to {@code d / interval}
 * more units pass through it); what it writes holds {@code d} longer for the others. A replica behind
 * is the mirror image: stricter for itself. Skews of milliseconds do not matter for limits counted in
 * minutes and months; a skew of seconds loosens a per-minute limit by that many seconds' worth.
 *
 * <h2>Keys</h2>
 *
 * Every key starts with the hash tag of {@link Options#keyTag()}, {@code {finops}:} by default, so all
 * of them are in one Redis Cluster slot and one script may touch any combination of counters: a
 * request's counters belong to different scopes (key, team, budget) and could not share a tag taken from
 * their own names, and a settle must find counters that only the reservation record names. The price is
 * that, in a Cluster, all the counters of one tag live on one shard: one script per request and one per
 * settle, which a single shard serves far beyond a gateway's request rate. Gateways that never share
 * counters (one namespace each) may take a tag each ({@code finops:<namespace>}) to spread over shards.
 * For a counter with key {@code K} (times in epoch µs, durations in µs):
 * <pre>
 * {tag}:c:K:sum       SPEND and CONCURRENT, hash: i:ID -> "amount expiry" of each live reservation,
 *                     _sum (their total), _next (a lower bound of their earliest expiry, empty for
 *                     none: the expired ones are dropped by the first call at or after it), _last
 *                     (the latest expiry any had); for SPEND also total (settled micro-dollars) and
 *                     until (the instant from which the total counts as zero, or "ever" for a counter
 *                     without a window)
 * {tag}:c:K:rate      REQUESTS/TOKENS_PER_MINUTE, hash: level (units × window), last (the latest now it
 *                     was updated at) and window (the window the level is counted in)
 * {tag}:r:ID          hash: what reservation ID holds (per counter, c:K -> "kind limit window amount"),
 *                     _exp (its expiry), _ttl and _forget (the instant its id is forgotten); once
 *                     settled, _settled 1, _ttl and _forget
 * </pre>
 * One counter is one hash, read once and written once by a call, so that a request's reservation and
 * its settle cost Redis a few commands per counter; the layout trades a scan of a counter's live
 * reservations, when one of them has expired unsettled (a gateway that died), for never keeping them
 * sorted.
 * Every key has a TTL: the time its content counts, at the caller's clock, plus {@code GRACE} for
 * clocks and slow calls. {@code :sum} until the later of {@code until} and {@code _last}; {@code :rate} until its level has drained at its limit, a
 * window at least; {@code r:ID} until {@code _forget}. The one exception is the hash of a spend counter
 * without a window (a {@code Total} budget), kept for ever as the semantics say: it has no TTL. What Redis
 * forgets is forgotten here: a Redis without persistence (AOF) or a replica to fail over to starts every
 * budget of the period from zero after a restart.
 *
 * <h2>Threads and failures</h2>
 *
 * Nothing here blocks: calls are sent on Lettuce's I/O threads, and their stages complete there (or on
 * Lettuce's executor when the timeout fires), never on the caller's thread; callers resume on their own
 * event loop ({@code thenAcceptAsync(..., loop)}). Every call completes within {@link Options#timeout()}
 * (default {@value #DEFAULT_TIMEOUT_MILLIS} ms): a Redis that is down, unreachable, frozen or slow
 * completes it exceptionally with {@link StoreUnavailable}, never later, so a sick Redis cannot stall
 * traffic. Its effect is then unknown (see {@link StoreUnavailable}). While the connection is down,
 * calls are refused at once; Lettuce reconnects in the background (10 ms, doubling to 1 s between
 * attempts), and a first connection that failed is tried again by a later call (at most every
 * 200 ms). Arguments that break the shared rules fail the call with {@link IllegalArgumentException}
 * before anything is sent.
 */
public final class RedisCounterStore implements CounterStore {
    static final long DEFAULT_TIMEOUT_MILLIS = 50;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(DEFAULT_TIMEOUT_MILLIS);
    public static final String DEFAULT_KEY_TAG = "finops";
    /** For the TCP connect and the handshake (HELLO, AUTH), which no request waits for. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    private static final long CONNECT_RETRY_MILLIS = 200;
    /** Commands waiting to be written or answered on the connection; beyond, a call is refused at once. */
    private static final int REQUEST_QUEUE = 16_384;
    /** What the script adds to every key's TTL past the instant its content stops counting ({@code GRACE_MS}). */
    static final Duration GRACE = Duration.ofMinutes(1);

    static final String SCRIPT = script();
    static final String SCRIPT_SHA = sha1(SCRIPT);

    /**
     * @param timeout       the most any call takes before it completes with {@link StoreUnavailable}
     * @param password      the password (from a Secret), or null for the URL's own, if any; given apart, it
     *                      replaces the URL's, and the URL's user info names the ACL user, if any
     *                      ({@code redis://gateway@host})
     * @param keyTag        the Cluster hash tag every key starts with, without braces
     * @param settledMemory how long an id that ended (settled, or expired unsettled) is remembered at least, so that
     *                      settling it again changes nothing and reserving it again fails (see {@link EmbeddedCounterStore})
     * @param trustedCertificates PEM file of the certificates that a {@code rediss://} server's chain must end in;
     *                      null for the JVM's default trust store
     */
    public record Options(Duration timeout, String password, String keyTag, Duration settledMemory, Path trustedCertificates) {
        public Options {
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(keyTag, "keyTag");
            Objects.requireNonNull(settledMemory, "settledMemory");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive: " + timeout);
            }
            if (keyTag.isEmpty() || keyTag.contains("{") || keyTag.contains("}")) {
                throw new IllegalArgumentException("keyTag must be non-empty, without braces: " + keyTag);
            }
            if (settledMemory.compareTo(Duration.of(1, ChronoUnit.MICROS)) < 0
                    || settledMemory.compareTo(Duration.of(Charges.MAX, ChronoUnit.MICROS)) > 0) {
                throw new IllegalArgumentException("settledMemory must be from 1 µs to 2^53 - 1 µs: " + settledMemory);
            }
        }

        public static Options defaults() {
            return new Options(DEFAULT_TIMEOUT, null, DEFAULT_KEY_TAG, DEFAULT_SETTLED_MEMORY, null);
        }

        public Options withTimeout(Duration value) {
            return new Options(value, password, keyTag, settledMemory, trustedCertificates);
        }

        public Options withPassword(String value) {
            return new Options(timeout, value, keyTag, settledMemory, trustedCertificates);
        }

        public Options withKeyTag(String value) {
            return new Options(timeout, password, value, settledMemory, trustedCertificates);
        }

        public Options withSettledMemory(Duration value) {
            return new Options(timeout, password, keyTag, value, trustedCertificates);
        }

        public Options withTrustedCertificates(Path value) {
            return new Options(timeout, password, keyTag, settledMemory, value);
        }

        @Override
        public String toString() {
            return "Options[timeout=" + timeout + ", password=" + (password == null ? "none" : "***") + ", keyTag=" + keyTag
                    + ", settledMemory=" + settledMemory + ", trustedCertificates=" + trustedCertificates + "]";
        }
    }

    private final Options options;
    private final String prefix;
    private final String where;
    private final RedisURI uri;
    private final ClientResources resources;
    /**
     * Every call's deadline. A wheel, not a scheduled executor: arming and cancelling a deadline only
     * queue it, never wake another thread, where a scheduled task would wake one twice per call.
     */
    private final HashedWheelTimer deadlines = new HashedWheelTimer(r -> {
        Thread t = new Thread(r, "finops-redis-deadlines");
        t.setDaemon(true);
        return t;
    }, 5, TimeUnit.MILLISECONDS, 256);
    private final RedisClient client;
    /** One per event loop of the caller's: what was asked on it during its current turn; none without loops. */
    private final List<Batch> batches;
    private final AtomicReference<CompletableFuture<StatefulRedisConnection<String, String>>> connection = new AtomicReference<>();
    private volatile long connectFailedAt;
    private volatile boolean closed;

    /** A store at {@code url} ({@code redis://host:port}, {@code rediss://} for TLS) with the default options. */
    public RedisCounterStore(String url) {
        this(url, Options.defaults());
    }

    /**
     * A store at {@code url}: {@code redis://[[user]:password@]host[:port][/database]}, {@code rediss://}
     * for TLS (the server's certificate and host name are verified), or Lettuce's other URL forms. It
     * starts connecting at once, in the background; calls made before the connection is up wait for it,
     * within their timeout.
     */
    public RedisCounterStore(String url, Options options) {
        this(url, options, null);
    }

    /**
     * As above, with the connection on one of {@code eventLoops} (the caller's own, say a gateway's) instead of
     * Lettuce's threads: a call made on that loop is written and answered there, with no hand-off to another
     * thread. The store never shuts them down. Null: Lettuce's own threads.
     *
     * <p>With loops, the settles asked on one of them during one of its turns (the responses it read from one
     * poll of its sockets) go to Redis together, as one script call at the end of the turn, taken in the order
     * asked: under load, Redis and the gateway handle one command for many settles, and no settle waits for
     * another turn. Reservations go at once, each on its own.
     */
    public RedisCounterStore(String url, Options options, io.netty.channel.EventLoopGroup eventLoops) {
        this.options = Objects.requireNonNull(options, "options");
        this.prefix = "{" + options.keyTag() + "}:";
        this.uri = RedisURI.create(Objects.requireNonNull(url, "url"));
        if (options.password() != null) {
            String username = username(url);
            if (username == null) {
                uri.setAuthentication(options.password());
            } else {
                uri.setAuthentication(username, options.password());
            }
        }
        uri.setTimeout(CONNECT_TIMEOUT);
        this.where = (uri.isSsl() ? "rediss://" : "redis://") + (uri.getHost() == null ? "sentinel" : uri.getHost() + ":" + uri.getPort());
        ClientOptions.Builder clientOptions = ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .requestQueueSize(REQUEST_QUEUE)
                .timeoutOptions(TimeoutOptions.enabled(options.timeout()))
                .socketOptions(SocketOptions.builder().connectTimeout(CONNECT_TIMEOUT).tcpNoDelay(true).keepAlive(true).build());
        if (options.trustedCertificates() != null) {
            clientOptions.sslOptions(SslOptions.builder().jdkSslProvider().trustManager(options.trustedCertificates().toFile()).build());
        }
        DefaultClientResources.Builder builder = DefaultClientResources.builder();
        if (eventLoops != null) {
            builder.eventLoopGroupProvider(new SharedEventLoops(eventLoops));
        }
        this.resources = builder
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                .build();
        try {
            this.client = RedisClient.create(resources, uri);
            this.client.setOptions(clientOptions.build());
        } catch (RuntimeException e) {
            resources.shutdown(0, 0, TimeUnit.SECONDS);
            deadlines.stop();
            throw e;
        }
        List<Batch> perLoop = new ArrayList<>();
        if (eventLoops != null) {
            for (io.netty.util.concurrent.EventExecutor loop : eventLoops) {
                perLoop.add(new Batch(loop));
            }
        }
        this.batches = List.copyOf(perLoop);
        CompletableFuture<StatefulRedisConnection<String, String>> first = new CompletableFuture<>();
        connection.set(first);
        connect(first);
    }

    @Override
    public CompletionStage<Decision> reserve(String reservationId, List<Charge> charges, Duration ttl, Instant now) {
        List<Charge> merged;
        List<String> keys = new ArrayList<>();
        List<String> args;
        try {
            String id = Charges.id(reservationId);
            long ttlMicros = Charges.ttl(ttl);
            long t = Charges.now(now);
            merged = Charges.reserved(charges);
            keys.add(recordKey(id));
            args = new ArrayList<>(List.of("reserve", Long.toString(t), prefix, id, Long.toString(ttlMicros), memory()));
            addCounters(merged, keys, args);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return run(keys, args).thenApply(reply -> decision(reservationId, merged, reply));
    }

    @Override
    public CompletionStage<Void> settle(String reservationId, List<Charge> actual, Instant now) {
        List<String> keys = new ArrayList<>();
        List<String> args;
        try {
            String id = Charges.id(reservationId);
            long t = Charges.now(now);
            List<Charge> merged = Charges.settled(actual);
            keys.add(recordKey(id));
            args = new ArrayList<>(List.of("settle", Long.toString(t), prefix, id, "0", memory()));
            addCounters(merged, keys, args);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return later(keys, args).thenApply(reply -> null);
    }

    @Override
    public CompletionStage<Map<String, Long>> used(List<Counter> counters, Instant now) {
        List<Charge> merged;
        List<String> keys = new ArrayList<>();
        List<String> args;
        try {
            merged = Charges.counters(counters).stream().map(c -> new Charge(c, 0)).toList();
            args = new ArrayList<>(List.of("used", Long.toString(Charges.now(now)), prefix, "", "0", "0"));
            addCounters(merged, keys, args);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (merged.isEmpty()) {
            return CompletableFuture.completedFuture(Map.of());
        }
        return run(keys, args).thenApply(reply -> {
            Map<String, Long> used = new LinkedHashMap<>();
            for (int i = 0; i < merged.size(); i++) {
                used.put(merged.get(i).counter().key(), number(reply.get(i)));
            }
            return Collections.unmodifiableMap(used);
        });
    }

    /**
     * One step of a replica's lease on one counter ({@code counters.lua}, op {@code lease}): first {@code consume}
     * (spend: moved from the hold to the settled total, counted even when the hold is gone; a rate: units charged),
     * then {@code give} (returned from the hold; a rate: units credited), then {@code take} (added to the hold, or
     * charged to a rate, only when the counter has at least {@code max(min, take)} left, every lease counted).
     */
    record LeaseStep(Counter counter, long consume, long give, long take, long min) {}

    /** What a {@link LeaseStep} did: {@code taken} (0: refused), the hold after it, what the counter has left, every lease counted. */
    record LeaseReply(long taken, long hold, long remaining) {}

    /**
     * Runs the steps of lease {@code leaseId} as one script call, remembered as {@code callId}: the same call sent
     * again (after a timeout) changes nothing more and only reports. A hold left is kept until {@code now + ttl}.
     */
    CompletableFuture<List<LeaseReply>> lease(String callId, String leaseId, Duration ttl, List<LeaseStep> steps, Instant now) {
        List<String> keys = new ArrayList<>();
        List<String> args;
        try {
            args = new ArrayList<>(List.of("lease", Long.toString(Charges.now(now)), prefix, Charges.id(callId),
                    Long.toString(Charges.ttl(ttl)), memory(), Integer.toString(steps.size()), leaseId));
            keys.add(recordKey(callId));
            for (LeaseStep step : steps) {
                Counter c = step.counter();
                addCounter(c, args);
                args.add(Long.toString(step.consume()));
                args.add(Long.toString(step.give()));
                args.add(Long.toString(step.take()));
                args.add(Long.toString(step.min()));
                keys.addAll(keysOf(c));
            }
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return run(keys, args).thenApply(reply -> {
            List<LeaseReply> out = new ArrayList<>(steps.size());
            for (int i = 0; i < steps.size(); i++) {
                out.add(new LeaseReply(number(reply.get(3 * i)), number(reply.get(3 * i + 1)), number(reply.get(3 * i + 2))));
            }
            return out;
        });
    }

    @Override
    public String mode() {
        return "redis";
    }

    /** Closes the connection and stops Lettuce's threads (waiting up to about two seconds); later calls fail. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        deadlines.stop();
        Future<Boolean> stopped = resources.shutdown(0, 2, TimeUnit.SECONDS);
        try {
            stopped.get(3, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // the threads stop on their own
        }
    }

    @Override
    public String toString() {
        return "RedisCounterStore[" + where + ", tag {" + options.keyTag() + "}]";
    }

    // --- calls

    /**
     * A settle: batched with the others of this turn when asked on one of the caller's loops, else run alone.
     * Reservations are never batched: a request waits for its own, and one sent at once is answered soonest.
     */
    private CompletableFuture<List<Object>> later(List<String> keys, List<String> args) {
        for (Batch batch : batches) {
            if (batch.loop.inEventLoop()) {
                return batch.add(keys, args);
            }
        }
        return run(keys, args);
    }

    /** The settles asked on one loop during its current turn, sent when the turn ends (or when there are many). */
    private final class Batch implements Runnable {
        /** Beyond this many settles, the batch goes at once: one script call stays short for Redis. */
        private static final int MOST = 64;

        private final io.netty.util.concurrent.EventExecutor loop;
        private List<String> keys = new ArrayList<>();
        private List<String> args = new ArrayList<>();
        private List<CompletableFuture<List<Object>>> replies = new ArrayList<>();

        Batch(io.netty.util.concurrent.EventExecutor loop) {
            this.loop = loop;
        }

        CompletableFuture<List<Object>> add(List<String> decisionKeys, List<String> decisionArgs) {
            CompletableFuture<List<Object>> reply = new CompletableFuture<>();
            if (replies.isEmpty()) {
                loop.execute(this);    // runs after what the loop is doing now: the end of its turn
            }
            keys.addAll(decisionKeys);
            args.addAll(decisionArgs);
            replies.add(reply);
            if (replies.size() == MOST) {
                run();
            }
            return reply;
        }

        @Override
        public void run() {
            if (replies.isEmpty()) {
                return;
            }
            List<CompletableFuture<List<Object>>> waiting = replies;
            List<String> sentKeys = keys;
            List<String> sentArgs = args;
            keys = new ArrayList<>();
            args = new ArrayList<>();
            replies = new ArrayList<>();
            if (waiting.size() > 1) {
                sentArgs.addAll(0, List.of("batch", Integer.toString(waiting.size())));
            }
            CompletableFuture<List<Object>> sent = RedisCounterStore.this.run(sentKeys, sentArgs);
            sent.whenComplete((reply, e) -> {
                for (int i = 0; i < waiting.size(); i++) {
                    if (e != null) {
                        waiting.get(i).completeExceptionally(e);
                    } else if (waiting.size() == 1) {
                        waiting.get(i).complete(reply);
                    } else {
                        try {
                            waiting.get(i).complete(list(reply.get(i)));
                        } catch (RuntimeException bad) {
                            waiting.get(i).completeExceptionally(bad);
                        }
                    }
                }
            });
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object reply) {
        if (reply instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw new IllegalStateException("unexpected reply from the counters script: " + reply);
    }

    /** Runs the script with {@code keys} and {@code args}; completes within the timeout, or with {@link StoreUnavailable}. */
    private CompletableFuture<List<Object>> run(List<String> keys, List<String> args) {
        if (closed) {
            return CompletableFuture.failedFuture(new StoreUnavailable("the counter store at " + where + " is closed"));
        }
        CompletableFuture<List<Object>> result = new CompletableFuture<>();
        Timeout deadline;
        try {
            deadline = deadlines.newTimeout(
                    t -> result.completeExceptionally(new StoreUnavailable(didNotAnswer())),
                    options.timeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) {    // closed meanwhile
            return CompletableFuture.failedFuture(unavailable(e));
        }
        String[] k = keys.toArray(String[]::new);
        String[] a = args.toArray(String[]::new);
        connection().thenCompose(c -> eval(c.async(), k, a)).whenComplete((reply, e) -> {
            deadline.cancel();
            if (e == null) {
                result.complete(reply);
            } else {
                result.completeExceptionally(unavailable(e));
            }
        });
        return result;
    }

    private static CompletionStage<List<Object>> eval(RedisAsyncCommands<String, String> redis, String[] keys, String[] args) {
        return redis.<List<Object>>evalsha(SCRIPT_SHA, ScriptOutputType.MULTI, keys, args).exceptionallyCompose(e -> {
            if (cause(e) instanceof RedisNoScriptException) {
                return redis.<List<Object>>eval(SCRIPT, ScriptOutputType.MULTI, keys, args);
            }
            return CompletableFuture.failedFuture(e);
        });
    }

    /** The connection, or one being made: a first connection that failed is tried again, at most every 200 ms. */
    private CompletableFuture<StatefulRedisConnection<String, String>> connection() {
        CompletableFuture<StatefulRedisConnection<String, String>> current = connection.get();
        if (current.isCompletedExceptionally() && !closed
                && System.currentTimeMillis() - connectFailedAt >= CONNECT_RETRY_MILLIS) {
            CompletableFuture<StatefulRedisConnection<String, String>> next = new CompletableFuture<>();
            if (connection.compareAndSet(current, next)) {
                connect(next);
                return next;
            }
            return connection.get();
        }
        return current;
    }

    private void connect(CompletableFuture<StatefulRedisConnection<String, String>> target) {
        try {
            client.connectAsync(StringCodec.UTF8, uri).whenComplete((c, e) -> {
                if (e != null) {
                    connectFailedAt = System.currentTimeMillis();
                    target.completeExceptionally(e);
                } else if (closed) {
                    c.closeAsync();
                    target.completeExceptionally(new StoreUnavailable("the counter store at " + where + " is closed"));
                } else {
                    c.async().scriptLoad(SCRIPT);    // ahead of the first call; EVAL stands in when it is not loaded
                    target.complete(c);
                }
            });
        } catch (RuntimeException e) {
            connectFailedAt = System.currentTimeMillis();
            target.completeExceptionally(e);
        }
    }

    private String didNotAnswer() {
        return "Redis at " + where + " did not answer within " + options.timeout().toMillis() + " ms";
    }

    private Throwable unavailable(Throwable e) {
        Throwable c = cause(e);
        if (c instanceof StoreUnavailable) {
            return c;
        }
        if (c instanceof io.lettuce.core.RedisCommandTimeoutException) {    // Lettuce's own timeout, a tick before the wheel's
            return new StoreUnavailable(didNotAnswer(), c);
        }
        return new StoreUnavailable("Redis at " + where + ": " + c.getMessage(), c);
    }

    private static Throwable cause(Throwable e) {
        Throwable c = e;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    // --- arguments and replies

    private Decision decision(String reservationId, List<Charge> charges, List<Object> reply) {
        long code = number(reply.get(0));
        if (code == 1) {
            Map<String, Long> remaining = new LinkedHashMap<>();
            for (int i = 0; i < charges.size(); i++) {
                remaining.put(charges.get(i).counter().key(), number(reply.get(i + 1)));
            }
            return new Granted(reservationId, Collections.unmodifiableMap(remaining));
        }
        if (code == 0) {
            Counter counter = charges.get((int) number(reply.get(1)) - 1).counter();
            long retry = number(reply.get(3));
            return new Refused(counter, number(reply.get(2)), retry < 0 ? null : Duration.of(retry, ChronoUnit.MICROS));
        }
        throw new IllegalStateException("reservation " + reservationId + " was settled or expired already; an id is reserved once");
    }

    private String memory() {
        return Long.toString(Charges.micros(options.settledMemory()));
    }

    /** A counter as the script reads it: key, kind, limit, window. */
    private static void addCounter(Counter c, List<String> args) {
        args.add(c.key());
        args.add(kindCode(c.kind()));
        args.add(Long.toString(c.limit()));
        args.add(Long.toString(switch (c.kind()) {
            case SPEND -> Charges.spendWindow(c);
            case REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE -> Charges.window(c);
            case CONCURRENT -> 0;
        }));
    }

    private void addCounters(List<Charge> charges, List<String> keys, List<String> args) {
        args.add(Integer.toString(charges.size()));
        for (Charge charge : charges) {
            Counter c = charge.counter();
            addCounter(c, args);
            args.add(Long.toString(charge.amount()));
            keys.addAll(keysOf(c));
        }
    }

    /** The keys of {@code counter}, as the script names them. */
    List<String> keysOf(Counter counter) {
        String base = prefix + "c:" + counter.key() + ":";
        return switch (counter.kind()) {
            case SPEND, CONCURRENT -> List.of(base + "sum");
            case REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE -> List.of(base + "rate");
        };
    }

    String recordKey(String reservationId) {
        return prefix + "r:" + reservationId;
    }

    private static String kindCode(Counter.Kind kind) {
        return switch (kind) {
            case SPEND -> "S";
            case REQUESTS_PER_MINUTE -> "R";
            case TOKENS_PER_MINUTE -> "T";
            case CONCURRENT -> "C";
        };
    }

    private static long number(Object value) {
        if (value instanceof Number n) {
            return n.longValue();
        }
        throw new IllegalStateException("unexpected reply from the counters script: " + value);
    }

    /**
     * The user name of the URL when the password is given apart: {@code user} of {@code redis://user@host}
     * or {@code redis://user:ignored@host}; null without one.
     */
    private static String username(String url) {
        try {
            String info = URI.create(url).getRawUserInfo();
            if (info == null) {
                return null;
            }
            int colon = info.indexOf(':');
            String user = colon < 0 ? info : info.substring(0, colon);
            return user.isEmpty() ? null : URLDecoder.decode(user, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String script() {
        try (InputStream in = RedisCounterStore.class.getResourceAsStream("counters.lua")) {
            if (in == null) {
                throw new IllegalStateException("counters.lua is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Lettuce's connections on event loops the caller owns: allocated as they are, never shut down by Lettuce. */
    private record SharedEventLoops(io.netty.channel.EventLoopGroup group) implements io.lettuce.core.resource.EventLoopGroupProvider {
        @Override
        @SuppressWarnings("unchecked")
        public <T extends io.netty.channel.EventLoopGroup> T allocate(Class<T> type) {
            return (T) group;
        }

        @Override
        public int threadPoolSize() {
            int n = 0;
            for (io.netty.util.concurrent.EventExecutor ignored : group) {
                n++;
            }
            return n;
        }

        @Override
        public io.netty.util.concurrent.Future<Boolean> release(io.netty.util.concurrent.EventExecutorGroup eventLoopGroup, long quietPeriod,
                long timeout, TimeUnit unit) {
            return io.netty.util.concurrent.ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
        }

        @Override
        public io.netty.util.concurrent.Future<Boolean> shutdown(long quietPeriod, long timeout, TimeUnit timeUnit) {
            return io.netty.util.concurrent.ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
        }
    }
}

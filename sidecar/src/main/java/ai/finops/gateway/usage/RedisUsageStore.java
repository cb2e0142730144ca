package ai.finops.gateway.usage;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger in Redis, shared by every replica, so any of them answers for all: one hash per UTC day,
 * {@code {finops}:usage:2026-12-07}, whose fields are a row's {@link UsageKey} (its eight parts, each with
 * {@code %} and {@code |} percent-encoded, joined by {@code |}) then {@code |} and a {@link Measure}'s field
 * name, each an integer. A day's hash expires {@link #KEEP_DAYS} days after its last write.
 *
 * <p>A request never waits for Redis: {@link #add} merges into rows pending in this process (at most
 * {@link #MAX_PENDING}; beyond, into the day's {@link UsageKey#OTHER}), and every {@link #FLUSH_EVERY} they
 * are sent, one script call per day ({@code HINCRBY} per field, the day's row cap, {@code EXPIRE}; atomic in
 * Redis). When a call fails, its rows are merged back and sent with the next flush, so an outage delays
 * them rather than losing them; a call that timed out after Redis applied it is counted twice, the price of
 * never dropping cost silently. Close sends what is pending, waiting up to two seconds.
 */
public final class RedisUsageStore implements UsageStore {
    static final Duration FLUSH_EVERY = Duration.ofMillis(250);
    static final Duration TIMEOUT = Duration.ofSeconds(2);
    static final int MAX_PENDING = 20_000;
    private static final Logger LOG = LoggerFactory.getLogger(RedisUsageStore.class);
    static final String SCRIPT = """
            -- KEYS[1] a day's hash; ARGV: ttl seconds, max rows, the other row's identity, the measures' count m,
            -- the m measure names, then per row its identity and its m values
            local day = KEYS[1]
            local max = tonumber(ARGV[2])
            local m = tonumber(ARGV[4])
            local i = 5 + m
            while i <= #ARGV do
              local id = ARGV[i]
              if redis.call('HEXISTS', day, id .. '|requests') == 0 and redis.call('HLEN', day) >= max * m then
                id = ARGV[3]
              end
              for j = 1, m do
                local v = ARGV[i + j]
                if v ~= '0' then
                  redis.call('HINCRBY', day, id .. '|' .. ARGV[4 + j], v)
                end
              end
              i = i + m + 1
            end
            redis.call('EXPIRE', day, ARGV[1])
            return 1
            """;
    static final String SCRIPT_SHA = sha1(SCRIPT);

    private final String prefix;
    private final String where;
    private final RedisURI uri;
    private final ClientResources resources;
    private final RedisClient client;
    private final AtomicReference<CompletableFuture<StatefulRedisConnection<String, String>>> connection = new AtomicReference<>();
    private final AtomicBoolean flushing = new AtomicBoolean();
    private Map<LocalDate, Map<UsageKey, long[]>> pending = new HashMap<>();
    private int pendingRows;
    private volatile boolean closed;
    private volatile long lastWarning;

    /**
     * A ledger in Redis at {@code url}: {@code redis://[[user]:password@]host[:port][/database]}, or
     * {@code rediss://} for TLS (verified against the JVM's trust store). It connects in the background.
     *
     * @param keyTag the Cluster hash tag its keys start with, without braces ({@code finops})
     */
    public RedisUsageStore(String url, String keyTag) {
        this(url, keyTag, null);
    }

    /** @param password the password (from a Secret), replacing the URL's, or null */
    public RedisUsageStore(String url, String keyTag, String password) {
        this.prefix = "{" + Objects.requireNonNull(keyTag, "keyTag") + "}:usage:";
        this.uri = RedisURI.create(Objects.requireNonNull(url, "url"));
        if (password != null) {
            String user = java.net.URI.create(url).getUserInfo();
            if (user != null && !user.isEmpty() && !user.startsWith(":")) {
                uri.setAuthentication(user.contains(":") ? user.substring(0, user.indexOf(':')) : user, password);
            } else {
                uri.setAuthentication(password);
            }
        }
        uri.setTimeout(TIMEOUT);
        this.where = (uri.isSsl() ? "rediss://" : "redis://") + (uri.getHost() == null ? "sentinel" : uri.getHost() + ":" + uri.getPort());
        this.resources = DefaultClientResources.builder()
                .ioThreadPoolSize(2)             // Lettuce's least: asked for one, it logs and takes two
                .computationThreadPoolSize(2)
                .reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                .build();
        try {
            this.client = RedisClient.create(resources, uri);
            this.client.setOptions(ClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .requestQueueSize(1_024)
                    .timeoutOptions(TimeoutOptions.enabled(TIMEOUT))
                    .socketOptions(SocketOptions.builder().connectTimeout(TIMEOUT).tcpNoDelay(true).keepAlive(true).build())
                    .build());
        } catch (RuntimeException e) {
            resources.shutdown(0, 0, TimeUnit.SECONDS);
            throw e;
        }
        connection.set(connect());
        long every = FLUSH_EVERY.toMillis();
        resources.eventExecutorGroup().scheduleWithFixedDelay(this::flush, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public void add(LocalDate day, UsageKey key, long[] values) {
        if (closed) {
            return;
        }
        synchronized (this) {
            merge(day, key, values);
        }
    }

    /** Under the lock. */
    private void merge(LocalDate day, UsageKey key, long[] values) {
        Map<UsageKey, long[]> rows = pending.computeIfAbsent(day, d -> new HashMap<>());
        long[] row = rows.get(key);
        if (row == null) {
            UsageKey target = pendingRows >= MAX_PENDING ? UsageKey.OTHER : key;
            row = rows.get(target);
            if (row == null) {
                row = Measure.zero();
                rows.put(target, row);
                pendingRows++;
            }
        }
        Measure.add(row, values);
    }

    @Override
    public CompletionStage<List<UsageRow>> read(LocalDate from, LocalDate to) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("the usage store at " + where + " is closed"));
        }
        return connection().thenCompose(c -> {
            RedisAsyncCommands<String, String> redis = c.async();
            List<LocalDate> dates = new ArrayList<>();
            List<CompletableFuture<Map<String, String>>> replies = new ArrayList<>();
            for (LocalDate d = from; !d.isAfter(to); d = d.plusDays(1)) {
                dates.add(d);
                replies.add(redis.hgetall(prefix + d).toCompletableFuture());
            }
            return CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new)).thenApply(done -> {
                List<UsageRow> rows = new ArrayList<>();
                for (int i = 0; i < dates.size(); i++) {
                    rows.addAll(rows(dates.get(i), replies.get(i).join()));
                }
                return rows;
            });
        }).exceptionallyCompose(e -> CompletableFuture.failedFuture(
                new IllegalStateException("Redis at " + where + ": " + cause(e).getMessage(), cause(e))));
    }

    @Override
    public String mode() {
        return "redis";
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            for (int i = 0; i < 40 && !flushing.compareAndSet(false, true); i++) {
                Thread.sleep(50);    // a scheduled flush is under way
            }
            send().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.atWarn().addKeyValue("redis", where).addKeyValue("error", String.valueOf(cause(e).getMessage()))
                    .log("usage not written to Redis at close; lost");
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }

    @Override
    public String toString() {
        return "RedisUsageStore[" + where + ", " + prefix + "]";
    }

    /** Sends what is pending, unless a send is under way. */
    private void flush() {
        if (closed || !flushing.compareAndSet(false, true)) {
            return;
        }
        try {
            send().whenComplete((ok, e) -> flushing.set(false));
        } catch (RuntimeException e) {
            flushing.set(false);
        }
    }

    /** Sends the pending rows, one script call per day; those of a call that fails are merged back. */
    private CompletableFuture<Void> send() {
        Map<LocalDate, Map<UsageKey, long[]>> batch;
        synchronized (this) {
            if (pending.isEmpty()) {
                return CompletableFuture.completedFuture(null);
            }
            batch = pending;
            pending = new HashMap<>();
            pendingRows = 0;
        }
        List<CompletableFuture<Void>> calls = new ArrayList<>();
        for (Map.Entry<LocalDate, Map<UsageKey, long[]>> day : batch.entrySet()) {
            String[] keys = {prefix + day.getKey()};
            List<String> args = new ArrayList<>(List.of(Long.toString(Duration.ofDays(KEEP_DAYS).toSeconds()),
                    Integer.toString(MAX_ROWS_PER_DAY), identity(UsageKey.OTHER), Integer.toString(Measure.COUNT)));
            for (Measure m : Measure.ALL) {
                args.add(m.field());
            }
            day.getValue().forEach((key, values) -> {
                args.add(identity(key));
                for (long v : values) {
                    args.add(Long.toString(v));
                }
            });
            String[] a = args.toArray(String[]::new);
            calls.add(connection().thenCompose(c -> eval(c.async(), keys, a)).handle((reply, e) -> {
                if (e != null) {
                    synchronized (this) {
                        day.getValue().forEach((key, values) -> merge(day.getKey(), key, values));
                    }
                    warn(e);
                }
                return null;
            }));
        }
        return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).orTimeout(TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
    }

    private static CompletableFuture<Long> eval(RedisAsyncCommands<String, String> redis, String[] keys, String[] args) {
        return redis.<Long>evalsha(SCRIPT_SHA, ScriptOutputType.INTEGER, keys, args).toCompletableFuture().exceptionallyCompose(e -> {
            if (cause(e) instanceof RedisNoScriptException) {
                return redis.<Long>eval(SCRIPT, ScriptOutputType.INTEGER, keys, args).toCompletableFuture();
            }
            return CompletableFuture.failedFuture(e);
        });
    }

    /** The connection, or one being made; one that failed is made again. */
    private CompletableFuture<StatefulRedisConnection<String, String>> connection() {
        CompletableFuture<StatefulRedisConnection<String, String>> current = connection.get();
        if (current.isCompletedExceptionally() && !closed) {
            CompletableFuture<StatefulRedisConnection<String, String>> next = connect();
            return connection.compareAndSet(current, next) ? next : connection.get();
        }
        return current;
    }

    private CompletableFuture<StatefulRedisConnection<String, String>> connect() {
        try {
            return client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void warn(Throwable e) {
        long now = System.currentTimeMillis();
        if (now - lastWarning >= 60_000) {
            lastWarning = now;
            LOG.atWarn().addKeyValue("redis", where).addKeyValue("error", String.valueOf(cause(e).getMessage()))
                    .log("usage not written to Redis; kept pending in this process and sent again (warned once a minute)");
        }
    }

    // --- the fields of a day's hash

    static String identity(UsageKey key) {
        StringBuilder b = new StringBuilder();
        for (String part : key.fields()) {
            if (!b.isEmpty()) {
                b.append('|');
            }
            b.append(part.replace("%", "%25").replace("|", "%7C"));
        }
        return b.toString();
    }

    /** A day's hash as rows; fields that do not parse are skipped. */
    static List<UsageRow> rows(LocalDate day, Map<String, String> hash) {
        Map<UsageKey, long[]> rows = new HashMap<>();
        Map<String, Measure> byField = new HashMap<>();
        for (Measure m : Measure.ALL) {
            byField.put(m.field(), m);
        }
        hash.forEach((field, value) -> {
            String[] parts = field.split("\\|", -1);
            if (parts.length != 9 || !byField.containsKey(parts[8])) {
                return;
            }
            List<String> key = new ArrayList<>(8);
            for (int i = 0; i < 8; i++) {
                key.add(parts[i].replace("%7C", "|").replace("%25", "%"));
            }
            long v;
            try {
                v = Long.parseLong(value);
            } catch (NumberFormatException e) {
                return;
            }
            rows.computeIfAbsent(UsageKey.of(key), k -> Measure.zero())[byField.get(parts[8]).ordinal()] += v;
        });
        List<UsageRow> out = new ArrayList<>();
        rows.forEach((key, values) -> out.add(new UsageRow(day, key, values)));
        return out;
    }

    private static Throwable cause(Throwable e) {
        Throwable c = e;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

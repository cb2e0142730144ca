package ai.finops.gateway.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The counters in this process: exact for one gateway, every call one step under one lock, every
 * future complete when the call returns. The Redis store keeps the same semantics across replicas;
 * they are stated here once, for both.
 *
 * <h2>Time</h2>
 * Every call's {@code now} is read at microsecond resolution (truncated); durations too. Calls may
 * come from several threads with slightly out-of-order instants: time never runs backwards for a
 * rate counter (an earlier {@code now} than the last one it saw counts as no time passed). Before
 * anything else, each call forgets what has expired at its {@code now}.
 *
 * <h2>Reservations</h2>
 * {@code reserve} charges all the counters or none. Charges of one call on the same key are added
 * together; the counters are checked in the order of their first charge, and a refusal names the
 * first without room. A reservation is live from {@code now} until {@code now + ttl} (exclusive):
 * at that instant it expires, which releases its {@link Counter.Kind#SPEND spend} and its
 * {@link Counter.Kind#CONCURRENT concurrency} and leaves rate counters as they are (what a rate
 * admitted stays admitted). A {@code reserve} with the id of a live reservation charges nothing more
 * and answers {@link Granted} with what its counters have left (a retried call); one with the id of a
 * reservation that expired or was settled, and is still remembered, fails with
 * {@link IllegalStateException}.
 *
 * <p>{@code settle} of an id acts once: the id is then remembered as settled, for the reservation's
 * ttl (for {@link #UNKNOWN_ID_TTL} when the store never saw the reservation or has forgotten it), and
 * settling it again changes nothing. Its actual amounts ({@code actual}; a counter missing there
 * settles at zero):
 * <ul>
 * <li>spend: always added to the counter's settled total, whether the reservation is live, expired
 *     or unknown: that money was spent, and a late settle must count it; what a live reservation held
 *     is dropped at the same step. An expired reservation's id is remembered for one more ttl after
 *     its expiry, so its late settle still counts once.</li>
 * <li>rates and concurrency: adjusted only when the reservation is live (an expired one released its
 *     concurrency already, and its rates stand as reserved).</li>
 * </ul>
 *
 * <h2>The four kinds</h2>
 * <ul>
 * <li>{@link Counter.Kind#SPEND}: {@code used = settled + sum of live reservations}; a charge fits
 *     when {@code used + amount <= limit}. {@code remaining} is {@code limit - used} after the
 *     reservation. A refusal has no {@code retryAfter}: waiting does not help. The counter is kept
 *     until the latest {@code now + window} of the calls that charged or settled it (so the caller's
 *     {@code window} reaches from {@code now} past its period's end: see {@link Periods}); from then
 *     its settled total counts as zero and the counter is forgotten.</li>
 * <li>{@link Counter.Kind#REQUESTS_PER_MINUTE}, {@link Counter.Kind#TOKENS_PER_MINUTE}: GCRA, in its
 *     continuous-state leaky-bucket form with exact integer arithmetic. With {@code L = limit} and
 *     {@code W = window} in microseconds, the counter holds a level {@code x} in units of
 *     {@code 1/W} unit (i.e. {@code x = units * W}) and the instant {@code t} it was last updated; at
 *     {@code now} the level has drained to {@code x' = max(0, x - (now - t) * L)}: the emission
 *     interval is exactly {@code W / L} per unit and the burst tolerance {@code W}. A charge of
 *     {@code n} fits when {@code x' + n*W <= L*W} (so at most {@code L} units at once, refilling
 *     continuously); when it does not, {@code retryAfter = ceil((x' + n*W - L*W) / L)} microseconds,
 *     the first instant at which it would fit, or null when {@code n > L} (it never will).
 *     {@code used = ceil(x' / W)}, {@code remaining = floor((L*W - x') / W)} (the units still
 *     admissible now). Settle adds {@code (actual - reserved) * W} to the drained level, never below
 *     zero: a credit gives back room now, never more than a full bucket. {@code L*W} and every level
 *     must fit in a signed 64-bit integer here (for a one-minute window: limits up to 1.5e11); a Lua
 *     script on Redis computes in doubles, exact to 2^53: limits up to 1.5e8 per minute.</li>
 * <li>{@link Counter.Kind#CONCURRENT}: the number in flight; a charge of {@code n} (normally 1) fits
 *     when {@code inFlight + n <= limit}; settle and expiry release it. No {@code retryAfter}.</li>
 * </ul>
 *
 * <h2>Persistence</h2>
 * With a {@code dataDir}, the settled spend totals (key, total, expiry) survive a restart: a
 * background thread writes them to {@value #FILE_NAME} at most once a second when they changed
 * (a temporary file, forced to disk, then moved over the old one atomically), and {@link #close()}
 * writes them a last time; the constructor reads them back. Reservations and rate and concurrency
 * counters are not kept: they expire or refill within minutes anyway. What a crash loses: the spend
 * settled in the last second before it, plus what the requests in flight at that moment had spent
 * (they never settle); a clean stop that closes the store after its last settle loses nothing.
 * Settles after {@link #close()} still count in memory but are not written.
 */
public final class EmbeddedCounterStore implements CounterStore {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedCounterStore.class);

    /** How long the id of a reservation the store does not know is remembered once settled. */
    public static final Duration UNKNOWN_ID_TTL = Duration.ofHours(1);
    /** The file of settled spend in {@code dataDir}. */
    public static final String FILE_NAME = "spend-counters.json";
    private static final int FORMAT = 1;
    /** How often (in the callers' time) idle counters are looked for and dropped. */
    private static final long SWEEP_EVERY_MICROS = 60_000_000L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final ScheduledExecutorService writer;

    // all guarded by this
    private final Map<String, Spend> spend = new HashMap<>();
    private final Map<String, Rate> rates = new HashMap<>();
    private final Map<String, long[]> inFlight = new HashMap<>();
    private final Map<String, Reservation> live = new HashMap<>();
    private final Map<String, Ended> ended = new HashMap<>();
    private final PriorityQueue<Deadline> deadlines = new PriorityQueue<>();
    private long lastSweep = Long.MIN_VALUE;
    private long version;            // bumped whenever a settled spend total changes
    private boolean closed;

    private final Object writing = new Object();
    private long writtenVersion;     // guarded by writing

    /** @param dataDir where settled spend is kept across restarts, or null to keep it in memory only */
    public EmbeddedCounterStore(Path dataDir) {
        if (dataDir == null) {
            file = null;
            writer = null;
            return;
        }
        try {
            Files.createDirectories(dataDir);
            file = dataDir.resolve(FILE_NAME);
            Files.deleteIfExists(temporary());
            load();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the spend counters in " + dataDir + ": " + e.getMessage(), e);
        }
        writer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "spend-counters-writer");
            t.setDaemon(true);
            return t;
        });
        writer.scheduleWithFixedDelay(this::writeQuietly, 1, 1, TimeUnit.SECONDS);
    }

    @Override
    public String mode() {
        return "embedded";
    }

    @Override
    public CompletionStage<Decision> reserve(String reservationId, List<Charge> charges, Duration ttl, Instant now) {
        try {
            return CompletableFuture.completedFuture(reserveNow(reservationId, charges, ttl, now));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletionStage<Void> settle(String reservationId, List<Charge> actual, Instant now) {
        try {
            settleNow(reservationId, actual, now);
            return CompletableFuture.completedFuture(null);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletionStage<Map<String, Long>> used(List<Counter> counters, Instant now) {
        try {
            return CompletableFuture.completedFuture(usedNow(counters, now));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private synchronized Decision reserveNow(String id, List<Charge> charges, Duration ttl, Instant now) {
        if (id == null || charges == null || ttl == null || now == null) {
            throw new IllegalArgumentException("reservation id, charges, ttl and now are required");
        }
        long t = micros(now);
        long ttlMicros = micros(ttl);
        if (ttlMicros <= 0) {
            throw new IllegalArgumentException("ttl must be positive: " + ttl);
        }
        Map<String, Charge> byKey = aggregate(charges);
        expire(t);
        Reservation existing = live.get(id);
        if (existing != null) {
            return new Granted(id, remaining(existing.held.values(), t));
        }
        if (ended.containsKey(id)) {
            throw new IllegalStateException("reservation " + id + " was already used");
        }
        for (Charge c : byKey.values()) {
            Refused refused = check(c, t);
            if (refused != null) {
                return refused;
            }
        }
        for (Charge c : byKey.values()) {
            apply(c, t);
        }
        Reservation r = new Reservation(id, byKey, t + ttlMicros, ttlMicros);
        live.put(id, r);
        deadlines.add(new Deadline(r.expiresAt, id, true));
        return new Granted(id, remaining(byKey.values(), t));
    }

    private synchronized void settleNow(String id, List<Charge> actual, Instant now) {
        if (id == null || actual == null || now == null) {
            throw new IllegalArgumentException("reservation id, actual and now are required");
        }
        long t = micros(now);
        Map<String, Charge> byKey = aggregate(actual);
        expire(t);
        Ended before = ended.get(id);
        if (before != null && before.settled) {
            return;
        }
        for (Charge c : byKey.values()) {
            if (c.counter().kind() == Counter.Kind.SPEND && c.amount() != 0) {
                Spend s = spendAt(c.counter(), t);
                s.settled += c.amount();
                version++;
            }
        }
        Reservation r = live.remove(id);
        long remember;
        if (r != null) {
            for (Charge held : r.held.values()) {
                Charge done = byKey.get(held.counter().key());
                release(held, done == null ? 0 : done.amount(), t);
            }
            remember = r.ttl;
        } else {
            remember = before != null ? before.ttl : micros(UNKNOWN_ID_TTL);
        }
        forgetLater(id, new Ended(true, t + remember, remember));
    }

    private synchronized Map<String, Long> usedNow(List<Counter> counters, Instant now) {
        if (counters == null || now == null) {
            throw new IllegalArgumentException("counters and now are required");
        }
        long t = micros(now);
        expire(t);
        Map<String, Long> out = new LinkedHashMap<>();
        for (Counter c : counters) {
            out.put(c.key(), used(c, t));
        }
        return out;
    }

    // ---- the kinds

    /** Null when {@code c} fits, else why not. Changes nothing. */
    private Refused check(Charge c, long t) {
        Counter counter = c.counter();
        long n = c.amount();
        switch (counter.kind()) {
            case SPEND, CONCURRENT -> {
                long used = used(counter, t);
                return n <= counter.limit() - used ? null : new Refused(counter, used, null);
            }
            case REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE -> {
                long w = window(counter);
                long capacity = Math.multiplyExact(counter.limit(), w);
                long level = level(counter, t);
                if (n > counter.limit()) {
                    return new Refused(counter, ceilDiv(level, w), null);
                }
                long after = Math.addExact(level, n * w);
                if (after <= capacity) {
                    return null;
                }
                return new Refused(counter, ceilDiv(level, w), Duration.of(ceilDiv(after - capacity, counter.limit()), ChronoUnit.MICROS));
            }
            default -> throw new IllegalStateException(counter.kind().name());
        }
    }

    private void apply(Charge c, long t) {
        Counter counter = c.counter();
        switch (counter.kind()) {
            case SPEND -> spendAt(counter, t).reserved += c.amount();
            case REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE -> {
                Rate r = rateAt(counter, t);
                r.level = Math.addExact(r.level, Math.multiplyExact(c.amount(), r.window));
            }
            case CONCURRENT -> inFlight.computeIfAbsent(counter.key(), k -> new long[1])[0] += c.amount();
            default -> throw new IllegalStateException(counter.kind().name());
        }
    }

    /** Undoes what a live reservation held: {@code actual} is what it really used (spend is settled apart). */
    private void release(Charge held, long actual, long t) {
        Counter counter = held.counter();
        switch (counter.kind()) {
            case SPEND -> {
                Spend s = spend.get(counter.key());
                if (s != null) {
                    s.reserved -= held.amount();
                }
            }
            case REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE -> {
                Rate r = rateAt(counter, t);
                r.level = Math.max(0, Math.addExact(r.level, Math.multiplyExact(actual - held.amount(), r.window)));
            }
            case CONCURRENT -> {
                long[] n = inFlight.get(counter.key());
                if (n != null) {
                    n[0] -= held.amount();
                    if (n[0] <= 0) {
                        inFlight.remove(counter.key());
                    }
                }
            }
            default -> throw new IllegalStateException(counter.kind().name());
        }
    }

    private long used(Counter counter, long t) {
        return switch (counter.kind()) {
            case SPEND -> {
                Spend s = spend.get(counter.key());
                yield s == null ? 0 : s.settledAt(t) + s.reserved;
            }
            case REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE -> ceilDiv(level(counter, t), window(counter));
            case CONCURRENT -> {
                long[] n = inFlight.get(counter.key());
                yield n == null ? 0 : n[0];
            }
        };
    }

    private Map<String, Long> remaining(Iterable<Charge> charges, long t) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Charge c : charges) {
            Counter counter = c.counter();
            long left = switch (counter.kind()) {
                case REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE -> {
                    long w = window(counter);
                    yield Math.floorDiv(Math.multiplyExact(counter.limit(), w) - level(counter, t), w);
                }
                case SPEND, CONCURRENT -> counter.limit() - used(counter, t);
            };
            out.put(counter.key(), left);
        }
        return out;
    }

    private Spend spendAt(Counter counter, long t) {
        Spend s = spend.computeIfAbsent(counter.key(), k -> new Spend());
        if (s.expiresAt <= t) {     // forgotten: starts again from zero
            if (s.settled != 0) {
                version++;
            }
            s.settled = 0;
            s.expiresAt = Long.MIN_VALUE;
        }
        long until = counter.window() == null ? Long.MAX_VALUE : saturatedAdd(t, micros(counter.window()));
        s.expiresAt = Math.max(s.expiresAt, until);
        return s;
    }

    /** The drained level of a rate counter at {@code t}, in units of 1/window. */
    private long level(Counter counter, long t) {
        Rate r = rates.get(counter.key());
        return r == null ? 0 : r.levelAt(t, window(counter), counter.limit());
    }

    /** The rate counter, drained to {@code t} and in this counter's window and limit (a changed window rescales its level). */
    private Rate rateAt(Counter counter, long t) {
        long w = window(counter);
        Rate r = rates.computeIfAbsent(counter.key(), k -> new Rate(w, t));
        r.level = r.levelAt(t, w, counter.limit());
        r.window = w;
        r.limit = counter.limit();
        r.last = Math.max(r.last, t);
        return r;
    }

    private static long rescale(long level, long from, long to) {
        return ceilDiv(Math.multiplyExact(level, to), from);
    }

    private static long window(Counter counter) {
        long w = counter.window() == null ? 0 : micros(counter.window());
        if (w <= 0) {
            throw new IllegalArgumentException(counter.key() + ": a rate needs a positive window");
        }
        return w;
    }

    // ---- expiry

    private void expire(long t) {
        Deadline d;
        while ((d = deadlines.peek()) != null && d.at <= t) {
            deadlines.poll();
            if (d.live) {
                Reservation r = live.get(d.id);
                if (r != null && r.expiresAt == d.at) {
                    live.remove(d.id);
                    for (Charge held : r.held.values()) {
                        if (held.counter().kind() == Counter.Kind.SPEND || held.counter().kind() == Counter.Kind.CONCURRENT) {
                            release(held, 0, t);
                        }
                    }
                    forgetLater(d.id, new Ended(false, r.expiresAt + r.ttl, r.ttl));
                }
            } else {
                Ended e = ended.get(d.id);
                if (e != null && e.forgetAt == d.at) {
                    ended.remove(d.id);
                }
            }
        }
        if (lastSweep == Long.MIN_VALUE || t - lastSweep >= SWEEP_EVERY_MICROS) {
            lastSweep = t;
            spend.values().removeIf(s -> s.expiresAt <= t && s.reserved == 0);
            rates.values().removeIf(r -> r.levelAt(t, r.window, r.limit) == 0);
        }
    }

    private void forgetLater(String id, Ended e) {
        ended.put(id, e);
        deadlines.add(new Deadline(e.forgetAt, id, false));
    }

    // ---- persistence

    private Path temporary() {
        return file.resolveSibling(FILE_NAME + ".tmp");
    }

    private void load() throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        JsonNode root = JSON.readTree(file.toFile());
        if (root == null || root.path("format").asInt() != FORMAT || !root.path("counters").isArray()) {
            throw new IOException(file + " is not a spend counters file of format " + FORMAT);
        }
        for (JsonNode n : root.get("counters")) {
            String key = n.path("key").isTextual() ? n.get("key").asText() : null;
            if (key == null || !n.path("settled").isIntegralNumber()) {
                throw new IOException(file + ": a counter without key or settled total: " + n);
            }
            Spend s = new Spend();
            s.settled = n.get("settled").asLong();
            try {
                s.expiresAt = n.hasNonNull("expiresAt") ? micros(Instant.parse(n.get("expiresAt").asText())) : Long.MAX_VALUE;
            } catch (DateTimeParseException e) {
                throw new IOException(file + ": " + key + ": expiresAt is not an instant", e);
            }
            spend.put(key, s);
        }
    }

    private void writeQuietly() {
        try {
            write();
        } catch (IOException | RuntimeException e) {
            log.warn("cannot write the spend counters to {}; will try again", file, e);
        }
    }

    /** Writes the settled totals when they changed since the last write. */
    void write() throws IOException {
        if (file == null) {
            return;
        }
        synchronized (writing) {
            ObjectNode root = JSON.createObjectNode();
            long v;
            synchronized (this) {
                v = version;
                if (v == writtenVersion) {
                    return;
                }
                root.put("format", FORMAT);
                ArrayNode counters = root.putArray("counters");
                spend.forEach((key, s) -> {
                    if (s.settled != 0) {
                        ObjectNode n = counters.addObject();
                        n.put("key", key);
                        n.put("settled", s.settled);
                        if (s.expiresAt != Long.MAX_VALUE) {
                            n.put("expiresAt", instant(s.expiresAt).toString());
                        }
                    }
                });
            }
            Path tmp = temporary();
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                ByteBuffer bytes = ByteBuffer.wrap(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
                while (bytes.hasRemaining()) {
                    ch.write(bytes);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system of " + file + " cannot replace a file atomically", e);
            }
            writtenVersion = v;
        }
    }

    /** Stops the writer and writes the settled totals a last time. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (writer == null) {
            return;
        }
        writer.shutdown();
        try {
            writer.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            write();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the spend counters to " + file, e);
        }
    }

    // ---- helpers

    private static Map<String, Charge> aggregate(List<Charge> charges) {
        Map<String, Charge> byKey = new LinkedHashMap<>();
        for (Charge c : charges) {
            if (c == null || c.counter() == null || c.counter().key() == null || c.counter().kind() == null) {
                throw new IllegalArgumentException("a charge needs a counter with a key and a kind");
            }
            if (c.amount() < 0 || c.counter().limit() < 0) {
                throw new IllegalArgumentException(c.counter().key() + ": amounts and limits are never negative");
            }
            byKey.merge(c.counter().key(), c, (a, b) -> new Charge(a.counter(), Math.addExact(a.amount(), b.amount())));
        }
        return byKey;
    }

    static long micros(Instant i) {
        return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000L), i.getNano() / 1_000);
    }

    static long micros(Duration d) {
        return Math.addExact(Math.multiplyExact(d.getSeconds(), 1_000_000L), d.getNano() / 1_000);
    }

    static Instant instant(long micros) {
        return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    private static final class Spend {
        long settled;
        long reserved;
        long expiresAt = Long.MIN_VALUE;

        long settledAt(long t) {
            return expiresAt <= t ? 0 : settled;
        }
    }

    private static final class Rate {
        long window;
        long limit;
        long level;     // units * window, as of last
        long last;

        Rate(long window, long last) {
            this.window = window;
            this.last = last;
        }

        /** The level at {@code t} in units of 1/{@code w}, drained at {@code l} units per {@code w}. */
        long levelAt(long t, long w, long l) {
            long base = w == window ? level : rescale(level, window, w);
            if (t <= last || base == 0) {
                return base;
            }
            long elapsed = t - last;
            // base - elapsed * l, without overflow for long idle times
            if (l > 0 && elapsed > base / l) {
                return 0;
            }
            return base - elapsed * l;
        }
    }

    private record Reservation(String id, Map<String, Charge> held, long expiresAt, long ttl) {}

    /** A reservation that expired ({@code settled} false) or was settled, remembered until {@code forgetAt}. */
    private record Ended(boolean settled, long forgetAt, long ttl) {}

    private record Deadline(long at, String id, boolean live) implements Comparable<Deadline> {
        @Override
        public int compareTo(Deadline o) {
            return Long.compare(at, o.at);
        }
    }

    @Override
    public String toString() {
        return "EmbeddedCounterStore[" + (file == null ? "memory" : file) + "]";
    }

    /** For tests: the ids still remembered (live, expired or settled). */
    synchronized int rememberedIds() {
        return live.size() + ended.size();
    }
}

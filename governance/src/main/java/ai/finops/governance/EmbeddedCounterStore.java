package ai.finops.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
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
 * future complete when the call returns. {@link RedisCounterStore} keeps the same semantics across
 * replicas; they are stated here once, for both, and {@code CounterStoreContract} holds both stores to
 * them, to the microsecond.
 *
 * <h2>Arguments</h2>
 * Both stores check them alike ({@code Charges}); a call that breaks a rule completes exceptionally
 * with {@link IllegalArgumentException} (it never throws) and changes nothing. A reservation id is a
 * non-empty string; a {@code ttl} is from 1 µs to 2<sup>53</sup> − 1 µs; {@code now} is from 1970 to
 * 2<sup>53</sup> − 1 µs after it (the year 2255). A counter has a non-empty key, a kind and a limit
 * from 0 to 2<sup>53</sup> − 1 (what a Lua number holds exactly, on Redis). A per-minute counter has a
 * window of at least 1 µs, and {@code limit × window} (in µs) is at most 2<sup>53</sup> − 1: for a
 * one-minute window, limits up to 150,119,987. A spend counter's window is null (kept for ever) or at
 * least 1 µs; a concurrency counter's is unused. A reserved amount is any {@code long} from 0 (one above
 * the limit is refused like any other); a settled amount is at most 2<sup>53</sup> − 1. Charges of one
 * call on the same key are added together (a reserve's sum saturates rather than wraps), and the
 * counters are taken in the order of their first charge, with the first charge's limit and window.
 *
 * <h2>Time</h2>
 * Every call's {@code now} is read at microsecond resolution (truncated); durations too. Calls may
 * come from several threads (or replicas) with slightly out-of-order instants: time never runs
 * backwards for a rate counter (an earlier {@code now} than the latest it saw counts as no time
 * passed). What has expired at a call's {@code now} no longer counts for it.
 *
 * <h2>Reservations</h2>
 * {@code reserve} charges all the counters or none; a refusal names the first counter without room.
 * A charge of 0 always fits, on any counter (even one at or past its limit, or with a limit of 0), and
 * holds nothing. A reservation is live from {@code now} until {@code now + ttl} (exclusive): at that
 * instant it expires, which releases its {@link Counter.Kind#SPEND spend} and its
 * {@link Counter.Kind#CONCURRENT concurrency} and leaves rate counters as they are (what a rate
 * admitted stays admitted). A {@code reserve} with the id of a live reservation charges nothing, leaves
 * its expiry as it was and answers {@link Granted} with what the counters it names have left (a
 * retried call); one with the id of a reservation that expired or was settled, while the id is
 * remembered, fails with {@link IllegalStateException}.
 *
 * <p>{@code settle} of an id acts once, whether the reservation is live, expired or unknown to the
 * store (never reserved, refused, or forgotten); settling it again while it is remembered changes
 * nothing. Its actual amounts ({@code actual}):
 * <ul>
 * <li>spend: every {@link Counter.Kind#SPEND} counter of {@code actual} adds its amount to the
 *     counter's settled total, whatever the state of the reservation: that money was spent, and a
 *     late settle must count it. What a live reservation held on its spend counters is dropped at the
 *     same step; a spend counter it held that {@code actual} does not name was spent nothing.</li>
 * <li>concurrency: a live reservation's slots are released, whatever {@code actual} says.</li>
 * <li>rates: only a live reservation's, and only on the rate counters it held. One that {@code actual}
 *     names is corrected by {@code actual - reserved} (a credit when less was used, even down to 0);
 *     one that {@code actual} does not name stays as reserved: a request that was admitted counts as a
 *     request, and tokens nobody counted count as reserved. A rate counter the reservation did not
 *     hold is not charged; an expired reservation's rates stand as reserved.</li>
 * </ul>
 *
 * <p>An id is remembered from its reserve until {@code max(ttl, settledMemory)} after it ended: after
 * its settle, or after its expiry when it expired unsettled ({@code ttl} being its reservation's, or 0
 * when the store did not know it; {@code settledMemory} is {@link #DEFAULT_SETTLED_MEMORY}, 10 minutes,
 * unless the store is made with another). From then on it is forgotten, and new again: a settle of it
 * would count its spend once more, a reserve would be a new reservation. Ids are meant to be unique
 * (a request's own), and a retried call comes within seconds.
 *
 * <h2>The four kinds</h2>
 * <ul>
 * <li>{@link Counter.Kind#SPEND}: {@code used = settled + sum of live reservations}; a charge fits
 *     when {@code used + amount <= limit}. {@code remaining} is {@code limit - used} after the
 *     reservation (negative once late settles took it past its limit). A refusal has no
 *     {@code retryAfter}: waiting does not help. The counter is kept until the latest
 *     {@code now + window} of the granted reserves that charged it and the settles that added to it
 *     (so the caller's {@code window} reaches from {@code now} past its period's end: see
 *     {@link Periods}); a shorter window never shortens it, and a null window keeps it for ever. From
 *     then its settled total counts as zero, and the next charge starts it again from zero.</li>
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
 *     admissible now). A settle's correction adds {@code (actual - reserved) * W} to the drained level,
 *     never below zero and never above 2<sup>53</sup> − 1: a credit gives back room now, never more
 *     than a full bucket; a debt beyond the bucket is kept until it drains. A counter given with
 *     another window than its level was counted in takes the level as the same share of its bucket
 *     ({@code ceil(x * W' / W)}). A limit of 0 holds nothing: the counter reads as empty, admits only
 *     charges of 0, and a call that charges or settles it with that limit empties it.</li>
 * <li>{@link Counter.Kind#CONCURRENT}: the slots in flight; a charge of {@code n} (normally 1) holds
 *     {@code n} slots and fits when {@code inFlight + n <= limit}; settle and expiry release them. No
 *     {@code retryAfter}.</li>
 * </ul>
 *
 * <h2>Persistence</h2>
 * With a {@code dataDir}, the settled spend totals (key, total, expiry) survive a restart: a
 * background thread writes them to {@value #FILE_NAME} at most once a second when they changed
 * (a temporary file, forced to disk, then moved over the old one atomically), and {@link #close()}
 * writes them a last time; the constructor reads them back. Reservations, remembered ids and rate and
 * concurrency counters are not kept: they expire or refill within minutes anyway. What a crash loses:
 * the spend settled in the last second before it, plus what the requests in flight at that moment had
 * spent (they never settle); a clean stop that closes the store after its last settle loses nothing.
 * Settles after {@link #close()} still count in memory but are not written.
 */
public final class EmbeddedCounterStore implements CounterStore {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedCounterStore.class);

    /** The file of settled spend in {@code dataDir}. */
    public static final String FILE_NAME = "spend-counters.json";
    private static final int FORMAT = 1;
    /** How often (in the callers' time) idle counters are looked for and dropped. */
    private static final long SWEEP_EVERY_MICROS = 60_000_000L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final ScheduledExecutorService writer;
    private final long settledMemory;    // micros

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
        this(dataDir, DEFAULT_SETTLED_MEMORY);
    }

    /**
     * @param dataDir       where settled spend is kept across restarts, or null to keep it in memory only
     * @param settledMemory how long an id that ended is remembered at least (see Reservations above)
     */
    public EmbeddedCounterStore(Path dataDir, Duration settledMemory) {
        if (settledMemory == null || settledMemory.compareTo(Duration.of(1, ChronoUnit.MICROS)) < 0
                || settledMemory.compareTo(Duration.of(Charges.MAX, ChronoUnit.MICROS)) > 0) {
            throw new IllegalArgumentException("settledMemory must be from 1 µs to 2^53 - 1 µs: " + settledMemory);
        }
        this.settledMemory = Charges.micros(settledMemory);
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

    private synchronized Decision reserveNow(String reservationId, List<Charge> charges, Duration ttl, Instant now) {
        String id = Charges.id(reservationId);
        long ttlMicros = Charges.ttl(ttl);
        long t = Charges.now(now);
        Map<String, Charge> byKey = byKey(Charges.reserved(charges));
        expire(t);
        if (live.containsKey(id)) {
            return new Granted(id, remaining(byKey.values(), t));
        }
        if (ended.containsKey(id)) {
            throw new IllegalStateException("reservation " + id + " was settled or expired already; an id is reserved once");
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

    private synchronized void settleNow(String reservationId, List<Charge> actual, Instant now) {
        String id = Charges.id(reservationId);
        long t = Charges.now(now);
        Map<String, Charge> byKey = byKey(Charges.settled(actual));
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
        long ttl;
        if (r != null) {
            for (Charge held : r.held.values()) {
                Charge done = byKey.get(held.counter().key());
                switch (held.counter().kind()) {
                    case SPEND, CONCURRENT -> release(held);
                    case REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE -> {
                        if (done != null) {     // missing: stays as reserved
                            correct(held.counter(), done.amount() - held.amount(), t);
                        }
                    }
                    default -> throw new IllegalStateException(held.counter().kind().name());
                }
            }
            ttl = r.ttl;
        } else {
            ttl = before != null ? before.ttl : 0;
        }
        forgetLater(id, new Ended(true, t + memory(ttl), ttl));
    }

    private synchronized Map<String, Long> usedNow(List<Counter> counters, Instant now) {
        List<Counter> checked = Charges.counters(counters);
        long t = Charges.now(now);
        expire(t);
        Map<String, Long> out = new LinkedHashMap<>();
        for (Counter c : checked) {
            out.put(c.key(), used(c, t));
        }
        return out;
    }

    // ---- the kinds

    /** Null when {@code c} fits, else why not. Changes nothing. */
    private Refused check(Charge c, long t) {
        Counter counter = c.counter();
        long n = c.amount();
        if (n == 0) {
            return null;
        }
        switch (counter.kind()) {
            case SPEND, CONCURRENT -> {
                long used = used(counter, t);
                return n <= counter.limit() - used ? null : new Refused(counter, used, null);
            }
            case REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE -> {
                long w = Charges.window(counter);
                long level = level(counter, t);
                if (n > counter.limit()) {
                    return new Refused(counter, ceilDiv(level, w), null);
                }
                long room = counter.limit() * w - n * w;    // both at most 2^53 - 1
                if (level <= room) {
                    return null;
                }
                return new Refused(counter, ceilDiv(level, w), Duration.of(ceilDiv(level - room, counter.limit()), ChronoUnit.MICROS));
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
                r.level += c.amount() * r.window;    // fits: at most limit × window
            }
            case CONCURRENT -> inFlight.computeIfAbsent(counter.key(), k -> new long[1])[0] += c.amount();
            default -> throw new IllegalStateException(counter.kind().name());
        }
    }

    /** Releases what a reservation held on a spend or concurrency counter (spend actually used is settled apart). */
    private void release(Charge held) {
        Counter counter = held.counter();
        switch (counter.kind()) {
            case SPEND -> {
                Spend s = spend.get(counter.key());
                if (s != null) {
                    s.reserved -= held.amount();
                }
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

    /** Adds {@code delta} units to a rate counter's level (a credit when negative): never below zero, never above 2^53 - 1. */
    private void correct(Counter counter, long delta, long t) {
        Rate r = rateAt(counter, t);
        if (counter.limit() == 0) {
            r.level = 0;
        } else if (delta >= 0) {
            r.level = delta > (Charges.MAX - r.level) / r.window ? Charges.MAX : r.level + delta * r.window;
        } else {
            r.level = -delta > r.level / r.window ? 0 : r.level + delta * r.window;
        }
    }

    private long used(Counter counter, long t) {
        return switch (counter.kind()) {
            case SPEND -> {
                Spend s = spend.get(counter.key());
                yield s == null ? 0 : s.settledAt(t) + s.reserved;
            }
            case REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE -> ceilDiv(level(counter, t), Charges.window(counter));
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
                    long w = Charges.window(counter);
                    yield Math.floorDiv(counter.limit() * w - level(counter, t), w);
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
        long until = counter.window() == null ? Long.MAX_VALUE : t + Charges.spendWindow(counter);
        s.expiresAt = Math.max(s.expiresAt, until);
        return s;
    }

    /** The drained level of a rate counter at {@code t}, in units of 1/window. */
    private long level(Counter counter, long t) {
        Rate r = rates.get(counter.key());
        return r == null ? 0 : r.levelAt(t, Charges.window(counter), counter.limit());
    }

    /** The rate counter, drained to {@code t} and in this counter's window and limit (a changed window rescales its level). */
    private Rate rateAt(Counter counter, long t) {
        long w = Charges.window(counter);
        Rate r = rates.computeIfAbsent(counter.key(), k -> new Rate(w, t));
        r.level = r.levelAt(t, w, counter.limit());
        r.window = w;
        r.limit = counter.limit();
        r.last = Math.max(r.last, t);
        return r;
    }

    /** {@code ceil(level × to / from)}, at most 2^53 - 1: a level in units of 1/{@code from} in units of 1/{@code to}. */
    private static long rescale(long level, long from, long to) {
        BigInteger[] qr = BigInteger.valueOf(level).multiply(BigInteger.valueOf(to)).divideAndRemainder(BigInteger.valueOf(from));
        BigInteger up = qr[1].signum() > 0 ? qr[0].add(BigInteger.ONE) : qr[0];
        return up.min(BigInteger.valueOf(Charges.MAX)).longValueExact();
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
                            release(held);
                        }
                    }
                    forgetLater(d.id, new Ended(false, r.expiresAt + memory(r.ttl), r.ttl));
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

    /** How long an id whose reservation had {@code ttl} (0: unknown) is remembered after it ended. */
    private long memory(long ttl) {
        return Math.max(ttl, settledMemory);
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
                s.expiresAt = n.hasNonNull("expiresAt") ? Charges.micros(Instant.parse(n.get("expiresAt").asText())) : Long.MAX_VALUE;
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

    /** The charges (merged already: one per key) by key, in their order. */
    private static Map<String, Charge> byKey(List<Charge> charges) {
        Map<String, Charge> byKey = new LinkedHashMap<>();
        for (Charge c : charges) {
            byKey.put(c.counter().key(), c);
        }
        return byKey;
    }

    static Instant instant(long micros) {
        return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
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
            if (l == 0) {
                return 0;    // a limit of 0 holds nothing
            }
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

package ai.finops.gateway.usage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger in this process: per day, a map of rows, at most {@link #MAX_ROWS_PER_DAY} of them (beyond,
 * into {@link UsageKey#OTHER}, so no cost is lost), for {@link #KEEP_DAYS} days. With a data directory it
 * is read from {@code usage.json} there at start and written back (to a temporary file, then an atomic
 * replace) at most once every {@link #FLUSH_EVERY} when something changed, and on close; without one it
 * lives and dies with the process. A file that does not read is moved aside ({@code usage.json.unreadable})
 * and the ledger starts empty.
 */
public final class EmbeddedUsageStore implements UsageStore {
    static final Duration FLUSH_EVERY = Duration.ofSeconds(5);
    static final String FILE = "usage.json";
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedUsageStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final Clock clock;
    private final int maxRowsPerDay;
    private final TreeMap<LocalDate, Map<UsageKey, long[]>> days = new TreeMap<>();
    private final ScheduledExecutorService flusher;
    private boolean dirty;
    private boolean closed;

    /** @param dataDir where {@code usage.json} is kept; null: in memory only */
    public EmbeddedUsageStore(Path dataDir, Clock clock) {
        this(dataDir, clock, MAX_ROWS_PER_DAY);
    }

    EmbeddedUsageStore(Path dataDir, Clock clock, int maxRowsPerDay) {
        this.clock = clock;
        this.maxRowsPerDay = maxRowsPerDay;
        this.file = dataDir == null ? null : dataDir.resolve(FILE);
        if (file == null) {
            flusher = null;
            return;
        }
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot create the data directory " + dataDir + ": " + e.getMessage(), e);
        }
        load();
        flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "finops-usage-flush");
            t.setDaemon(true);
            return t;
        });
        long every = FLUSH_EVERY.toMillis();
        flusher.scheduleWithFixedDelay(this::flushQuietly, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public void add(LocalDate day, UsageKey key, long[] values) {
        synchronized (this) {
            if (closed) {
                return;
            }
            Map<UsageKey, long[]> rows = days.get(day);
            if (rows == null) {
                if (day.isBefore(oldestKept())) {
                    return;
                }
                rows = new HashMap<>();
                days.put(day, rows);
                prune();
            }
            long[] row = rows.get(key);
            if (row == null) {
                UsageKey target = rows.size() >= maxRowsPerDay ? UsageKey.OTHER : key;
                row = rows.computeIfAbsent(target, k -> Measure.zero());
            }
            Measure.add(row, values);
            dirty = true;
        }
    }

    @Override
    public CompletionStage<List<UsageRow>> read(LocalDate from, LocalDate to) {
        List<UsageRow> out = new ArrayList<>();
        synchronized (this) {
            for (Map.Entry<LocalDate, Map<UsageKey, long[]>> day : days.subMap(from, true, to, true).entrySet()) {
                day.getValue().forEach((key, values) -> out.add(new UsageRow(day.getKey(), key, values.clone())));
            }
        }
        return CompletableFuture.completedFuture(out);
    }

    @Override
    public String mode() {
        return "embedded";
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (flusher != null) {
            flusher.shutdown();
            try {
                flusher.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            flushQuietly();
        }
    }

    /** Writes the ledger to its file now if it changed since the last write. */
    void flush() throws IOException {
        ObjectNode doc;
        synchronized (this) {
            if (!dirty || file == null) {
                return;
            }
            prune();
            doc = document();
            dirty = false;
        }
        Path tmp = file.resolveSibling("." + FILE + ".tmp");
        try {
            JSON.writeValue(tmp.toFile(), doc);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException e) {
            synchronized (this) {
                dirty = true;    // the next flush tries again
            }
            throw e;
        }
    }

    private void flushQuietly() {
        try {
            flush();
        } catch (IOException | RuntimeException e) {
            LOG.atWarn().addKeyValue("file", file).addKeyValue("error", String.valueOf(e.getMessage()))
                    .log("usage ledger not written; kept in memory, tried again later");
        }
    }

    private LocalDate oldestKept() {
        return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC).minusDays(KEEP_DAYS - 1);
    }

    private void prune() {
        days.headMap(oldestKept(), false).clear();
    }

    /** {@code {"version":1,"days":{"2026-12-07":[{"key":[8 strings],"values":{"requests":1,...}}]}}}. */
    private ObjectNode document() {
        ObjectNode doc = JSON.createObjectNode().put("version", 1);
        ObjectNode out = doc.putObject("days");
        days.forEach((day, rows) -> {
            ArrayNode list = out.putArray(day.toString());
            rows.entrySet().stream().sorted(Map.Entry.comparingByKey(UsageKey.ORDER)).forEach(e -> {
                ObjectNode row = list.addObject();
                ArrayNode key = row.putArray("key");
                e.getKey().fields().forEach(key::add);
                ObjectNode values = row.putObject("values");
                for (Measure m : Measure.ALL) {
                    values.put(m.field(), e.getValue()[m.ordinal()]);
                }
            });
        });
        return doc;
    }

    private void load() {
        if (!Files.exists(file)) {
            return;
        }
        try {
            JsonNode doc = JSON.readTree(file.toFile());
            if (doc == null || doc.path("version").asInt() != 1 || !doc.path("days").isObject()) {
                throw new IOException("not a version 1 usage ledger");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = doc.get("days").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> day = it.next();
                LocalDate date = LocalDate.parse(day.getKey());
                for (JsonNode row : day.getValue()) {
                    List<String> key = new ArrayList<>();
                    row.path("key").forEach(k -> key.add(k.asText()));
                    long[] values = Measure.zero();
                    for (Measure m : Measure.ALL) {
                        values[m.ordinal()] = row.path("values").path(m.field()).asLong();
                    }
                    add(date, UsageKey.of(key), values);
                }
            }
            dirty = false;
        } catch (IOException | RuntimeException e) {
            Path aside = file.resolveSibling(FILE + ".unreadable");
            LOG.atError().addKeyValue("file", file).addKeyValue("moved_to", aside).addKeyValue("error", String.valueOf(e.getMessage()))
                    .log("usage ledger file does not read; moved aside, starting empty");
            synchronized (this) {
                days.clear();
            }
            try {
                Files.move(file, aside, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException moveFailed) {
                throw new IllegalStateException("cannot move the unreadable " + file + " aside: " + moveFailed.getMessage(), moveFailed);
            }
        }
    }
}

package ai.finops.gateway.usage;

import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Where the ledger's rows are kept: in this process ({@link EmbeddedUsageStore}) or in Redis, shared by
 * replicas ({@link RedisUsageStore}).
 */
public interface UsageStore extends AutoCloseable {
    /** How many days a store keeps: a day older than that, counted from today, is dropped. */
    int KEEP_DAYS = 400;
    /** The distinct rows a day holds at most; beyond, what comes is added to {@link UsageKey#OTHER}. */
    int MAX_ROWS_PER_DAY = 10_000;

    /**
     * Adds {@code values} (by {@link Measure} ordinal) to {@code key}'s row of {@code day}. Called on an
     * event loop: it never blocks, never throws, and never waits for a store elsewhere.
     */
    void add(LocalDate day, UsageKey key, long[] values);

    /** The rows of the days from {@code from} to {@code to}, both included, in no particular order. */
    CompletionStage<List<UsageRow>> read(LocalDate from, LocalDate to);

    /** {@code embedded} or {@code redis}. */
    String mode();

    /** Writes what is pending (to disk, to Redis), waiting a little for it, then releases the store. */
    @Override
    void close();
}

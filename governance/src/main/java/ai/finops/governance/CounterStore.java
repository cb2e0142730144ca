package ai.finops.governance;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Where governance counters live: in the process ({@code embedded}, exact for one gateway) or in
 * Redis (exact across replicas). Every decision is one atomic step over all the counters a request
 * is charged against, so two replicas can never both take the last of a budget. Calls never block:
 * they complete later, off or on any thread; the caller resumes on its event loop.
 *
 * <p>Amounts are whole units: micro-dollars for spend, tokens, requests, slots. A reservation is held
 * until it is settled or its {@code ttl} passes (a gateway that died between reserve and settle), after
 * which its spend and concurrency no longer count: nothing leaks for longer than the ttl.
 *
 * <p>Every store has the same semantics, down to the microsecond and the edge cases (bad arguments,
 * limits and amounts of 0, ids used again, late and unknown settles, how long ids are remembered):
 * {@link EmbeddedCounterStore}'s javadoc states them once, and {@code CounterStoreContract} is the test
 * every store passes.
 */
public interface CounterStore extends AutoCloseable {

    /**
     * How long an id that ended (settled, or expired unsettled) is remembered at least, unless a store is
     * made with another: settling it again meanwhile changes nothing, reserving it again fails.
     */
    Duration DEFAULT_SETTLED_MEMORY = Duration.ofMinutes(10);

    /**
     * Atomically: when every counter has room for its charge, add all of them under {@code reservationId}
     * and answer {@link Granted}; otherwise add nothing and answer {@link Refused} with the first counter that
     * has no room.
     */
    CompletionStage<Decision> reserve(String reservationId, List<Charge> charges, Duration ttl, Instant now);

    /**
     * Replaces what {@code reservationId} reserved by what was actually used ({@code actual}, the same
     * counters): a spend counter missing there settles at zero, a rate counter missing there stays as
     * reserved (an admitted request counts), {@link Counter.Kind#CONCURRENT} is always released. Spend in
     * {@code actual} counts even after the ttl or for an id the store never saw; rates and concurrency
     * change only while the reservation is live. Settling twice changes nothing more than settling once.
     */
    CompletionStage<Void> settle(String reservationId, List<Charge> actual, Instant now);

    /** What each counter has used now (settled and reserved), by {@link Counter#key()}. */
    CompletionStage<Map<String, Long>> used(List<Counter> counters, Instant now);

    /** {@code embedded} or {@code redis}. */
    String mode();

    @Override
    void close();

    /**
     * One limit as the store keeps it.
     *
     * @param key    unique and stable across replicas and restarts; a budget's key names its period
     *               (e.g. {@code spend:ns/key/dev:2026-12}) so a new period starts from zero
     * @param limit  the most it may hold (micro-dollars, tokens, requests)
     * @param window for the per-minute kinds, the window (one minute); for spend, how long the counter is kept
     *               (its TTL): the store keeps it until the latest {@code now + window} of the calls that charged
     *               or settled it, so the caller's window reaches past its period's end
     *               ({@link Periods.Period#ttl}), or null to keep it for ever; unused for concurrency
     */
    record Counter(String key, Kind kind, long limit, Duration window) {
        public enum Kind {
            /** Micro-dollars spent in a period (the period is in the key). */
            SPEND,
            /** Requests in a sliding minute. */
            REQUESTS_PER_MINUTE,
            /** Tokens in a sliding minute. */
            TOKENS_PER_MINUTE,
            /** Requests in flight: released at settle. */
            CONCURRENT
        }
    }

    record Charge(Counter counter, long amount) {}

    sealed interface Decision permits Granted, Refused {}

    /** @param remaining what each counter has left after this reservation, by key */
    record Granted(String reservationId, Map<String, Long> remaining) implements Decision {}

    /**
     * @param counter    the first counter without room
     * @param used       what it holds now
     * @param retryAfter when it will have room for the charge (per-minute kinds), or null when waiting cannot help (spend)
     */
    record Refused(Counter counter, long used, Duration retryAfter) implements Decision {}
}

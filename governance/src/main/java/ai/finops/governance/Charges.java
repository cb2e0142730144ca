package ai.finops.governance;

import ai.finops.governance.CounterStore.Charge;
import ai.finops.governance.CounterStore.Counter;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The arguments of a {@link CounterStore} call, checked and merged the same way by every store (the
 * rules are in {@link EmbeddedCounterStore}'s javadoc, under Arguments). Every method throws
 * {@link IllegalArgumentException} for an argument that breaks a rule; the stores turn it into a
 * failed stage.
 */
final class Charges {
    /** The largest limit, settled amount or rate level: 2^53 − 1, what a Lua number (a double) holds exactly. */
    static final long MAX = (1L << 53) - 1;
    private static final Duration ONE_MICRO = Duration.of(1, ChronoUnit.MICROS);
    private static final Duration LONGEST = Duration.of(MAX, ChronoUnit.MICROS);
    private static final Instant LAST = Instant.EPOCH.plus(LONGEST);

    private Charges() {}

    /** The charges of a reserve, one per key in first-seen order, amounts of a key added up (saturating: a huge sum is refused, not wrapped). */
    static List<Charge> reserved(List<Charge> charges) {
        return merge(charges, false);
    }

    /** The actual amounts of a settle, one per key in first-seen order, amounts of a key added up; each at most {@link #MAX}. */
    static List<Charge> settled(List<Charge> actual) {
        return merge(actual, true);
    }

    /** The counters of a {@code used} call, one per key in first-seen order. */
    static List<Counter> counters(List<Counter> counters) {
        if (counters == null) {
            throw new IllegalArgumentException("counters are required");
        }
        Map<String, Counter> byKey = new LinkedHashMap<>();
        for (Counter c : counters) {
            check(c);
            byKey.putIfAbsent(c.key(), c);
        }
        return List.copyOf(byKey.values());
    }

    static String id(String reservationId) {
        if (reservationId == null || reservationId.isEmpty()) {
            throw new IllegalArgumentException("a reservation id is required");
        }
        return reservationId;
    }

    /** A reserve's ttl in microseconds: at least one. */
    static long ttl(Duration ttl) {
        if (ttl == null) {
            throw new IllegalArgumentException("a ttl is required");
        }
        if (ttl.compareTo(ONE_MICRO) < 0 || ttl.compareTo(LONGEST) > 0) {
            throw new IllegalArgumentException("ttl must be from 1 µs to 2^53 - 1 µs: " + ttl);
        }
        return micros(ttl);
    }

    /** A call's {@code now} in epoch microseconds (truncated): from 1970 to 2^53 - 1 µs later (in 2255). */
    static long now(Instant now) {
        if (now == null) {
            throw new IllegalArgumentException("now is required");
        }
        if (now.isBefore(Instant.EPOCH) || now.isAfter(LAST)) {
            throw new IllegalArgumentException("now must be from 1970 to 2^53 - 1 µs later: " + now);
        }
        return micros(now);
    }

    /** The window of a per-minute counter in microseconds (checked already: at least one). */
    static long window(Counter counter) {
        return micros(counter.window());
    }

    /** A spend counter's window in microseconds, or 0 for none (kept for ever). */
    static long spendWindow(Counter counter) {
        return counter.window() == null ? 0 : micros(counter.window());
    }

    static long micros(Instant i) {
        return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000L), i.getNano() / 1_000);
    }

    static long micros(Duration d) {
        return Math.addExact(Math.multiplyExact(d.getSeconds(), 1_000_000L), d.getNano() / 1_000);
    }

    private static List<Charge> merge(List<Charge> charges, boolean settling) {
        if (charges == null) {
            throw new IllegalArgumentException("charges are required");
        }
        Map<String, Charge> byKey = new LinkedHashMap<>();
        for (Charge c : charges) {
            if (c == null) {
                throw new IllegalArgumentException("a charge is null");
            }
            check(c.counter());
            if (c.amount() < 0) {
                throw new IllegalArgumentException(c.counter().key() + ": amounts are never negative: " + c.amount());
            }
            byKey.merge(c.counter().key(), c, (a, b) -> new Charge(a.counter(), saturatedAdd(a.amount(), b.amount())));
        }
        if (settling) {
            for (Charge c : byKey.values()) {
                if (c.amount() > MAX) {
                    throw new IllegalArgumentException(c.counter().key() + ": a settled amount is at most 2^53 - 1: " + c.amount());
                }
            }
        }
        return List.copyOf(byKey.values());
    }

    private static void check(Counter c) {
        if (c == null || c.key() == null || c.key().isEmpty() || c.kind() == null) {
            throw new IllegalArgumentException("a counter needs a non-empty key and a kind");
        }
        if (c.limit() < 0 || c.limit() > MAX) {
            throw new IllegalArgumentException(c.key() + ": a limit is from 0 to 2^53 - 1: " + c.limit());
        }
        Duration w = c.window();
        switch (c.kind()) {
            case REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE -> {
                if (w == null || w.compareTo(ONE_MICRO) < 0 || w.compareTo(LONGEST) > 0) {
                    throw new IllegalArgumentException(c.key() + ": a " + c.kind() + " counter needs a window from 1 µs to 2^53 - 1 µs: " + w);
                }
                long micros = micros(w);
                if (c.limit() > MAX / micros) {
                    throw new IllegalArgumentException(c.key() + ": limit × window (µs) must be at most 2^53 - 1: "
                            + c.limit() + " × " + micros);
                }
            }
            case SPEND -> {
                if (w != null && (w.compareTo(ONE_MICRO) < 0 || w.compareTo(LONGEST) > 0)) {
                    throw new IllegalArgumentException(c.key() + ": a spend counter's window is null (for ever) or from 1 µs to 2^53 - 1 µs: " + w);
                }
            }
            case CONCURRENT -> {
                // the window is unused
            }
            default -> throw new IllegalArgumentException(c.key() + ": unknown kind " + c.kind());
        }
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }
}

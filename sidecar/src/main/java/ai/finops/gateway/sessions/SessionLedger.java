package ai.finops.gateway.sessions;

import ai.finops.crds.validation.Durations;
import ai.finops.gateway.governance.CostEstimator;
import ai.finops.gateway.observability.ExchangeListener;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.translate.Usage;
import ai.finops.gateway.usage.UsageLedger;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What each client session cost, for {@code GET /sessions?virtualKey=alice&since=1h} on the operations port: per
 * virtual key and session ({@code x-claude-code-session-id}), when it was first and last seen, its requests,
 * tokens, cost and the models that served it. Kept in this gateway's memory only, for {@link #window} after a
 * session's last request and for at most {@link #maxSessions} sessions (the one least recently seen goes first);
 * a replica answers for the requests it served. Requests without a session id are not kept here ({@code /usage}
 * counts them).
 */
public final class SessionLedger implements ExchangeListener {
    public static final Duration DEFAULT_WINDOW = Duration.ofHours(24);
    public static final int DEFAULT_MAX_SESSIONS = 10_000;
    /** Models listed per session at most; a session that used more lists the first ones. */
    static final int MAX_MODELS = 16;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Duration window;
    private final int maxSessions;
    private final Clock clock;
    /** In access order: least recently seen first. Guarded by itself. */
    private final LinkedHashMap<Id, Session> sessions = new LinkedHashMap<>(256, 0.75f, true);
    private final Observer observer = new Observer() {
        @Override
        public void ended(RequestEnd end) {
            record(end);
        }
    };

    private record Id(String virtualKey, String sessionId) {}

    /** One session's sums; changed under the map's lock only. */
    private static final class Session {
        Instant firstSeen;
        Instant lastSeen;
        long requests;
        long inputTokens;
        long outputTokens;
        long cacheReadTokens;
        long cacheWriteTokens;
        long costMicros;
        final Set<String> models = new LinkedHashSet<>();
    }

    public SessionLedger(Duration window, int maxSessions, Clock clock) {
        this.window = window;
        this.maxSessions = maxSessions;
        this.clock = clock;
    }

    @Override
    public Observer started(RequestStart start) {
        return observer;
    }

    void record(RequestEnd end) {
        GatewayMetrics.RequestRecord r = end.record();
        if (end.sessionId() == null || r.virtualKey() == null) {
            return;
        }
        Instant now = clock.instant();
        synchronized (sessions) {
            Session s = sessions.computeIfAbsent(new Id(r.virtualKey(), end.sessionId()), id -> new Session());
            if (s.firstSeen == null) {
                s.firstSeen = now;
            }
            s.lastSeen = now;
            s.requests++;
            Usage u = r.usage();
            if (u != null && u.seen) {
                s.inputTokens += u.inputTokens;
                s.outputTokens += u.outputTokens;
                s.cacheReadTokens += u.cacheReadInputTokens;
                s.cacheWriteTokens += u.cacheCreationInputTokens;
            }
            if (r.costUsd() != null) {
                s.costMicros += CostEstimator.micros(r.costUsd());
            }
            if (r.model() != null && s.models.size() < MAX_MODELS) {
                s.models.add(r.model());
            }
            evict(now);
        }
    }

    /** Drops the sessions over the count, then those whose last request is older than the window (the oldest come first). */
    private void evict(Instant now) {
        Instant oldest = now.minus(window);
        for (Iterator<Session> it = sessions.values().iterator(); it.hasNext(); ) {
            Session s = it.next();
            if (sessions.size() > maxSessions || s.lastSeen.isBefore(oldest)) {
                it.remove();
            } else {
                return;
            }
        }
    }

    /**
     * The answer to {@code GET /sessions?...}: {@code virtualKey} (exact; absent: every key) and {@code since} (a
     * duration back from now, {@code 1h}, {@code 30m}, or an instant, {@code 2026-12-07T10:00:00Z}; default: the
     * whole window): the sessions last seen since then, the most recent first. A parameter that does not read is
     * a 400 saying why.
     */
    public UsageLedger.Answer answer(String uri) {
        Map<String, List<String>> params = new QueryStringDecoder(uri).parameters();
        for (String name : params.keySet()) {
            if (!name.equals("virtualKey") && !name.equals("since")) {
                return error("unknown parameter '" + name + "'; known: virtualKey, since");
            }
        }
        String key = first(params, "virtualKey");
        Instant now = clock.instant();
        Instant since;
        try {
            since = since(first(params, "since"), now);
        } catch (IllegalArgumentException e) {
            return error(e.getMessage());
        }
        ObjectNode out = JSON.createObjectNode();
        if (key != null) {
            out.put("virtualKey", key);
        }
        out.put("since", since.toString()).put("window", window.toString()).put("maxSessions", maxSessions).put("currency", "USD");
        ArrayNode list = out.putArray("sessions");
        List<ObjectNode> found = new ArrayList<>();
        synchronized (sessions) {
            evict(now);
            for (Map.Entry<Id, Session> e : sessions.entrySet()) {     // least recently seen first
                Session s = e.getValue();
                if ((key == null || key.equals(e.getKey().virtualKey())) && !s.lastSeen.isBefore(since)) {
                    found.add(describe(e.getKey(), s));
                }
            }
        }
        Collections.reverse(found);
        list.addAll(found);
        return new UsageLedger.Answer(200, "application/json", write(out));
    }

    private static ObjectNode describe(Id id, Session s) {
        ObjectNode n = JSON.createObjectNode().put("sessionId", id.sessionId()).put("virtualKey", id.virtualKey())
                .put("firstSeen", s.firstSeen.toString()).put("lastSeen", s.lastSeen.toString()).put("requests", s.requests)
                .put("inputTokens", s.inputTokens).put("outputTokens", s.outputTokens).put("cacheReadTokens", s.cacheReadTokens)
                .put("cacheWriteTokens", s.cacheWriteTokens).put("costUsd", BigDecimal.valueOf(s.costMicros, 6).toPlainString());
        s.models.forEach(n.putArray("models")::add);
        return n;
    }

    private Instant since(String value, Instant now) {
        if (value == null || value.isEmpty()) {
            return now.minus(window);
        }
        if (Character.isDigit(value.charAt(0)) && value.contains("T")) {
            try {
                return Instant.parse(value);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("since must be a duration back from now (1h, 30m) or an instant "
                        + "(2026-12-07T10:00:00Z), not '" + value + "'");
            }
        }
        return now.minus(Durations.parse(value));
    }

    private static String first(Map<String, List<String>> params, String name) {
        List<String> values = params.get(name);
        return values == null ? null : values.get(0);
    }

    private static UsageLedger.Answer error(String message) {
        return new UsageLedger.Answer(400, "application/json", write(JSON.createObjectNode().put("error", message)));
    }

    private static String write(ObjectNode node) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}

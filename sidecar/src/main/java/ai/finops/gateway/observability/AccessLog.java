package ai.finops.gateway.observability;

import ai.finops.gateway.translate.Usage;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One structured line per request, on logger {@code ai.finops.gateway.access}: ids (the request's, the
 * provider's, the client's session and the trace), who, where it went, the outcome, tokens and cost; a value
 * not known (no upstream, no key yet, no session) is left out. Numbers are numbers, so the JSON format
 * ({@link LogLineEncoder}) writes them as such. Never a key, a token or prompt text.
 */
public final class AccessLog {
    private static final Logger LOG = LoggerFactory.getLogger("ai.finops.gateway.access");

    private AccessLog() {}

    public static void log(ExchangeListener.RequestEnd end) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        GatewayMetrics.RequestRecord r = end.record();
        LoggingEventBuilder e = LOG.atInfo();
        e = put(e, "request_id", end.requestId());
        e = put(e, "upstream_request_id", end.upstreamRequestId());
        e = put(e, "session_id", end.sessionId());
        e = put(e, "trace_id", end.traceId());
        e = put(e, "virtual_key", r.virtualKey());
        e = put(e, "path", end.path());
        e = put(e, "requested_model", end.requestedModel());
        e = put(e, "route", r.route());
        e = put(e, "deployment", r.deployment());
        e = put(e, "model", r.model());
        e = e.addKeyValue("status", r.status())
                .addKeyValue("outcome", r.outcome())
                .addKeyValue("attempts", end.attempts());
        if (r.firstByteNanos() > 0) {
            e = e.addKeyValue("ttfb_ms", TimeUnit.NANOSECONDS.toMicros(r.firstByteNanos()) / 1000.0);
        }
        e = e.addKeyValue("duration_ms", TimeUnit.NANOSECONDS.toMicros(r.durationNanos()) / 1000.0);
        Usage u = r.usage();
        if (u != null && u.seen) {
            e = e.addKeyValue("input_tokens", u.inputTokens)
                    .addKeyValue("output_tokens", u.outputTokens)
                    .addKeyValue("cache_creation_input_tokens", u.cacheCreationInputTokens)
                    .addKeyValue("cache_read_input_tokens", u.cacheReadInputTokens);
        }
        if (r.costUsd() != null) {
            e = e.addKeyValue("cost_usd", r.costUsd());
        }
        if (!end.failures().isEmpty()) {
            e = e.addKeyValue("failed_attempts", String.join("; ", end.failures()));
        }
        e.log("request");
    }

    /**
     * One line per MCP {@code tools/call} through {@code /mcp}, on the same logger: the key, the server and
     * tool it reached ({@code none} when it reached none), the outcome and how long it took.
     */
    public static void toolCall(String virtualKey, String server, String tool, String outcome, java.time.Duration duration) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        LOG.atInfo().addKeyValue("virtual_key", virtualKey).addKeyValue("path", "/mcp").addKeyValue("mcp_server", server)
                .addKeyValue("mcp_tool", tool).addKeyValue("outcome", outcome)
                .addKeyValue("duration_ms", TimeUnit.NANOSECONDS.toMicros(duration.toNanos()) / 1000.0).log("tool call");
    }

    /** A value not known is left out of the line, never written as {@code null}. */
    private static LoggingEventBuilder put(LoggingEventBuilder e, String key, String value) {
        return value == null ? e : e.addKeyValue(key, value);
    }
}

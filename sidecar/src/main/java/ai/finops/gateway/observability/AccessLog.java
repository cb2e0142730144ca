package ai.finops.gateway.observability;

import ai.finops.gateway.translate.Usage;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One structured line per request, on logger {@code ai.finops.gateway.access}: ids, who, where it
 * went, the outcome, tokens and cost. Never a key, a token or prompt text.
 */
public final class AccessLog {
    private static final Logger LOG = LoggerFactory.getLogger("ai.finops.gateway.access");

    private AccessLog() {}

    public static void log(GatewayMetrics.RequestRecord r, String requestId, String upstreamRequestId, String requestedModel,
            String path, int attempts, List<String> failures) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        LoggingEventBuilder e = LOG.atInfo()
                .addKeyValue("request_id", requestId)
                .addKeyValue("upstream_request_id", upstreamRequestId)
                .addKeyValue("virtual_key", r.virtualKey())
                .addKeyValue("path", path)
                .addKeyValue("requested_model", requestedModel)
                .addKeyValue("route", r.route())
                .addKeyValue("deployment", r.deployment())
                .addKeyValue("model", r.model())
                .addKeyValue("status", r.status())
                .addKeyValue("outcome", r.outcome())
                .addKeyValue("attempts", attempts)
                .addKeyValue("ttfb_ms", TimeUnit.NANOSECONDS.toMicros(r.firstByteNanos()) / 1000.0)
                .addKeyValue("duration_ms", TimeUnit.NANOSECONDS.toMicros(r.durationNanos()) / 1000.0);
        Usage u = r.usage();
        if (u != null && u.seen) {
            e = e.addKeyValue("input_tokens", u.inputTokens)
                    .addKeyValue("output_tokens", u.outputTokens)
                    .addKeyValue("cache_creation_input_tokens", u.cacheCreationInputTokens)
                    .addKeyValue("cache_read_input_tokens", u.cacheReadInputTokens);
        }
        if (r.costUsd() != null) {
            e = e.addKeyValue("cost_usd", r.costUsd().toPlainString());
        }
        if (!failures.isEmpty()) {
            e = e.addKeyValue("failed_attempts", String.join("; ", failures));
        }
        e.log("request");
    }
}

package ai.finops.gateway.observability;

import ai.finops.gateway.routing.Attempt;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;

/**
 * What a proxied request goes through, for whoever must know: metrics and the access log today,
 * budget settlement and trace spans next. {@link #started} is called once per request and returns the
 * observer of that request (a shared, stateless one when there is nothing to keep per request). All
 * calls come from the request's event loop and must not block it.
 */
public interface ExchangeListener {

    Observer started(RequestStart start);

    /**
     * A request the gateway is about to admit and forward.
     *
     * @param team      the virtual key's team, or null when it has none
     * @param surface   the client's dialect: {@code anthropic} or {@code openai}
     * @param sessionId the client's session ({@code x-claude-code-session-id}), or null
     * @param headers   the client's request headers, to read during {@code started} only
     */
    record RequestStart(String requestId, String virtualKey, String team, String surface, String path, String sessionId,
            HttpHeaders headers) {}

    /** One request's events, in order: attempts (each started, then ended), the first byte, then the end. */
    interface Observer {
        /** Attempt {@code number} (1-based, every upstream call counted) goes to {@code attempt}'s deployment. */
        default void attemptStarted(int number, Attempt attempt) {}

        /**
         * Attempt {@code number}'s request is built and about to go: {@code upstreamHeaders} may still be added to (the
         * trace context), after any signing, so only with headers no signature covers. Not called for an attempt that
         * sends nothing.
         */
        default void sending(int number, HttpHeaders upstreamHeaders) {}

        /**
         * Attempt {@code number} ended: {@code outcome} is {@code ok}, {@code status_NNN} (an answer the gateway did not
         * pass on), or how it failed ({@code refused}, {@code connect}, {@code reset}, {@code timeout}, {@code idle},
         * {@code malformed}, {@code truncated}, {@code credentials}, {@code request}), {@code unsupported} (the deployment cannot
         * serve what the request needs; nothing was sent) or {@code cancelled} (the request ended first).
         */
        default void attemptEnded(int number, Attempt attempt, String outcome) {}

        /** The response head went to the client, {@code nanos} after the request started. */
        default void firstByte(long nanos) {}

        /** The request ended, accounted: what the metrics and the access line record. */
        default void ended(RequestEnd end) {}

        /** The trace id of the span this observer records the request as, when it records a sampled one; else null. */
        default String traceId() {
            return null;
        }

        /** The id of that span, or null. */
        default String spanId() {
            return null;
        }
    }

    /**
     * @param attempts upstream calls made
     * @param failures why each failed attempt failed, in words
     * @param team     the virtual key's team, or null when it has none
     * @param answered the attempt that answered (its deployment and model, with the price), or null when none did
     * @param sessionId the client's session ({@code x-claude-code-session-id}), or null
     * @param traceId  the trace the request is recorded in, or null (tracing off, or the request not sampled)
     * @param spanId   the request's own (SERVER) span in it, or null
     */
    record RequestEnd(GatewayMetrics.RequestRecord record, String requestId, String upstreamRequestId, String requestedModel,
            String path, int attempts, List<String> failures, String team, Attempt answered, String sessionId, String traceId,
            String spanId) {}

    /** Today's first two: the meters (failed attempts by kind, the request) and the access line. */
    static List<ExchangeListener> standard(GatewayMetrics metrics) {
        Observer meters = new Observer() {
            @Override
            public void attemptStarted(int number, Attempt attempt) {
                if (attempt.fallback()) {
                    metrics.fallback(attempt.deployment().name());
                }
            }

            @Override
            public void attemptEnded(int number, Attempt attempt, String outcome) {
                if (!"ok".equals(outcome) && !"cancelled".equals(outcome) && !"unsupported".equals(outcome)) {
                    metrics.upstreamError(attempt.deployment().name(), outcome);
                }
            }

            @Override
            public void ended(RequestEnd end) {
                metrics.request(end);
            }
        };
        Observer accessLine = new Observer() {
            @Override
            public void ended(RequestEnd end) {
                AccessLog.log(end);
            }
        };
        return List.of(start -> meters, start -> accessLine);
    }
}

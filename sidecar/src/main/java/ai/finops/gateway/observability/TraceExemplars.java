package ai.finops.gateway.observability;

import io.prometheus.metrics.tracer.common.SpanContext;

/**
 * The trace of the request being recorded, as the Prometheus registry's exemplar samplers ask for it: a
 * latency bucket then names the trace id and span id of a request that fell in it, shown to scrapers that
 * ask for OpenMetrics. The registry asks for "the current span" while a meter records; the gateway records a
 * request's meters in one call on its event loop, so the ids are set for that call only ({@link #during}) and
 * nothing is left on the thread afterwards.
 */
final class TraceExemplars implements SpanContext {
    private static final ThreadLocal<String[]> CURRENT = new ThreadLocal<>();

    /** Runs {@code recording} with {@code traceId} and {@code spanId} as the current span; none when either is null. */
    static void during(String traceId, String spanId, Runnable recording) {
        if (traceId == null || spanId == null) {
            recording.run();
            return;
        }
        CURRENT.set(new String[] {traceId, spanId});
        try {
            recording.run();
        } finally {
            CURRENT.remove();
        }
    }

    @Override
    public String getCurrentTraceId() {
        String[] ids = CURRENT.get();
        return ids == null ? null : ids[0];
    }

    @Override
    public String getCurrentSpanId() {
        String[] ids = CURRENT.get();
        return ids == null ? null : ids[1];
    }

    /** A request that carries ids was sampled by the tracer that gave them. */
    @Override
    public boolean isCurrentSpanSampled() {
        return CURRENT.get() != null;
    }

    /** The tracer keeps every sampled span: nothing to mark. */
    @Override
    public void markCurrentSpanAsExemplar() {}
}

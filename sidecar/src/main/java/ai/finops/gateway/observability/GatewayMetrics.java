package ai.finops.gateway.observability;

import static ai.finops.gateway.observability.Metrics.*;

import ai.finops.gateway.translate.Usage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.math.BigDecimal;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.StampedLock;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The gateway's meters, registered in one Prometheus registry served on the operations port. A
 * scrape sees each request whole or not at all: its count, durations, tokens and cost are recorded
 * together, never some without the others.
 */
public final class GatewayMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(),
            io.micrometer.core.instrument.Clock.SYSTEM, new TraceExemplars());
    private final GenAiMeters genAi = new GenAiMeters(registry);
    /** Shared while a request's meters are recorded (requests record concurrently), exclusive while scraping. */
    private final StampedLock recording = new StampedLock();

    static final String OPENMETRICS = "application/openmetrics-text";
    static final String OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    static final String TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** A scrape, in the Prometheus text format. */
    public String scrape() {
        return scrape(null).body();
    }

    /** A scrape's body and its content type. */
    public record Exposition(String contentType, String body) {}

    /**
     * A scrape in the format the scraper's {@code Accept} header asks for: OpenMetrics (with the exemplars that
     * link latency buckets to traces) when it names {@code application/openmetrics-text}, else the Prometheus text
     * format.
     */
    public Exposition scrape(String accept) {
        String type = accept != null && accept.contains(OPENMETRICS) ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE;
        long stamp = recording.writeLock();
        try {
            return new Exposition(type, registry.scrape(type));
        } finally {
            recording.unlockWrite(stamp);
        }
    }

    /** The meters of one combination of request dimensions, looked up once and reused. */
    private record Meters(Counter requests, Timer duration, Timer firstByte, Counter input, Counter output, Counter cacheWrite,
            Counter cacheRead, Counter cost) {}

    /** The dimensions that select a {@link Meters}; every value comes from configuration. */
    private record Key(String api, String route, String provider, String deployment, String model, String virtualKey, String team,
            String outcome, int status) {}

    private final Map<Key, Meters> meters = new ConcurrentHashMap<>();

    /**
     * One request a provider was asked for, ended: its {@code finops_*} meters and its GenAI operation, recorded
     * together, with its trace (when it has one) as the exemplar of the buckets it falls in.
     */
    public void request(ExchangeListener.RequestEnd end) {
        long stamp = recording.readLock();
        try {
            TraceExemplars.during(end.traceId(), end.spanId(), () -> {
                record(end.record(), end.team());
                genAi.record(end);
            });
        } finally {
            recording.unlockRead(stamp);
        }
    }

    /** One request the gateway answered itself, with the dimensions it reached ({@code team} null when it had no key or team). */
    public void request(RequestRecord r, String team) {
        long stamp = recording.readLock();
        try {
            record(r, team);
        } finally {
            recording.unlockRead(stamp);
        }
    }

    private void record(RequestRecord r, String team) {
        Meters m = meters.computeIfAbsent(new Key(r.api(), tag(r.route()), tag(r.provider()), tag(r.deployment()), tag(r.modelTag()),
                tag(r.virtualKey()), tag(team), r.outcome(), r.status()), this::register);
        m.requests().increment();
        m.duration().record(r.durationNanos(), TimeUnit.NANOSECONDS);
        if (r.firstByteNanos() > 0) {
            m.firstByte().record(r.firstByteNanos(), TimeUnit.NANOSECONDS);
        }
        Usage u = r.usage();
        if (u != null && u.seen) {
            m.input().increment(u.inputTokens);
            m.output().increment(u.outputTokens);
            m.cacheWrite().increment(u.cacheCreationInputTokens);
            m.cacheRead().increment(u.cacheReadInputTokens);
        }
        if (r.costUsd() != null) {
            m.cost().increment(r.costUsd().doubleValue());
        }
    }

    /** A dimension not known (a request refused before it had a key, a rule or a target) is tagged {@code none}. */
    private static String tag(String value) {
        return value == null ? NONE : value;
    }

    private Meters register(Key k) {
        return new Meters(
                Counter.builder(REQUESTS).description("Requests by route, target and outcome")
                        .tags(TAG_API, k.api(), TAG_ROUTE, k.route(), TAG_PROVIDER, k.provider(), TAG_DEPLOYMENT, k.deployment(),
                                TAG_MODEL, k.model(), TAG_VIRTUAL_KEY, k.virtualKey(), TAG_OUTCOME, k.outcome(), TAG_STATUS, Integer.toString(k.status()))
                        .register(registry),
                Timer.builder(REQUEST_DURATION).description("Whole request duration, streaming included")
                        .tags(TAG_PROVIDER, k.provider(), TAG_DEPLOYMENT, k.deployment(), TAG_OUTCOME, k.outcome())
                        .publishPercentileHistogram().register(registry),
                Timer.builder(TIME_TO_FIRST_BYTE).description("Request received to first response byte sent to the client")
                        .tags(TAG_PROVIDER, k.provider(), TAG_DEPLOYMENT, k.deployment())
                        .publishPercentileHistogram().register(registry),
                tokens(k, "input"), tokens(k, "output"), tokens(k, "cache_write"), tokens(k, "cache_read"),
                Counter.builder(COST).description("Cost of requests in USD from the deployment's or the built-in prices")
                        .tags(TAG_MODEL, k.model(), TAG_DEPLOYMENT, k.deployment(), TAG_VIRTUAL_KEY, k.virtualKey(), TAG_TEAM, k.team())
                        .register(registry));
    }

    /** Tokens by kind (input here excludes cache reads and writes, as providers report it), per key, model and deployment. */
    private Counter tokens(Key k, String type) {
        return Counter.builder(TOKENS).description("Tokens used, by kind, as the provider reported them")
                .tags(TAG_TOKEN_TYPE, type, TAG_MODEL, k.model(), TAG_DEPLOYMENT, k.deployment(), TAG_VIRTUAL_KEY, k.virtualKey(), TAG_TEAM,
                        k.team())
                .register(registry);
    }

    /** An attempt on one of a rule's fallbacks, its targets having failed before the first byte. */
    public void fallback(String deployment) {
        Counter.builder(FALLBACKS).description("Attempts on a rule's fallbacks, by deployment").tags(TAG_DEPLOYMENT, deployment)
                .register(registry).increment();
    }

    /** The deployments cooling down (after a 429, 529 or 5xx), there from the start. */
    public void cooldownMeters(IntSupplier coolingDown) {
        Gauge.builder(DEPLOYMENTS_COOLING_DOWN, coolingDown, IntSupplier::getAsInt)
                .description("Deployments cooling down after a 429, 529 or 5xx, skipped while others can serve").strongReference(true)
                .register(registry);
    }

    public void upstreamError(String deployment, String kind) {
        Counter.builder(UPSTREAM_ERRORS).description("Failed upstream attempts by kind")
                .tags(TAG_DEPLOYMENT, deployment, TAG_KIND, kind).register(registry).increment();
    }

    /**
     * One request a {@code via-gateway} sidecar relayed; the shared gateway counts its tokens and cost,
     * so a sidecar never counts them twice.
     */
    public void relayed(String outcome, int status, long durationNanos) {
        long stamp = recording.readLock();
        try {
            Counter.builder(RELAY_REQUESTS).description("Requests relayed to the shared gateway, by outcome")
                    .tags(TAG_OUTCOME, outcome, TAG_STATUS, Integer.toString(status)).register(registry).increment();
            Timer.builder(RELAY_DURATION).description("Whole relayed request duration, streaming included")
                    .tags(TAG_OUTCOME, outcome).publishPercentileHistogram().register(registry).record(durationNanos, TimeUnit.NANOSECONDS);
        } finally {
            recording.unlockRead(stamp);
        }
    }

    public void configReload(String outcome) {
        reloads(outcome).increment();
    }

    private Counter reloads(String outcome) {
        return Counter.builder(CONFIG_RELOADS).description("Config reloads by outcome (accepted, rejected)")
                .tags(TAG_OUTCOME, outcome).register(registry);
    }

    /**
     * The meters of a gateway that serves configuration from files, there from the start: reloads
     * by outcome at zero, the generation serving, and whether the last change on disk was accepted
     * (0 while a rejected change waits for a fix and an older generation serves).
     */
    public void configMeters(LongSupplier generation, BooleanSupplier lastReloadAccepted) {
        reloads("accepted");
        reloads("rejected");
        Gauge.builder(CONFIG_GENERATION, generation, LongSupplier::getAsLong).description("Generation of the configuration serving")
                .strongReference(true).register(registry);
        Gauge.builder(CONFIG_LAST_RELOAD_SUCCESS, lastReloadAccepted, ok -> ok.getAsBoolean() ? 1 : 0)
                .description("1 when the configuration on disk is the one serving, 0 when its last change was rejected")
                .strongReference(true).register(registry);
    }

    /** A request the admit step refused, by reason ({@code rate_limit}, {@code budget}, {@code concurrency}, {@code too_large}, {@code store_unavailable}). */
    public void admissionRefused(String reason) {
        Counter.builder(ADMISSION_REFUSALS).description("Requests the admit step refused, by reason")
                .tags(TAG_REASON, reason).register(registry).increment();
    }

    /**
     * The meters of a shared governance store (Redis), there from the start: whether it answered the last
     * call, the calls it could not decide, and the settles waiting for it.
     */
    public void governanceStoreMeters(ai.finops.governance.FailoverCounterStore store) {
        Gauge.builder(GOVERNANCE_STORE_AVAILABLE, store, s -> s.available() ? 1 : 0)
                .description("1 while the shared governance store answers, 0 during an outage").strongReference(true).register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder(GOVERNANCE_STORE_FAILURES, store, s -> s.failures())
                .description("Governance store calls that could not be decided (timeout, not connected, failed)").register(registry);
        Gauge.builder(GOVERNANCE_SETTLES_PENDING, store, s -> s.pending())
                .description("Settles waiting for the shared governance store to return").strongReference(true).register(registry);
    }

    /** With leases: the reservations granted on a slice and those sent to Redis, and the slices' own calls. */
    public void leaseMeters(ai.finops.governance.LeasedCounterStore store) {
        io.micrometer.core.instrument.FunctionCounter.builder(GOVERNANCE_RESERVATIONS, store, s -> s.localGrants()).tag(TAG_DECIDED, "slice")
                .description("Reservations of the admit step, by where they were decided: on this gateway's slice of a counter, or in Redis")
                .register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder(GOVERNANCE_RESERVATIONS, store, s -> s.exactReserves()).tag(TAG_DECIDED, "redis")
                .description("Reservations of the admit step, by where they were decided: on this gateway's slice of a counter, or in Redis")
                .register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder(GOVERNANCE_LEASE_CALLS, store, s -> s.leaseCalls())
                .description("Redis calls of the slices: taken, renewed, returned, settled spend moved").register(registry);
    }

    private volatile Counter connectionsRefused;

    /**
     * The client connection meters of the API port, there from the start: the connections open now,
     * and those closed as soon as they were accepted because {@code limits.maxConnections} were open.
     */
    public void connectionMeters(IntSupplier open) {
        Gauge.builder(CONNECTIONS_OPEN, open, IntSupplier::getAsInt).description("Client connections open on the API port")
                .strongReference(true).register(registry);
        connectionsRefused = Counter.builder(CONNECTIONS_REFUSED)
                .description("Client connections closed as soon as they were accepted, limits.maxConnections being open")
                .register(registry);
    }

    /** A client connection closed as soon as it was accepted: the connection cap was reached. */
    public void connectionRefused() {
        Counter refused = connectionsRefused;
        if (refused != null) {
            refused.increment();
        }
    }

    /**
     * What the access log and the meters record of one request; route, provider, deployment, model and key
     * may be null (not known). {@code model} is the resolved model, for the log; {@code modelTag} the same
     * model as metrics name it, from config or the catalogue only (see {@code ModelEntry.metricName}); {@code stream}
     * whether the client asked for a stream.
     */
    public record RequestRecord(String api, String route, String provider, String deployment, String model, String modelTag, String virtualKey,
            String outcome, int status, long durationNanos, long firstByteNanos, Usage usage, BigDecimal costUsd, boolean stream) {}
}

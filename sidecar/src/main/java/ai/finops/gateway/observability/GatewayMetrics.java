package ai.finops.gateway.observability;

import static ai.finops.gateway.observability.Metrics.*;

import ai.finops.gateway.translate.Usage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.math.BigDecimal;
import java.time.Duration;

/** The gateway's meters, registered in one Prometheus registry served on the operations port. */
public final class GatewayMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public String scrape() {
        return registry.scrape();
    }

    /** One finished request, with the dimensions of where it went. */
    public void request(RequestRecord r) {
        Counter.builder(REQUESTS).description("Requests by route, target and outcome")
                .tags(TAG_API, r.api(), TAG_ROUTE, r.route(), TAG_PROVIDER, r.provider(), TAG_DEPLOYMENT, r.deployment(),
                        TAG_MODEL, r.model(), TAG_VIRTUAL_KEY, r.virtualKey(), TAG_OUTCOME, r.outcome(), TAG_STATUS, Integer.toString(r.status()))
                .register(registry).increment();
        Timer.builder(REQUEST_DURATION).description("Whole request duration, streaming included")
                .tags(TAG_PROVIDER, r.provider(), TAG_DEPLOYMENT, r.deployment(), TAG_OUTCOME, r.outcome())
                .publishPercentileHistogram().register(registry).record(Duration.ofNanos(r.durationNanos()));
        if (r.firstByteNanos() > 0) {
            Timer.builder(TIME_TO_FIRST_BYTE).description("Request received to first response byte sent to the client")
                    .tags(TAG_PROVIDER, r.provider(), TAG_DEPLOYMENT, r.deployment())
                    .publishPercentileHistogram().register(registry).record(Duration.ofNanos(r.firstByteNanos()));
        }
        Usage u = r.usage();
        if (u != null && u.seen) {
            tokens(r, "input", u.inputTokens);
            tokens(r, "output", u.outputTokens);
            tokens(r, "cache_creation_input", u.cacheCreationInputTokens);
            tokens(r, "cache_read_input", u.cacheReadInputTokens);
        }
        if (r.costUsd() != null) {
            Counter.builder(COST).description("Cost of requests in USD from the deployment's or the built-in prices")
                    .tags(TAG_MODEL, r.model(), TAG_DEPLOYMENT, r.deployment(), TAG_VIRTUAL_KEY, r.virtualKey())
                    .register(registry).increment(r.costUsd().doubleValue());
        }
    }

    private void tokens(RequestRecord r, String type, long count) {
        DistributionSummary.builder(TOKEN_USAGE).description("Tokens used per request").baseUnit("tokens")
                .tags(TAG_TOKEN_TYPE, type, TAG_GEN_AI_MODEL, r.model(), TAG_GEN_AI_SYSTEM, r.provider(), TAG_VIRTUAL_KEY, r.virtualKey())
                .register(registry).record(count);
    }

    public void upstreamError(String deployment, String kind) {
        Counter.builder(UPSTREAM_ERRORS).description("Failed upstream attempts by kind")
                .tags(TAG_DEPLOYMENT, deployment, TAG_KIND, kind).register(registry).increment();
    }

    public void configReload(String outcome) {
        Counter.builder(CONFIG_RELOADS).description("Config reloads by outcome (accepted, rejected)")
                .tags(TAG_OUTCOME, outcome).register(registry).increment();
    }

    /** What the access log and the meters record of one request. */
    public record RequestRecord(String api, String route, String provider, String deployment, String model, String virtualKey,
            String outcome, int status, long durationNanos, long firstByteNanos, Usage usage, BigDecimal costUsd) {}
}

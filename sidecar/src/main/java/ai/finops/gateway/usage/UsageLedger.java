package ai.finops.gateway.usage;

import ai.finops.gateway.governance.CostEstimator;
import ai.finops.gateway.observability.ExchangeListener;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.observability.Pricing;
import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.translate.Usage;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The usage ledger: every proxied request's cost and tokens, counted on the UTC day it ended, per virtual
 * key, team, namespace, provider type, deployment and model, and the answer to {@code GET /usage} on the
 * operations port ({@link #answer}). A request with no usage counts as a request. Cost is the one the
 * metrics count ({@code costUsd}, in micro-dollars rounded half up), split by the kind of token it paid
 * for so the four parts add up to it exactly.
 */
public final class UsageLedger implements ExchangeListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UsageLedger.class);
    static final String KEY_TAG = "finops";
    /** The provider of a ledger row that counts MCP tool calls ({@link #toolCall}). */
    public static final String MCP_PROVIDER = "mcp";

    private final UsageStore store;
    private final String namespace;
    private final Clock clock;
    private final Observer observer = new Observer() {
        @Override
        public void ended(RequestEnd end) {
            record(end);
        }
    };
    private volatile long lastWarning;

    /**
     * @param dataDir   where the embedded ledger is kept across restarts; null: in memory only
     * @param redisUrl  a Redis every replica shares ({@code redis://}, {@code rediss://}); null: the embedded ledger
     * @param redisPassword its password (from a Secret), or null
     * @param namespace the namespace this gateway serves, for the rows and tags; null when unknown
     */
    public UsageLedger(Path dataDir, String redisUrl, String redisPassword, String namespace, Clock clock) {
        this(redisUrl == null || redisUrl.isBlank() ? new EmbeddedUsageStore(dataDir, clock)
                : new RedisUsageStore(redisUrl.trim(), KEY_TAG, redisPassword), namespace, clock);
    }

    UsageLedger(UsageStore store, String namespace, Clock clock) {
        this.store = store;
        this.namespace = namespace == null ? "" : namespace;
        this.clock = clock;
    }

    @Override
    public Observer started(RequestStart start) {
        return observer;
    }

    /** Counts one request; never throws (a ledger that fails must not fail the request). */
    void record(RequestEnd end) {
        try {
            GatewayMetrics.RequestRecord r = end.record();
            Attempt answered = end.answered();
            Pricing pricing = answered == null ? null : answered.model().pricing();
            long[] values = values(r.usage(), r.costUsd() == null ? null : pricing, r.costUsd());
            String host = answered == null ? "" : answered.deployment().endpoint().host();
            String model = r.modelTag() != null ? r.modelTag() : answered == null ? "none" : answered.model().name();
            UsageKey key = new UsageKey(r.virtualKey(), end.team(), namespace, r.provider(), r.deployment(), host, model,
                    r.costUsd() == null || pricing == null ? "" : prices(pricing));
            store.add(LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC), key, values);
        } catch (RuntimeException e) {
            long now = System.currentTimeMillis();
            if (now - lastWarning >= 60_000) {
                lastWarning = now;
                LOG.atWarn().setCause(e).log("usage ledger did not count a request (warned once a minute)");
            }
        }
    }

    /**
     * Counts one MCP tool call that reached its server, as a row of provider {@value #MCP_PROVIDER}: the McpServer as
     * deployment, its URL's host, the tool as the client calls it ({@code <prefix>__<tool>}) as model, and its price
     * per call (USD, in {@code prices}; empty when it has none). A request, no tokens, and {@code costMicros} (its price
     * when it was charged, else 0) in the cost, in no token kind's part. Never throws.
     */
    public void toolCall(String virtualKey, String team, String server, String host, String tool, long priceMicros, long costMicros) {
        try {
            long[] values = Measure.zero();
            values[Measure.REQUESTS.ordinal()] = 1;
            values[Measure.COST_MICROS.ordinal()] = costMicros;
            UsageKey key = new UsageKey(virtualKey, team, namespace, MCP_PROVIDER, server, host, tool,
                    priceMicros == 0 ? "" : plain(BigDecimal.valueOf(priceMicros, 6)));
            store.add(LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC), key, values);
        } catch (RuntimeException e) {
            long now = System.currentTimeMillis();
            if (now - lastWarning >= 60_000) {
                lastWarning = now;
                LOG.atWarn().setCause(e).log("usage ledger did not count a tool call (warned once a minute)");
            }
        }
    }

    /** One request's measures: tokens when the provider reported usage, and its cost split by token kind. */
    static long[] values(Usage usage, Pricing pricing, BigDecimal costUsd) {
        long[] v = Measure.zero();
        v[Measure.REQUESTS.ordinal()] = 1;
        if (usage != null && usage.seen) {
            v[Measure.INPUT_TOKENS.ordinal()] = usage.inputTokens;
            v[Measure.OUTPUT_TOKENS.ordinal()] = usage.outputTokens;
            v[Measure.CACHE_READ_TOKENS.ordinal()] = usage.cacheReadInputTokens;
            v[Measure.CACHE_WRITE_TOKENS.ordinal()] = usage.cacheCreationInputTokens;
        }
        if (costUsd == null) {
            return v;
        }
        long total = CostEstimator.micros(costUsd);
        v[Measure.COST_MICROS.ordinal()] = total;
        if (pricing == null || usage == null) {
            v[Measure.INPUT_COST_MICROS.ordinal()] = total;
            return v;
        }
        // each part's exact cost in micro-dollars (USD per million tokens times tokens); the parts' micro-dollars are the differences of their running sums rounded, so they add up
        BigDecimal[] exact = {
            pricing.inputPerMTok().multiply(BigDecimal.valueOf(usage.inputTokens)),
            pricing.outputPerMTok().multiply(BigDecimal.valueOf(usage.outputTokens)),
            pricing.cacheReadPerMTok().multiply(BigDecimal.valueOf(usage.cacheReadInputTokens)),
            pricing.cacheWritePerMTok().multiply(BigDecimal.valueOf(usage.cacheCreationInputTokens)),
        };
        Measure[] parts = {Measure.INPUT_COST_MICROS, Measure.OUTPUT_COST_MICROS, Measure.CACHE_READ_COST_MICROS, Measure.CACHE_WRITE_COST_MICROS};
        BigDecimal running = BigDecimal.ZERO;
        long roundedBefore = 0;
        int largest = 0;
        long sum = 0;
        for (int i = 0; i < parts.length; i++) {
            running = running.add(exact[i]);
            long rounded = running.setScale(0, RoundingMode.HALF_UP).longValueExact();
            v[parts[i].ordinal()] = rounded - roundedBefore;
            roundedBefore = rounded;
            sum += v[parts[i].ordinal()];
            if (v[parts[i].ordinal()] > v[parts[largest].ordinal()]) {
                largest = i;
            }
        }
        v[parts[largest].ordinal()] += total - sum;    // 0 but for a cost the metrics rounded otherwise
        return v;
    }

    /** Input, output, cache read and cache write, USD per million tokens. */
    static String prices(Pricing p) {
        return String.join(" ", List.of(plain(p.inputPerMTok()), plain(p.outputPerMTok()), plain(p.cacheReadPerMTok()),
                plain(p.cacheWritePerMTok())));
    }

    private static String plain(BigDecimal d) {
        return d.signum() == 0 ? "0" : d.stripTrailingZeros().toPlainString();
    }

    /** An HTTP answer: status, content type and body. */
    public record Answer(int status, String contentType, String body) {}

    /** The answer to {@code GET /usage?...} ({@code uri} as the request gave it): JSON, FOCUS CSV, or a 400 saying what is wrong. */
    public CompletionStage<Answer> answer(String uri) {
        UsageQuery query;
        try {
            query = UsageQuery.parse(uri, clock.instant());
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(UsageReport.error(400, e.getMessage()));
        }
        CompletionStage<List<UsageRow>> rows;
        try {
            rows = store.read(query.from(), query.to());
        } catch (RuntimeException e) {
            rows = CompletableFuture.failedFuture(e);
        }
        return rows.handle((list, e) -> {
            if (e != null) {
                Throwable c = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
                return UsageReport.error(503, "the usage ledger (" + store.mode() + ") did not answer: " + c.getMessage());
            }
            List<UsageRow> matching = list.stream().filter(r -> query.matches(r.key())).toList();
            return query.format().equals("focus")
                    ? new Answer(200, "text/csv; charset=utf-8", FocusExport.csv(matching))
                    : new Answer(200, "application/json", UsageReport.json(query, store.mode(), matching));
        });
    }

    public UsageStore store() {
        return store;
    }

    @Override
    public void close() {
        store.close();
    }
}

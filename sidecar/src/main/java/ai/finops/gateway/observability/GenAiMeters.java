package ai.finops.gateway.observability;

import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.translate.Usage;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The OpenTelemetry GenAI semantic conventions' metrics, with their names, units and explicit bucket
 * boundaries: {@code gen_ai.client.token.usage} (input tokens with cache reads and writes included, as the
 * conventions count them; output tokens), {@code gen_ai.client.operation.duration} and
 * {@code gen_ai.server.time_to_first_token} (successful streams only: the time to the first event, which is
 * when the first token reaches the client). One chat request to a provider is one operation, however many
 * attempts it took. Requests the gateway answered itself and {@code count_tokens} are not GenAI operations
 * and are not counted here.
 *
 * <p>Labels, all bounded: the provider of the deployment that ended the request, the model requested of it as
 * metrics name models (from config or the catalogue, see {@code ModelEntry.metricName}), the same as the
 * response model when it answered, and the request's outcome as {@code error_type} when it failed. Labels a
 * request does not have are empty, which Prometheus reads as absent.
 */
final class GenAiMeters {
    static final String CHAT_PATH = "/v1/messages";

    private static final double[] TOKEN_BUCKETS = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216,
        67108864};
    private static final Duration[] DURATION_BUCKETS = seconds(0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
            40.96, 81.92);
    private static final Duration[] FIRST_TOKEN_BUCKETS = seconds(0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0,
            2.5, 5.0, 7.5, 10.0);

    private final MeterRegistry registry;

    /** The labels of one operation's meters; every value comes from configuration or the gateway's own outcomes. */
    private record Key(String provider, String requestModel, String responseModel, String errorType) {}

    /** Each meter is registered when it first records, so a scrape shows no series a request never had. */
    private final Map<Key, Timer> durations = new ConcurrentHashMap<>();
    private final Map<Key, Timer> firstTokens = new ConcurrentHashMap<>();
    private final Map<Key, DistributionSummary[]> tokens = new ConcurrentHashMap<>();

    GenAiMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Records one request's operation, if it was a chat a provider was asked for. */
    void record(ExchangeListener.RequestEnd end) {
        Attempt last = end.answered();
        if (last == null || !CHAT_PATH.equals(end.path())) {
            return;
        }
        GatewayMetrics.RequestRecord r = end.record();
        boolean ok = "ok".equals(r.outcome());
        String model = r.modelTag() == null ? Metrics.NONE : r.modelTag();
        Key key = new Key(GenAi.providerName(last.deployment().type()), model, ok ? model : "", ok ? "" : r.outcome());
        durations.computeIfAbsent(key, k -> Timer.builder(GenAi.CLIENT_OPERATION_DURATION).description("GenAI operation duration")
                .tags(labels(k, true)).serviceLevelObjectives(DURATION_BUCKETS).register(registry))
                .record(r.durationNanos(), TimeUnit.NANOSECONDS);
        if (ok && r.stream() && r.firstByteNanos() > 0) {
            firstTokens.computeIfAbsent(key, k -> Timer.builder(GenAi.SERVER_TIME_TO_FIRST_TOKEN)
                    .description("Time to generate first token for successful responses").tags(labels(k, false))
                    .serviceLevelObjectives(FIRST_TOKEN_BUCKETS).register(registry))
                    .record(r.firstByteNanos(), TimeUnit.NANOSECONDS);
        }
        Usage u = r.usage();
        if (u != null && u.seen) {
            DistributionSummary[] inputOutput = tokens.computeIfAbsent(key, k -> new DistributionSummary[] {tokens(k, "input"), tokens(k, "output")});
            inputOutput[0].record(u.inputTokens + u.cacheReadInputTokens + u.cacheCreationInputTokens);
            inputOutput[1].record(u.outputTokens);
        }
    }

    /** The labels of {@code k}; {@code error_type} on the meters that count failures too. */
    private static String[] labels(Key k, boolean withError) {
        String[] labels = {GenAi.OPERATION_NAME, GenAi.OPERATION_CHAT, GenAi.PROVIDER_NAME, k.provider(), GenAi.REQUEST_MODEL, k.requestModel(),
            GenAi.RESPONSE_MODEL, k.responseModel(), GenAi.ERROR_TYPE, k.errorType()};
        return withError ? labels : Arrays.copyOf(labels, labels.length - 2);
    }

    private DistributionSummary tokens(Key k, String type) {
        return DistributionSummary.builder(GenAi.CLIENT_TOKEN_USAGE).description("Number of input and output tokens used")
                .tags(labels(k, true)).tag(GenAi.TOKEN_TYPE, type).serviceLevelObjectives(TOKEN_BUCKETS).register(registry);
    }

    private static Duration[] seconds(double... values) {
        return Arrays.stream(values).mapToObj(s -> Duration.ofNanos(Math.round(s * 1e9))).toArray(Duration[]::new);
    }
}

package ai.finops.gateway.observability;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.crds.ProviderType;
import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.routing.Deployment;
import ai.finops.gateway.routing.ModelEntry;
import ai.finops.gateway.translate.Usage;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class GenAiMetersTest {
    static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    static final String SPAN = "00f067aa0ba902b7";

    final GatewayMetrics metrics = new GatewayMetrics();

    static Attempt attempt(ProviderType type, String model) {
        Deployment d = new Deployment("d-" + type.id(), type, null, null, Map.of(), 1, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ofSeconds(1), 1, Duration.ofSeconds(1), Deployment.SAME_IDS);
        return new Attempt(d, new ModelEntry(model, model, null, model), model, false);
    }

    static ExchangeListener.RequestEnd end(Attempt a, String path, String outcome, boolean stream, Usage usage, String traceId,
            String spanId) {
        GatewayMetrics.RequestRecord r = new GatewayMetrics.RequestRecord("anthropic", "direct", a.deployment().type().id(),
                a.deployment().name(), a.model().name(), a.model().metricName(), "alice", outcome, "ok".equals(outcome) ? 200 : 502,
                TimeUnit.MILLISECONDS.toNanos(1500), TimeUnit.MILLISECONDS.toNanos(30), usage, BigDecimal.ONE, stream);
        return new ExchangeListener.RequestEnd(r, "req-1", null, "sonnet-model", path, 1, List.of(), "platform", a, "session-1", traceId,
                spanId);
    }

    static Usage usage(long input, long output, long cacheRead, long cacheWrite) {
        Usage u = new Usage();
        u.seen = true;
        u.inputTokens = input;
        u.outputTokens = output;
        u.cacheReadInputTokens = cacheRead;
        u.cacheCreationInputTokens = cacheWrite;
        return u;
    }

    @Test
    void aChatIsOneOperationWithTheConventionsNamesBucketsAndInputCountingTheCache() {
        metrics.request(end(attempt(ProviderType.BEDROCK, "claude-sonnet-4-6"), "/v1/messages", "ok", true, usage(10, 20, 300, 4000),
                null, null));
        String text = metrics.scrape();

        String labels = "gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"aws.bedrock\",gen_ai_request_model=\"claude-sonnet-4-6\","
                + "gen_ai_response_model=\"claude-sonnet-4-6\"";
        assertThat(buckets(text, "gen_ai_client_token_usage_bucket", "gen_ai_token_type=\"input\""))
                .containsExactly("1.0", "4.0", "16.0", "64.0", "256.0", "1024.0", "4096.0", "16384.0", "65536.0", "262144.0", "1048576.0",
                        "4194304.0", "1.6777216E7", "6.7108864E7", "+Inf");
        assertThat(text).contains("gen_ai_client_token_usage_sum{error_type=\"\"," + labels + ",gen_ai_token_type=\"input\"} 4310.0")
                .contains("gen_ai_client_token_usage_sum{error_type=\"\"," + labels + ",gen_ai_token_type=\"output\"} 20.0");
        assertThat(buckets(text, "gen_ai_client_operation_duration_seconds_bucket", ""))
                .containsExactly("0.01", "0.02", "0.04", "0.08", "0.16", "0.32", "0.64", "1.28", "2.56", "5.12", "10.24", "20.48", "40.96",
                        "81.92", "+Inf");
        assertThat(buckets(text, "gen_ai_server_time_to_first_token_seconds_bucket", ""))
                .containsExactly("0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1", "0.25", "0.5", "0.75", "1.0", "2.5", "5.0",
                        "7.5", "10.0", "+Inf");
        assertThat(text).contains("gen_ai_server_time_to_first_token_seconds_count{" + labels + "} 1")
                .contains("gen_ai_client_operation_duration_seconds_count{error_type=\"\"," + labels + "} 1");
        assertThat(text).contains("finops_gateway_tokens_total{deployment=\"d-bedrock\",model=\"claude-sonnet-4-6\","
                + "team=\"platform\",token_type=\"cache_read\",virtual_key=\"alice\"} 300.0");
    }

    @Test
    void aFailureHasItsErrorTypeNoResponseModelAndNoFirstToken() {
        metrics.request(end(attempt(ProviderType.ANTHROPIC, "claude-haiku-4-5"), "/v1/messages", "upstream_timeout", true, new Usage(),
                null, null));
        String text = metrics.scrape();
        assertThat(text).contains("gen_ai_client_operation_duration_seconds_count{error_type=\"upstream_timeout\",gen_ai_operation_name="
                + "\"chat\",gen_ai_provider_name=\"anthropic\",gen_ai_request_model=\"claude-haiku-4-5\",gen_ai_response_model=\"\"} 1");
        assertThat(text).doesNotContain("gen_ai_server_time_to_first_token").doesNotContain("gen_ai_client_token_usage");
    }

    @Test
    void countTokensAndAWholeResponseAreNoOperationOrNoFirstToken() {
        Attempt a = attempt(ProviderType.VERTEX, "claude-opus-4-6");
        metrics.request(end(a, "/v1/messages/count_tokens", "ok", false, usage(5, 0, 0, 0), null, null));
        assertThat(metrics.scrape()).doesNotContain("gen_ai_");
        metrics.request(end(a, "/v1/messages", "ok", false, usage(5, 1, 0, 0), null, null));
        assertThat(metrics.scrape()).contains("gen_ai_client_operation_duration_seconds_count{").doesNotContain("time_to_first_token");
    }

    @Test
    void openMetricsScrapesLinkTheLatencyBucketsToTheRequestsTrace() {
        metrics.request(end(attempt(ProviderType.ANTHROPIC, "claude-sonnet-4-6"), "/v1/messages", "ok", true, usage(1, 1, 0, 0), TRACE,
                SPAN));

        GatewayMetrics.Exposition open = metrics.scrape("application/openmetrics-text; version=1.0.0,text/plain;q=0.5");
        assertThat(open.contentType()).startsWith("application/openmetrics-text");
        String exemplar = "# {span_id=\"" + SPAN + "\",trace_id=\"" + TRACE + "\"}";
        assertThat(line(open.body(), "gen_ai_client_operation_duration_seconds_bucket", "le=\"2.56\"")).contains(exemplar);
        assertThat(line(open.body(), "gen_ai_server_time_to_first_token_seconds_bucket", "le=\"0.04\"")).contains(exemplar);
        assertThat(line(open.body(), "gen_ai_client_operation_duration_seconds_bucket", "le=\"1.28\"")).doesNotContain("trace_id");

        GatewayMetrics.Exposition text = metrics.scrape("text/plain");
        assertThat(text.contentType()).startsWith("text/plain; version=0.0.4");
        assertThat(text.body()).doesNotContain("trace_id");
    }

    @Test
    void withoutIdsNoExemplar() {
        metrics.request(end(attempt(ProviderType.ANTHROPIC, "claude-sonnet-4-6"), "/v1/messages", "ok", true, usage(1, 1, 0, 0), null, null));
        assertThat(metrics.scrape("application/openmetrics-text").body()).doesNotContain("trace_id");
    }

    /** The {@code le} values of the bucket lines of {@code name} that contain {@code having}, in order. */
    static List<String> buckets(String exposition, String name, String having) {
        Pattern le = Pattern.compile("le=\"([^\"]+)\"");
        return Arrays.stream(exposition.split("\n")).filter(l -> l.startsWith(name + "{") && l.contains(having)).map(l -> {
            Matcher m = le.matcher(l);
            return m.find() ? m.group(1) : "";
        }).toList();
    }

    static String line(String exposition, String name, String having) {
        return Arrays.stream(exposition.split("\n")).filter(l -> l.startsWith(name + "{") && l.contains(having)).findFirst().orElseThrow();
    }
}

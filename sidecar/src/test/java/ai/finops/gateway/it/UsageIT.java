package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.RedisServer;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /usage} on the operations port after real requests: the JSON answer and the FOCUS CSV to the
 * micro-dollar, the ledger kept across a restart in the data folder, and two gateways on one Redis, each
 * answering for both.
 */
@ExtendWith(NettyLeakDetector.class)
class UsageIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PRICED = """
            models:
            - name: claude-sonnet-4-6
              pricing: {inputPerMTok: "3.00", outputPerMTok: "15.00", cacheWritePerMTok: "3.75", cacheReadPerMTok: "0.30"}
            """;

    static GatewayHarness harness(Simulator simulator) throws Exception {
        return new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("anthropic-sim", simulator.baseUrl(), PRICED))
                .write("keys.yaml", GatewayHarness.keyAndSecrets());
    }

    static HttpResponse<String> send(GatewayHarness h, boolean stream) throws Exception {
        String body = "{\"model\":\"claude-sonnet-4-6\",\"max_tokens\":64,\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        return h.post("/v1/messages", body, "x-api-key", KEY, "content-type", "application/json");
    }

    @Test
    void usageAsJsonAndFocusToTheMicroDollarAndKeptAcrossARestart(@TempDir Path data) throws Exception {
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
                GatewayHarness h = harness(simulator)) {
            h.governance = new ai.finops.gateway.Gateway.Governance(data, null, null, null, "default");
            h.start();
            // 1000 in, 200 out, 5000 cache read: $0.003 + $0.003 + $0.0015 = 7,500 µ$
            simulator.enqueue(Reply.text("one").withUsage(1000, 200, 0, 5000));
            assertThat(send(h, false).statusCode()).isEqualTo(200);
            // streamed: 10 in, 7 out, 100 cache write: 30 + 105 + 375 = 510 µ$
            simulator.enqueue(Reply.text("two").withUsage(10, 7, 100, 0));
            assertThat(send(h, true).statusCode()).isEqualTo(200);
            // an error: a request, no tokens, no cost
            simulator.enqueue(Reply.status(400, "invalid_request_error", "no"));
            assertThat(send(h, false).statusCode()).isEqualTo(400);

            JsonNode usage = json(h.get(h.adminUrl() + "/usage?since=1d"));
            assertThat(usage.get("currency").asText()).isEqualTo("USD");
            JsonNode totals = usage.get("totals");
            assertThat(totals.get("requests").asLong()).isEqualTo(3);
            assertThat(totals.get("inputTokens").asLong()).isEqualTo(1010);
            assertThat(totals.get("outputTokens").asLong()).isEqualTo(207);
            assertThat(totals.get("cacheReadTokens").asLong()).isEqualTo(5000);
            assertThat(totals.get("cacheWriteTokens").asLong()).isEqualTo(100);
            assertThat(totals.get("costUsd").asText()).isEqualTo("0.008010");
            assertThat(usage.get("rows")).isNotEmpty().allSatisfy(row -> {
                assertThat(row.get("virtualKey").asText()).isEqualTo("dev");
                assertThat(row.get("team").asText()).isEqualTo("platform");
                assertThat(row.get("provider").asText()).isEqualTo("anthropic");
                assertThat(row.get("deployment").asText()).isEqualTo("anthropic-sim");
                assertThat(row.get("model").asText()).isEqualTo("claude-sonnet-4-6");
            });
            assertThat(json(h.get(h.adminUrl() + "/usage?since=1d&team=other")).get("rows")).isEmpty();

            HttpResponse<String> focus = h.get(h.adminUrl() + "/usage?since=1d&format=focus");
            assertThat(focus.statusCode()).isEqualTo(200);
            assertThat(focus.headers().firstValue("content-type")).hasValue("text/csv; charset=utf-8");
            List<List<String>> csv = csv(focus.body());
            List<String> header = csv.get(0);
            assertThat(header).startsWith("AvailabilityZone", "BilledCost").endsWith("Tags").hasSize(57);
            List<List<String>> rows = csv.subList(1, csv.size());
            assertThat(rows).hasSize(4);    // input, output, cache read, cache write (one day, unless the test ran over midnight)
            long micros = 0;
            long tokens = 0;
            for (List<String> row : rows) {
                micros += new java.math.BigDecimal(row.get(header.indexOf("BilledCost"))).movePointRight(6).longValueExact();
                tokens += Long.parseLong(row.get(header.indexOf("ConsumedQuantity")));
                assertThat(row.get(header.indexOf("EffectiveCost"))).isEqualTo(row.get(header.indexOf("BilledCost")));
                assertThat(row.get(header.indexOf("ChargeCategory"))).isEqualTo("Usage");
                assertThat(row.get(header.indexOf("ProviderName"))).isEqualTo("Anthropic");
                assertThat(row.get(header.indexOf("ResourceId"))).isEqualTo("anthropic-sim");
                assertThat(JSON.readTree(row.get(header.indexOf("Tags"))).get("finops.ai/virtual-key").asText()).isEqualTo("dev");
            }
            assertThat(micros).isEqualTo(8010);
            assertThat(tokens).isEqualTo(1010 + 207 + 5000 + 100);
            List<String> output = rows.stream().filter(r -> r.get(header.indexOf("SkuMeter")).equals("Output Tokens")).findFirst().orElseThrow();
            assertThat(output.get(header.indexOf("BilledCost"))).isEqualTo("0.003105");    // 207 x $15 per million
            assertThat(output.get(header.indexOf("ListUnitPrice"))).isEqualTo("15");
            assertThat(output.get(header.indexOf("PricingQuantity"))).isEqualTo("0.000207");

            HttpResponse<String> bad = h.get(h.adminUrl() + "/usage?since=last-week");
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(json(bad).get("error").asText()).contains("since must be an ISO date");
            HttpResponse<String> post = h.http.send(HttpRequest.newBuilder(URI.create(h.adminUrl() + "/usage"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);

            h.gateway.close();
            h.gateway = null;
            assertThat(data.resolve("usage.json")).exists();
            h.start();
            assertThat(json(h.get(h.adminUrl() + "/usage?since=1d")).get("totals").get("costUsd").asText()).isEqualTo("0.008010");
        }
    }

    @Test
    void twoGatewaysOnOneRedisEachAnswerForBoth() throws Exception {
        try (RedisServer redis = RedisServer.start();
                Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
                GatewayHarness a = harness(simulator);
                GatewayHarness b = harness(simulator)) {
            a.governance = new ai.finops.gateway.Gateway.Governance(null, redis.url(), null, null, "default");
            b.governance = a.governance;
            a.start();
            b.start();
            simulator.enqueue(Reply.text("a").withUsage(1000, 0, 0, 0));
            assertThat(send(a, false).statusCode()).isEqualTo(200);
            simulator.enqueue(Reply.text("b").withUsage(0, 100, 0, 0));
            assertThat(send(b, false).statusCode()).isEqualTo(200);
            for (GatewayHarness h : List.of(a, b)) {
                JsonNode totals = waitForRequests(h, 2).get("totals");
                assertThat(totals.get("costUsd").asText()).isEqualTo("0.004500");    // 1000 x $3 + 100 x $15 per million
                assertThat(totals.get("inputTokens").asLong()).isEqualTo(1000);
                assertThat(totals.get("outputTokens").asLong()).isEqualTo(100);
            }
            assertThat(json(a.get(a.adminUrl() + "/usage?since=1d")).get("store").asText()).isEqualTo("redis");
        }
    }

    /** {@code /usage} once it counts {@code requests} (Redis is written asynchronously, a few times a second). */
    static JsonNode waitForRequests(GatewayHarness h, long requests) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        JsonNode usage = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = h.get(h.adminUrl() + "/usage?since=1d");
            if (r.statusCode() == 200) {
                usage = JSON.readTree(r.body());
                if (usage.get("totals").get("requests").asLong() == requests) {
                    return usage;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("/usage did not count " + requests + " requests within 10 s: " + usage);
    }

    static JsonNode json(HttpResponse<String> response) throws Exception {
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        return JSON.readTree(response.body());
    }

    /** RFC 4180 CSV into rows of fields. */
    static List<List<String>> csv(String text) {
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                row.add(field.toString());
                field.setLength(0);
            } else if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                row.add(field.toString());
                field.setLength(0);
                rows.add(row);
                row = new ArrayList<>();
                i++;
            } else {
                field.append(c);
            }
        }
        assertThat(field.length() == 0 && row.isEmpty()).as("the CSV ends with CRLF").isTrue();
        return rows;
    }
}

package ai.finops.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.crds.BudgetPeriod;
import ai.finops.gateway.Gateway;
import ai.finops.governance.CounterKeys;
import ai.finops.governance.CounterStore.Counter;
import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Budgets and rate limits as a client meets them, on one gateway with the embedded store: the
 * reservation admits or refuses (402 in the client's dialect, 429 with retry-after), headers say what
 * is left, and the settle charges exactly what the provider's usage cost, whatever way the request ends.
 */
@ExtendWith(NettyLeakDetector.class)
class GovernanceIT {
    static final ObjectMapper JSON = new ObjectMapper();
    /** $3 / $15 / $3.75 / $0.30 per million: the reservation's input rate is the cache write's, 3.75 µ$ a token. */
    static final String MODELS = """
            models:
            - name: claude-sonnet-4-6
              pricing: {inputPerMTok: "3.00", outputPerMTok: "15.00", cacheWritePerMTok: "3.75", cacheReadPerMTok: "0.30"}
            - name: claude-opus-4-6
              pricing: {inputPerMTok: "15.00", outputPerMTok: "75.00", cacheWritePerMTok: "18.75", cacheReadPerMTok: "1.50"}
            """;
    static final String BODY = "{\"model\":\"claude-sonnet-4-6\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    Simulator simulator() {
        Simulator s = Simulator.start();
        open.add(s);
        return s;
    }

    GatewayHarness gateway(Simulator simulator, String keySpec, String more) throws Exception {
        return gateway(simulator, keySpec, more, null);
    }

    GatewayHarness gateway(Simulator simulator, String keySpec, String more, Path dataDir) throws Exception {
        GatewayHarness g = new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("anthropic-sim", simulator.baseUrl(), MODELS))
                .write("keys.yaml", GatewayHarness.keyAndSecrets().replace("  team: platform\n", "  team: platform\n" + keySpec.indent(2)));
        if (more != null) {
            g.write("more.yaml", more);
        }
        g.governance = new Gateway.Governance(dataDir, null, null, null, "team-a");
        open.add(g);
        return g.start();
    }

    static HttpResponse<String> send(GatewayHarness g, String body) throws Exception {
        return g.post("/anthropic/v1/messages", body, "content-type", "application/json", "x-api-key", GatewayHarness.KEY,
                "anthropic-version", "2023-06-01");
    }

    /** What the worst case of {@link #BODY} reserves: (bytes + 1,024) input tokens at 3.75 µ$, 100 output at 15 µ$, rounded up. */
    static long sonnetReservation(String body) {
        return (long) Math.ceil((body.length() + 1024) * 3.75 + 100 * 15);
    }

    static long used(GatewayHarness g, Counter c) {
        return g.gateway.counters().used(List.of(c), Instant.now()).toCompletableFuture().join().getOrDefault(c.key(), 0L);
    }

    static Counter keyBudget(long limitMicros) {
        return CounterKeys.spend("team-a", CounterKeys.VIRTUAL_KEY, "dev", limitMicros, BudgetPeriod.MONTHLY, ZoneOffset.UTC, Instant.now());
    }

    static Counter budget(String name) {
        return CounterKeys.spend("team-a", CounterKeys.BUDGET, name, 1, BudgetPeriod.MONTHLY, ZoneOffset.UTC, Instant.now());
    }

    static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    @Test
    void aKeysBudgetAdmitsWhatItsReservationsLeaveRoomForThenRefuses402() throws Exception {
        Simulator sim = simulator();
        sim.defaultReply(Reply.text("ok").withUsage(1_000, 100, 0, 0));   // 1,000 x 3 + 100 x 15 = 4,500 µ$
        GatewayHarness g = gateway(sim, "budget: {limitUsd: \"0.02\", period: Monthly}", null);
        long reservation = sonnetReservation(BODY);
        Counter spend = keyBudget(20_000);
        int admitted = 0;
        for (int k = 0; ; k++) {
            HttpResponse<String> r = send(g, BODY);
            if (4_500L * k + reservation > 20_000) {
                assertThat(r.statusCode()).as("request %d: %d µ$ spent, %d more reserved, over 20,000", k + 1, 4_500 * k, reservation)
                        .isEqualTo(402);
                JsonNode error = json(r).path("error");
                assertThat(error.path("type").asText()).isEqualTo("billing_error");
                assertThat(error.path("message").asText())
                        .contains("the budget of virtual key \"dev\" is exhausted", "$0.02 Monthly limit", "resets at ");
                assertThat(r.headers().firstValue("retry-after")).as("a budget refusal is not worth retrying").isEmpty();
                break;
            }
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.headers().firstValue("x-finops-budget-remaining-usd")).as("what was left when it was admitted")
                    .hasValue(java.math.BigDecimal.valueOf(20_000 - 4_500L * k, 6).toPlainString());
            admitted++;
            long expected = 4_500L * (k + 1);
            await().atMost(Duration.ofSeconds(5)).until(() -> used(g, spend) == expected);
        }
        assertThat(admitted).isEqualTo(4);
        assertThat(used(g, spend)).as("the refusal charged nothing").isEqualTo(18_000);
        assertThat(sim.requests()).hasSize(4);
        assertThat(g.metrics()).contains("finops_gateway_admission_refusals_total{reason=\"budget\"} 1.0");
    }

    @Test
    void theOpenAiSurfaceGets402InsufficientQuota() throws Exception {
        Simulator sim = simulator();
        GatewayHarness g = gateway(sim, "budget: {limitUsd: \"0\", period: Daily}", null);
        HttpResponse<String> r = g.post("/openai/v1/chat/completions",
                "{\"model\":\"claude-sonnet-4-6\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "content-type", "application/json", "authorization", "Bearer " + GatewayHarness.KEY);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(402);
        assertThat(json(r).path("error").path("type").asText()).isEqualTo("insufficient_quota");
        assertThat(json(r).path("error").path("message").asText()).contains("$0.00 Daily limit");
        assertThat(sim.requests()).isEmpty();
    }

    @Test
    void requestsPerMinuteAdmitsExactlyTheLimitWithTheKeysHeadersInsteadOfTheProviders() throws Exception {
        Simulator sim = simulator();
        GatewayHarness g = gateway(sim, "rateLimits: {requestsPerMinute: 3, tokensPerMinute: 1000000}", null);
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = send(g, BODY);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.headers().firstValue("anthropic-ratelimit-requests-limit")).hasValue("3");
            assertThat(r.headers().firstValue("anthropic-ratelimit-requests-remaining")).hasValue(Integer.toString(2 - i));
            Instant reset = Instant.parse(r.headers().firstValue("anthropic-ratelimit-requests-reset").orElseThrow());
            assertThat(reset).isBetween(Instant.now().minusSeconds(2), Instant.now().plusSeconds(61));
            assertThat(r.headers().firstValue("anthropic-ratelimit-tokens-limit")).hasValue("1000000");
            long tokens = Long.parseLong(r.headers().firstValue("anthropic-ratelimit-tokens-remaining").orElseThrow());
            assertThat(tokens).isLessThan(1_000_000);
            assertThat(r.headers().allValues("anthropic-ratelimit-requests-limit")).as("replaced, never merged").hasSize(1);
        }
        HttpResponse<String> refused = send(g, BODY);
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(json(refused).path("error").path("type").asText()).isEqualTo("rate_limit_error");
        assertThat(json(refused).path("error").path("message").asText()).contains("virtual key \"dev\" may use 3 requests per minute");
        long retryAfter = Long.parseLong(refused.headers().firstValue("retry-after").orElseThrow());
        assertThat(retryAfter).as("one request drains in 20 s").isBetween(1L, 20L);
        assertThat(sim.requests()).hasSize(3);

        HttpResponse<String> openAi = g.post("/openai/v1/chat/completions",
                "{\"model\":\"claude-sonnet-4-6\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "content-type", "application/json", "authorization", "Bearer " + GatewayHarness.KEY);
        assertThat(openAi.statusCode()).isEqualTo(429);
        assertThat(json(openAi).path("error").path("type").asText()).as("OpenAI's own type").isIn("rate_limit_exceeded", "rate_limit_error");
    }

    @Test
    void theOpenAiSurfaceGetsXRatelimitHeaders() throws Exception {
        Simulator sim = simulator();
        GatewayHarness g = gateway(sim, "rateLimits: {requestsPerMinute: 10}", null);
        HttpResponse<String> r = g.post("/openai/v1/chat/completions",
                "{\"model\":\"claude-sonnet-4-6\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "content-type", "application/json", "authorization", "Bearer " + GatewayHarness.KEY);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-ratelimit-limit-requests")).hasValue("10");
        assertThat(r.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("9");
        assertThat(r.headers().firstValue("x-ratelimit-reset-requests").orElseThrow()).matches("[0-9.]+s");
        assertThat(r.headers().firstValue("anthropic-ratelimit-requests-limit")).isEmpty();
    }

    @Test
    void aRequestLargerThanTheTokenWindowIsA400NotARetry() throws Exception {
        Simulator sim = simulator();
        GatewayHarness g = gateway(sim, "rateLimits: {tokensPerMinute: 1000}", null);
        HttpResponse<String> r = send(g, BODY);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(json(r).path("error").path("message").asText()).contains("may use 1000 tokens per minute", "alone reserves");
        assertThat(sim.requests()).isEmpty();
    }

    @Test
    void maxConcurrentRequestsRefusesTheOneTooManyAndReleasesAtTheEnd() throws Exception {
        Simulator sim = simulator();
        // both hold their slots until the third is decided, however slowly a loaded machine gets to it (a first byte
        // 1.5 s late came within 0.5 s of the test deployment's firstByte timeout of 2 s: longer both)
        sim.defaultReply(Reply.text("slow").delay(Duration.ofSeconds(5)));
        GatewayHarness g = new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("anthropic-sim", sim.baseUrl(),
                        MODELS + "timeouts: {connect: 1s, firstByte: 15s, idle: 15s}\n"))
                .write("keys.yaml", GatewayHarness.keyAndSecrets().replace("  team: platform\n",
                        "  team: platform\n  rateLimits: {maxConcurrentRequests: 2}\n"));
        g.governance = new Gateway.Governance(null, null, null, null, "team-a");
        open.add(g);
        g.start();
        List<CompletableFuture<HttpResponse<String>>> slow = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            slow.add(g.http.sendAsync(HttpRequest.newBuilder(URI.create(g.baseUrl() + "/anthropic/v1/messages"))
                    .header("content-type", "application/json").header("x-api-key", GatewayHarness.KEY)
                    .POST(HttpRequest.BodyPublishers.ofString(BODY)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        sim.awaitRequests(2, Duration.ofSeconds(5));
        HttpResponse<String> third = send(g, BODY);
        assertThat(third.statusCode()).isEqualTo(429);
        assertThat(json(third).path("error").path("message").asText()).contains("already has 2 requests in flight");
        assertThat(third.headers().firstValue("retry-after")).hasValue("1");
        for (CompletableFuture<HttpResponse<String>> f : slow) {
            assertThat(f.get().statusCode()).isEqualTo(200);
        }
        sim.defaultReply(Reply.text("ok"));
        assertThat(send(g, BODY).statusCode()).as("both slots released").isEqualTo(200);
    }

    @Test
    void budgetsOverTeamsAndModelsChargeOnlyWhatTheyCoverAndWarnNeverRefuses() throws Exception {
        Simulator sim = simulator();
        sim.defaultReply(Reply.text("ok").withUsage(100, 10, 0, 0));
        GatewayHarness g = gateway(sim, "", """
                apiVersion: finops.ai/v1alpha1
                kind: Budget
                metadata: {name: platform-opus}
                spec:
                  scope: {teams: [platform], models: ["claude-opus-*"]}
                  limitUsd: "1.00"
                  period: Monthly
                ---
                apiVersion: finops.ai/v1alpha1
                kind: Budget
                metadata: {name: everything-warn}
                spec:
                  limitUsd: "0.000001"
                  period: Monthly
                  action: Warn
                ---
                apiVersion: finops.ai/v1alpha1
                kind: Budget
                metadata: {name: other-team}
                spec:
                  scope: {teams: [research]}
                  limitUsd: "0"
                  period: Monthly
                """);
        assertThat(send(g, BODY).statusCode()).isEqualTo(200);                                      // sonnet: 100 x 3 + 10 x 15 = 450
        assertThat(send(g, BODY.replace("claude-sonnet-4-6", "claude-opus-4-6")).statusCode()).isEqualTo(200);  // 100 x 15 + 10 x 75 = 2,250
        await().atMost(Duration.ofSeconds(5)).until(() -> used(g, budget("everything-warn")) == 2_700);
        assertThat(used(g, budget("platform-opus"))).as("the opus request only").isEqualTo(2_250);
        assertThat(used(g, budget("other-team"))).as("another team's budget").isZero();
        HttpResponse<String> warned = send(g, BODY);
        assertThat(warned.statusCode()).as("a Warn budget far past its limit still admits").isEqualTo(200);
        assertThat(warned.headers().firstValue("x-finops-budget-remaining-usd")).as("the tightest: platform-opus does not cover sonnet")
                .hasValue("-0.002699");
    }

    @Test
    void theSettleChargesWhatTheUsageCostOnEveryPath() throws Exception {
        Simulator sim = simulator();
        GatewayHarness g = gateway(sim, "budget: {limitUsd: \"100.00\", period: Monthly}", null);
        Counter spend = keyBudget(100_000_000);
        String streaming = BODY.replace("{\"model\"", "{\"stream\":true,\"model\"");

        sim.enqueue(Reply.text("fine").withUsage(1_000, 100, 200, 300));   // 3,000 + 1,500 + 750 + 90
        assertThat(send(g, BODY).statusCode()).isEqualTo(200);
        long total = 5_340;
        awaitUsed(g, spend, total);

        sim.defaultReply(Reply.status(500, "api_error", "boom"));
        assertThat(send(g, BODY).statusCode()).as("an upstream 5xx").isGreaterThanOrEqualTo(500);
        awaitUsed(g, spend, total);
        sim.defaultReply(Reply.text("ok"));

        sim.enqueue(Reply.resetAfterFirstByte().withUsage(2_000, 50, 0, 0));
        HttpResponse<String> cut = send(g, streaming);
        assertThat(cut.body()).contains("event: error");
        total += 2_000 * 3 + 15;   // message_start's usage: the input, and 1 output token
        awaitUsed(g, spend, total);

        sim.enqueue(Reply.stallAfterFirstByte().withUsage(4_000, 10, 0, 0));
        try (InputStream in = g.http.send(HttpRequest.newBuilder(URI.create(g.baseUrl() + "/anthropic/v1/messages"))
                .header("content-type", "application/json").header("x-api-key", GatewayHarness.KEY)
                .POST(HttpRequest.BodyPublishers.ofString(streaming)).build(), HttpResponse.BodyHandlers.ofInputStream()).body()) {
            in.read(new byte[64]);   // the stream started; the client leaves
        }
        total += 4_000 * 3 + 15;
        awaitUsed(g, spend, total);
    }

    @Test
    void aFallbackAfter529IsChargedAtTheModelThatAnswered() throws Exception {
        Simulator primary = simulator();
        Simulator backup = simulator();
        primary.defaultReply(Reply.status(529, "overloaded_error", "busy"));
        backup.defaultReply(Reply.text("from backup").withUsage(1_000, 100, 0, 0));   // opus: 15,000 + 7,500
        GatewayHarness g = new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("primary", primary.baseUrl(), MODELS) + "---\n"
                        + GatewayHarness.anthropicDeployment("backup", backup.baseUrl(), MODELS))
                .write("keys.yaml", GatewayHarness.keyAndSecrets().replace("  team: platform\n",
                        "  team: platform\n  budget: {limitUsd: \"100.00\", period: Monthly}\n"))
                .write("rules.yaml", GatewayHarness.fallbackRule("fallback", "claude-sonnet-4-6", "primary/claude-sonnet-4-6",
                        "backup/claude-opus-4-6"));
        g.governance = new Gateway.Governance(null, null, null, null, "team-a");
        open.add(g);
        g.start();
        HttpResponse<String> r = send(g, BODY);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("from backup");
        awaitUsed(g, keyBudget(100_000_000), 22_500);
    }

    @Test
    void embeddedSpendSurvivesARestart(@org.junit.jupiter.api.io.TempDir Path dataDir) throws Exception {
        Simulator sim = simulator();
        sim.defaultReply(Reply.text("ok").withUsage(1_000, 100, 0, 0));
        GatewayHarness first = gateway(sim, "budget: {limitUsd: \"1.00\", period: Monthly}", null, dataDir);
        assertThat(send(first, BODY).statusCode()).isEqualTo(200);
        awaitUsed(first, keyBudget(1_000_000), 4_500);
        first.gateway.close();
        first.gateway = null;
        assertThat(Files.list(dataDir)).isNotEmpty();
        GatewayHarness second = gateway(sim, "budget: {limitUsd: \"1.00\", period: Monthly}", null, dataDir);
        assertThat(used(second, keyBudget(1_000_000))).isEqualTo(4_500);
        HttpResponse<String> r = send(second, BODY);
        assertThat(r.headers().firstValue("x-finops-budget-remaining-usd")).hasValue("0.995500");
    }

    @Test
    void aRuleSendsAKeyNearItsBudgetToACheaperModel() throws Exception {
        Simulator sim = simulator();
        sim.defaultReply(Reply.text("ok").withUsage(1_000, 100, 0, 0));   // opus: 22,500 µ$
        GatewayHarness g = gateway(sim, "budget: {limitUsd: \"0.08\", period: Monthly}", """
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: thrifty}
                spec:
                  priority: 10
                  when: 'budget.usedRatio > 0.5 && model.startsWith("claude-opus")'
                  targets: [{model: anthropic-sim/claude-sonnet-4-6}]
                """);
        String opus = BODY.replace("claude-sonnet-4-6", "claude-opus-4-6");
        for (int i = 0; i < 3; i++) {
            assertThat(send(g, opus).statusCode()).isEqualTo(200);
        }
        List<String> models = sim.requests().stream().map(r -> {
            try {
                return JSON.readTree(r.body()).path("model").asText();   // the provider-side model
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).toList();
        // The rule reads what the key's counter held when the gateway last saw it: at its last reservation (the spend then
        // and that reservation), or read again once that is 5 s old; on a slow machine either may be what it reads, and the
        // limit is such that both route alike. 1: nothing spent; 2: 35% (the first one's reservation, 28,350) or 28% (its
        // 22,500 settled); 3: 64% (22,500 spent + 28,350 reserved) or 56% (45,000 settled): sonnet.
        assertThat(models).containsExactly("claude-opus-4-6", "claude-opus-4-6", "claude-sonnet-4-6");
        JsonNode explained = JSON.readTree(g.http.send(HttpRequest.newBuilder(URI.create(g.adminUrl() + "/explain"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"claude-opus-4-6\",\"virtualKey\":\"dev\"}")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        assertThat(explained.path("rule").asText()).isEqualTo("thrifty");
        assertThat(explained.path("budget").path("usedRatio").asDouble()).isGreaterThan(0.5);
        assertThat(explained.path("budget").path("remainingUsd").asDouble()).isLessThan(0.05);
    }

    @Test
    void claudeCodesTwoTurnsAreChargedWhatTheirCacheWritesAndReadsCost() throws Exception {
        Simulator sim = simulator();
        GatewayHarness g = gateway(sim, "budget: {limitUsd: \"10.00\", period: Monthly}", GatewayHarness.SONNET_ALIAS_RULE);
        // what turn 1 and turn 2 of the captured session would report: the first writes the cache, the second reads it
        sim.enqueue(Reply.text("turn 1").withUsage(4, 1_337, 21_844, 0), Reply.text("turn 2").withUsage(6, 95, 84, 21_844));
        for (String turn : List.of("turn1-request.json", "turn2-request.json")) {
            ai.finops.testkit.ClaudeCodeFixtures.CapturedRequest captured = ai.finops.testkit.ClaudeCodeFixtures.load(turn);
            HttpResponse<String> r = g.replay(captured, new String(captured.body(), java.nio.charset.StandardCharsets.UTF_8),
                    java.util.Map.of("x-api-key", GatewayHarness.KEY));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        }
        // turn 1: 4 x $3 + 21,844 x $3.75 (cache write) + 1,337 x $15 per million = 12 + 81,915 + 20,055 = 101,982 µ$
        // turn 2: 6 x $3 + 84 x $3.75 + 21,844 x $0.30 (cache read) + 95 x $15 = 18 + 315 + 6,553.2 + 1,425 = 8,311.2, so 8,311 µ$
        awaitUsed(g, keyBudget(10_000_000), 101_982 + 8_311);
    }

    @Test
    void readyzSaysWhereTheCountersAre() throws Exception {
        GatewayHarness g = gateway(simulator(), "", null);
        assertThat(g.get(g.adminUrl() + "/readyz").body()).contains("governance: embedded");
    }

    static void awaitUsed(GatewayHarness g, Counter c, long expected) {
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(used(g, c)).isEqualTo(expected));
    }
}

package ai.finops.gateway.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.gateway.observability.Pricing;
import ai.finops.gateway.translate.Usage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsageLedgerTest {
    static final Instant NOW = Instant.parse("2026-12-07T15:30:00Z");
    static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    static final LocalDate DAY = LocalDate.parse("2026-12-07");
    static final Pricing SONNET = Pricing.of("3", "15");    // cache read 0.3, cache write 3.75
    static final UsageKey ALICE = new UsageKey("alice", "platform", "team-a", "anthropic", "anthropic-direct", "api.anthropic.com",
            "claude-sonnet-4-6", UsageLedger.prices(SONNET));
    static final ObjectMapper JSON = new ObjectMapper();

    static Usage usage(long input, long output, long cacheRead, long cacheWrite) {
        Usage u = new Usage();
        u.inputTokens = input;
        u.outputTokens = output;
        u.cacheReadInputTokens = cacheRead;
        u.cacheCreationInputTokens = cacheWrite;
        u.seen = true;
        return u;
    }

    static long[] priced(Usage u) {
        return UsageLedger.values(u, SONNET, SONNET.cost(u));
    }

    @Test
    void aRequestsCostIsSplitByTokenKindAndThePartsAddUpToTheWhole() {
        long[] v = priced(usage(1000, 200, 5000, 0));
        assertThat(v[Measure.REQUESTS.ordinal()]).isEqualTo(1);
        assertThat(v[Measure.COST_MICROS.ordinal()]).isEqualTo(7500);   // 3000 + 3000 + 1500
        assertThat(v[Measure.INPUT_COST_MICROS.ordinal()]).isEqualTo(3000);
        assertThat(v[Measure.OUTPUT_COST_MICROS.ordinal()]).isEqualTo(3000);
        assertThat(v[Measure.CACHE_READ_COST_MICROS.ordinal()]).isEqualTo(1500);
        assertThat(v[Measure.CACHE_WRITE_COST_MICROS.ordinal()]).isZero();

        // fractions of a micro-dollar: 7 cache-read tokens at 0.3 = 2.1 µ$, 3 input at 3 = 9, 1 cache-write at 3.75 = 3.75
        long[] odd = priced(usage(3, 0, 7, 1));
        assertThat(odd[Measure.COST_MICROS.ordinal()]).isEqualTo(15);    // 14.85 rounded half up
        assertThat(odd[Measure.INPUT_COST_MICROS.ordinal()] + odd[Measure.OUTPUT_COST_MICROS.ordinal()]
                + odd[Measure.CACHE_READ_COST_MICROS.ordinal()] + odd[Measure.CACHE_WRITE_COST_MICROS.ordinal()]).isEqualTo(15);
    }

    @Test
    void aRequestWithoutUsageOrPriceCountsAsARequest() {
        long[] none = UsageLedger.values(null, null, null);
        assertThat(none).containsExactly(1, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        long[] unpriced = UsageLedger.values(usage(10, 5, 0, 0), null, null);
        assertThat(unpriced[Measure.INPUT_TOKENS.ordinal()]).isEqualTo(10);
        assertThat(unpriced[Measure.COST_MICROS.ordinal()]).isZero();
    }

    @Test
    void theEmbeddedStoreAddsUpRowsAndPutsRowsBeyondTheCapIntoOther() {
        EmbeddedUsageStore store = new EmbeddedUsageStore(null, CLOCK, 2);
        store.add(DAY, ALICE, priced(usage(1000, 200, 0, 0)));
        store.add(DAY, ALICE, priced(usage(1000, 200, 0, 0)));
        UsageKey bob = new UsageKey("bob", "", "", "openai", "oai", "api.openai.com", "gpt-5", "");
        store.add(DAY, bob, UsageLedger.values(usage(1, 1, 0, 0), null, null));
        UsageKey carol = new UsageKey("carol", "", "", "anthropic", "anthropic-direct", "", "claude-sonnet-4-6", UsageLedger.prices(SONNET));
        store.add(DAY, carol, priced(usage(1_000_000, 0, 0, 0)));
        store.add(DAY.minusDays(UsageStore.KEEP_DAYS), ALICE, priced(usage(1, 0, 0, 0)));    // older than kept: dropped

        List<UsageRow> rows = store.read(DAY.minusYears(2), DAY).toCompletableFuture().join();
        Map<UsageKey, long[]> byKey = new java.util.HashMap<>();
        rows.forEach(r -> byKey.put(r.key(), r.values()));
        assertThat(byKey).containsOnlyKeys(ALICE, bob, UsageKey.OTHER);
        assertThat(byKey.get(ALICE)[Measure.REQUESTS.ordinal()]).isEqualTo(2);
        assertThat(byKey.get(ALICE)[Measure.COST_MICROS.ordinal()]).isEqualTo(12_000);
        assertThat(byKey.get(UsageKey.OTHER)[Measure.COST_MICROS.ordinal()]).isEqualTo(3_000_000);    // carol's cost, kept
        store.close();
    }

    @Test
    void theEmbeddedStoreKeepsItsRowsAcrossARestart(@TempDir Path dir) throws Exception {
        EmbeddedUsageStore first = new EmbeddedUsageStore(dir, CLOCK);
        first.add(DAY, ALICE, priced(usage(1000, 200, 5000, 0)));
        UsageKey odd = new UsageKey("k|%7C", "team \"x\", y", "", "openai-compatible", "local", "llm.example.com", "m", "");
        first.add(DAY.minusDays(1), odd, UsageLedger.values(null, null, null));
        first.close();
        assertThat(dir.resolve(EmbeddedUsageStore.FILE)).exists();
        assertThat(dir.resolve("." + EmbeddedUsageStore.FILE + ".tmp")).doesNotExist();

        EmbeddedUsageStore second = new EmbeddedUsageStore(dir, CLOCK);
        List<UsageRow> rows = second.read(DAY.minusDays(1), DAY).toCompletableFuture().join();
        assertThat(rows).hasSize(2);
        assertThat(rows).anySatisfy(r -> {
            assertThat(r.key()).isEqualTo(ALICE);
            assertThat(r.get(Measure.COST_MICROS)).isEqualTo(7500);
            assertThat(r.get(Measure.CACHE_READ_TOKENS)).isEqualTo(5000);
        });
        assertThat(rows).anySatisfy(r -> assertThat(r.key()).isEqualTo(odd));
        second.close();
    }

    @Test
    void anUnreadableFileIsMovedAsideAndTheLedgerStartsEmpty(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(EmbeddedUsageStore.FILE), "{not json");
        EmbeddedUsageStore store = new EmbeddedUsageStore(dir, CLOCK);
        assertThat(store.read(DAY, DAY).toCompletableFuture().join()).isEmpty();
        assertThat(dir.resolve(EmbeddedUsageStore.FILE + ".unreadable")).exists();
        store.close();
    }

    @Test
    void queries() {
        UsageQuery q = UsageQuery.parse("/usage", NOW);
        assertThat(q.from()).isEqualTo(LocalDate.parse("2026-11-07"));
        assertThat(q.to()).isEqualTo(DAY);
        assertThat(q.format()).isEqualTo("json");
        assertThat(UsageQuery.parse("/usage?since=7d", NOW).from()).isEqualTo(LocalDate.parse("2026-11-30"));
        assertThat(UsageQuery.parse("/usage?since=24h", NOW).from()).isEqualTo(LocalDate.parse("2026-12-06"));
        UsageQuery dated = UsageQuery.parse("/usage?since=2026-12-01&until=2026-12-03&team=platform&format=focus", NOW);
        assertThat(dated.from()).isEqualTo(LocalDate.parse("2026-12-01"));
        assertThat(dated.to()).isEqualTo(LocalDate.parse("2026-12-03"));
        assertThat(dated.filters()).isEqualTo(Map.of("team", "platform"));
        assertThat(dated.format()).isEqualTo("focus");
        assertThat(dated.matches(ALICE)).isTrue();
        assertThat(UsageQuery.parse("/usage?virtualKey=bob", NOW).matches(ALICE)).isFalse();

        assertThatThrownBy(() -> UsageQuery.parse("/usage?since=yesterday", NOW)).hasMessageContaining("since must be an ISO date");
        assertThatThrownBy(() -> UsageQuery.parse("/usage?since=2026-12-08&until=2026-12-01", NOW)).hasMessageContaining("is after");
        assertThatThrownBy(() -> UsageQuery.parse("/usage?format=xml", NOW)).hasMessageContaining("format must be json or focus");
        assertThatThrownBy(() -> UsageQuery.parse("/usage?key=alice", NOW)).hasMessageContaining("unknown parameter 'key'");
        assertThatThrownBy(() -> UsageQuery.parse("/usage?since=2020-01-01", NOW)).hasMessageContaining("at most 400 days");
        assertThatThrownBy(() -> UsageQuery.parse("/usage?team=a&team=b", NOW)).hasMessageContaining("more than once");
    }

    @Test
    void theJsonAnswer() throws Exception {
        EmbeddedUsageStore store = new EmbeddedUsageStore(null, CLOCK);
        UsageLedger ledger = new UsageLedger(store, "team-a", CLOCK);
        store.add(DAY, ALICE, priced(usage(1000, 200, 5000, 0)));
        store.add(DAY, ALICE, UsageLedger.values(null, null, null));
        UsageKey bob = new UsageKey("bob", "", "", "openai", "oai", "api.openai.com", "gpt-5", "");
        store.add(DAY.minusDays(1), bob, UsageLedger.values(usage(1, 1, 0, 0), null, null));

        UsageLedger.Answer answer = ledger.answer("/usage?since=2026-12-01").toCompletableFuture().join();
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.contentType()).isEqualTo("application/json");
        JsonNode body = JSON.readTree(answer.body());
        assertThat(body.get("from").asText()).isEqualTo("2026-12-01");
        assertThat(body.get("to").asText()).isEqualTo("2026-12-07");
        assertThat(body.get("currency").asText()).isEqualTo("USD");
        assertThat(body.get("rows")).hasSize(2);
        JsonNode alice = body.get("rows").get(1);
        assertThat(JSON.writeValueAsString(alice)).isEqualTo("{\"date\":\"2026-12-07\",\"virtualKey\":\"alice\",\"team\":\"platform\","
                + "\"namespace\":\"team-a\",\"provider\":\"anthropic\",\"deployment\":\"anthropic-direct\",\"model\":\"claude-sonnet-4-6\","
                + "\"requests\":2,\"inputTokens\":1000,\"outputTokens\":200,\"cacheReadTokens\":5000,\"cacheWriteTokens\":0,"
                + "\"costUsd\":\"0.007500\"}");
        assertThat(body.get("rows").get(0).get("virtualKey").asText()).isEqualTo("bob");
        assertThat(body.get("totals").get("requests").asLong()).isEqualTo(3);
        assertThat(body.get("totals").get("costUsd").asText()).isEqualTo("0.007500");

        UsageLedger.Answer filtered = ledger.answer("/usage?since=2026-12-01&virtualKey=bob").toCompletableFuture().join();
        assertThat(JSON.readTree(filtered.body()).get("rows")).hasSize(1);

        UsageLedger.Answer bad = ledger.answer("/usage?until=soon").toCompletableFuture().join();
        assertThat(bad.status()).isEqualTo(400);
        assertThat(JSON.readTree(bad.body()).get("error").asText()).contains("until must be an ISO date");
        ledger.close();
    }

    @Test
    void theFocusAnswer() {
        EmbeddedUsageStore store = new EmbeddedUsageStore(null, CLOCK);
        UsageLedger ledger = new UsageLedger(store, null, CLOCK);
        store.add(DAY, ALICE, priced(usage(1000, 200, 5000, 0)));
        store.add(DAY, ALICE, priced(usage(1000, 0, 0, 0)));
        UsageKey quoted = new UsageKey("bob", "ml, \"research\"", "", "bedrock", "bedrock-east", "bedrock-runtime.us-east-1.amazonaws.com",
                "claude-haiku-4-5", "");
        store.add(DAY, quoted, UsageLedger.values(usage(10, 0, 0, 0), null, null));
        store.add(DAY, quoted, UsageLedger.values(null, null, null));

        UsageLedger.Answer answer = ledger.answer("/usage?format=focus&since=2026-12-07").toCompletableFuture().join();
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.contentType()).isEqualTo("text/csv; charset=utf-8");
        String[] lines = answer.body().split("\r\n", -1);
        assertThat(lines[lines.length - 1]).isEmpty();    // every line ends in CRLF
        assertThat(lines[0]).isEqualTo("AvailabilityZone,BilledCost,BillingAccountId,BillingAccountName,BillingAccountType,BillingCurrency,"
                + "BillingPeriodEnd,BillingPeriodStart,CapacityReservationId,CapacityReservationStatus,ChargeCategory,ChargeClass,"
                + "ChargeDescription,ChargeFrequency,ChargePeriodEnd,ChargePeriodStart,CommitmentDiscountCategory,CommitmentDiscountId,"
                + "CommitmentDiscountName,CommitmentDiscountQuantity,CommitmentDiscountStatus,CommitmentDiscountType,CommitmentDiscountUnit,"
                + "ConsumedQuantity,ConsumedUnit,ContractedCost,ContractedUnitPrice,EffectiveCost,InvoiceId,InvoiceIssuerName,ListCost,"
                + "ListUnitPrice,PricingCategory,PricingCurrency,PricingCurrencyContractedUnitPrice,PricingCurrencyEffectiveCost,"
                + "PricingCurrencyListUnitPrice,PricingQuantity,PricingUnit,ProviderName,PublisherName,RegionId,RegionName,ResourceId,"
                + "ResourceName,ResourceType,ServiceCategory,ServiceName,ServiceSubcategory,SkuId,SkuMeter,SkuPriceDetails,SkuPriceId,"
                + "SubAccountId,SubAccountName,SubAccountType,Tags");
        // alice: input, output, cache read (no cache write); bob: input only (his no-usage request has no row)
        assertThat(lines).hasSize(1 + 4 + 1);    // the header, four rows, and what follows the last CRLF

        // alice's input row, by hand: 2000 tokens at $3 per million = $0.006
        assertThat(lines[1]).isEqualTo(",0.006000,anthropic-direct,anthropic-direct,,USD,2027-01-01T00:00:00Z,2026-12-01T00:00:00Z,,,Usage,,"
                + "claude-sonnet-4-6 input tokens through anthropic-direct for virtual key alice,Usage-Based,2026-12-08T00:00:00Z,"
                + "2026-12-07T00:00:00Z,,,,,,,,2000,Tokens,0.006000,3,0.006000,,Anthropic,0.006000,3,Standard,USD,3,0.006000,3,0.002,"
                + "1000000 Tokens,Anthropic,Anthropic,,,anthropic-direct,anthropic-direct,ProviderDeployment,AI and Machine Learning,Claude,"
                + "Generative AI,claude-sonnet-4-6,Input Tokens,,anthropic-direct/claude-sonnet-4-6/input,team-a/alice,alice,VirtualKey,"
                + "\"{\"\"finops.ai/namespace\"\":\"\"team-a\"\",\"\"finops.ai/team\"\":\"\"platform\"\",\"\"finops.ai/virtual-key\"\":\"\"alice\"\"}\"");
        List<String> output = FocusExport.fields(row(store, ALICE), FocusExport.Kind.OUTPUT);
        assertThat(column(output, "BilledCost")).isEqualTo("0.003000");
        assertThat(column(output, "SkuPriceId")).isEqualTo("anthropic-direct/claude-sonnet-4-6/output");
        assertThat(column(output, "ListUnitPrice")).isEqualTo("15");
        List<String> cacheRead = FocusExport.fields(row(store, ALICE), FocusExport.Kind.CACHE_READ);
        assertThat(column(cacheRead, "ListUnitPrice")).isEqualTo("0.3");
        assertThat(column(cacheRead, "PricingQuantity")).isEqualTo("0.005");

        // bob's row: unpriced (cost 0, no unit price), Bedrock's region from its host, a team that needs quoting
        List<String> bob = FocusExport.fields(row(store, quoted), FocusExport.Kind.INPUT);
        assertThat(column(bob, "BilledCost")).isEqualTo("0.000000");
        assertThat(column(bob, "ListUnitPrice")).isEmpty();
        assertThat(column(bob, "ProviderName")).isEqualTo("Amazon Web Services");
        assertThat(column(bob, "PublisherName")).isEqualTo("Anthropic");
        assertThat(column(bob, "ServiceName")).isEqualTo("Amazon Bedrock");
        assertThat(column(bob, "RegionId")).isEqualTo("us-east-1");
        assertThat(lines[4]).endsWith(",bob,bob,VirtualKey,\"{\"\"finops.ai/namespace\"\":\"\"\"\",\"\"finops.ai/team\"\":\"\"ml, \\\"\"research\\\"\"\"\","
                + "\"\"finops.ai/virtual-key\"\":\"\"bob\"\"}\"");
        ledger.close();
    }

    @Test
    void quoting() {
        assertThat(FocusExport.quote("plain")).isEqualTo("plain");
        assertThat(FocusExport.quote("a,b")).isEqualTo("\"a,b\"");
        assertThat(FocusExport.quote("say \"hi\"")).isEqualTo("\"say \"\"hi\"\"\"");
        assertThat(FocusExport.quote("two\nlines")).isEqualTo("\"two\nlines\"");
        assertThat(FocusExport.providerName(new UsageKey("k", "", "", "openai-compatible", "local", "llm.example.com", "m", "")))
                .isEqualTo("llm.example.com");
    }

    static UsageRow row(UsageStore store, UsageKey key) {
        return store.read(DAY, DAY).toCompletableFuture().join().stream().filter(r -> r.key().equals(key)).findFirst().orElseThrow();
    }

    static String column(List<String> fields, String name) {
        return fields.get(FocusExport.COLUMNS.indexOf(name));
    }

    @Test
    void costStringsHaveSixDecimals() {
        assertThat(UsageReport.usd(0)).isEqualTo("0.000000");
        assertThat(UsageReport.usd(123456)).isEqualTo("0.123456");
        assertThat(UsageReport.usd(12_345_678_901L)).isEqualTo("12345.678901");
        assertThat(new BigDecimal(UsageReport.usd(7500))).isEqualByComparingTo("0.0075");
        assertThat(Arrays.asList(FocusExport.COLUMNS.toArray())).hasSize(57).doesNotHaveDuplicates();
    }
}

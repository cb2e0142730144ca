package ai.finops.gateway.usage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** {@code GET /usage} as JSON: a row per day and ledger row (prices merged), and the totals. */
final class UsageReport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private UsageReport() {}

    /** Micro-dollars as a decimal string with six decimals: {@code 123456} is {@code "0.123456"}. */
    static String usd(long micros) {
        return BigDecimal.valueOf(micros, 6).toPlainString();
    }

    static String json(UsageQuery query, String store, List<UsageRow> rows) {
        record Day(LocalDate day, UsageKey key) {}
        Map<Day, long[]> merged = new TreeMap<>(Comparator.comparing(Day::day).thenComparing(Day::key, UsageKey.ORDER));
        long[] totals = Measure.zero();
        for (UsageRow r : rows) {
            Measure.add(merged.computeIfAbsent(new Day(r.day(), r.key().withoutPrices()), d -> Measure.zero()), r.values());
            Measure.add(totals, r.values());
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("from", query.from().toString());
        out.put("to", query.to().toString());
        out.put("currency", "USD");
        out.put("store", store);
        ObjectNode filters = out.putObject("filters");
        new TreeMap<>(query.filters()).forEach(filters::put);
        ArrayNode list = out.putArray("rows");
        merged.forEach((d, v) -> {
            ObjectNode row = list.addObject();
            row.put("date", d.day().toString());
            row.put("virtualKey", d.key().virtualKey());
            row.put("team", d.key().team());
            row.put("namespace", d.key().namespace());
            row.put("provider", d.key().provider());
            row.put("deployment", d.key().deployment());
            row.put("model", d.key().model());
            measures(row, v);
        });
        measures(out.putObject("totals"), totals);
        return write(out);
    }

    private static void measures(ObjectNode node, long[] v) {
        node.put("requests", v[Measure.REQUESTS.ordinal()]);
        node.put("inputTokens", v[Measure.INPUT_TOKENS.ordinal()]);
        node.put("outputTokens", v[Measure.OUTPUT_TOKENS.ordinal()]);
        node.put("cacheReadTokens", v[Measure.CACHE_READ_TOKENS.ordinal()]);
        node.put("cacheWriteTokens", v[Measure.CACHE_WRITE_TOKENS.ordinal()]);
        node.put("costUsd", usd(v[Measure.COST_MICROS.ordinal()]));
    }

    static UsageLedger.Answer error(int status, String message) {
        return new UsageLedger.Answer(status, "application/json", write(JSON.createObjectNode().put("error", message)));
    }

    private static String write(ObjectNode node) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}

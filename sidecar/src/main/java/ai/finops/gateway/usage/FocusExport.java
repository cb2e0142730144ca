package ai.finops.gateway.usage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code GET /usage?format=focus}: the ledger as a FOCUS 1.2 cost and usage dataset, CSV (RFC 4180: a
 * header row with the 57 column names of FOCUS 1.2 in the specification's alphabetical order, fields quoted
 * when they hold a comma, a quote or a line break, CRLF line ends).
 *
 * <p>One row per day, virtual key, team, namespace, deployment, model, price and <em>kind of token</em>
 * (input, output, cache read, cache write), for each kind the row used: each kind has its own price, so
 * {@code ConsumedQuantity} (tokens), {@code PricingQuantity} (millions of tokens), {@code ListUnitPrice}
 * (USD per million) and {@code SkuPriceId} mean one thing. A day's rows that used no tokens (requests that
 * failed, or had no usage) cost nothing and have no row. The four costs are the same amount (the gateway
 * prices at list, with no discount or commitment); it is the ledger's micro-dollars, so the rows add up to
 * the JSON answer's totals exactly, and {@code ListUnitPrice × PricingQuantity} may differ from it by the
 * half micro-dollar each request was rounded to. MCP tool calls of a priced McpServer are one row per day, key,
 * server and tool, in {@code Requests} at the server's price per call ({@link #toolCallFields}).
 */
final class FocusExport {
    static final List<String> COLUMNS = List.of(
            "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType", "BillingCurrency",
            "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId", "CapacityReservationStatus", "ChargeCategory", "ChargeClass",
            "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory",
            "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountQuantity", "CommitmentDiscountStatus",
            "CommitmentDiscountType", "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice",
            "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory", "PricingCurrency",
            "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice", "PricingQuantity",
            "PricingUnit", "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType",
            "ServiceCategory", "ServiceName", "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId",
            "SubAccountName", "SubAccountType", "Tags");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern BEDROCK_REGION = Pattern.compile("bedrock-runtime(?:-fips)?\\.([a-z0-9-]+)\\.amazonaws\\.com");
    private static final Pattern VERTEX_REGION = Pattern.compile("([a-z0-9-]+)-aiplatform\\.googleapis\\.com");

    /** A kind of token: its name in SKU price ids, its meter, and where the ledger keeps its tokens, cost and price. */
    enum Kind {
        INPUT("input", "Input Tokens", Measure.INPUT_TOKENS, Measure.INPUT_COST_MICROS, 0),
        OUTPUT("output", "Output Tokens", Measure.OUTPUT_TOKENS, Measure.OUTPUT_COST_MICROS, 1),
        CACHE_READ("cache-read", "Cache Read Tokens", Measure.CACHE_READ_TOKENS, Measure.CACHE_READ_COST_MICROS, 2),
        CACHE_WRITE("cache-write", "Cache Write Tokens", Measure.CACHE_WRITE_TOKENS, Measure.CACHE_WRITE_COST_MICROS, 3);

        final String id;
        final String meter;
        final Measure tokens;
        final Measure cost;
        final int price;

        Kind(String id, String meter, Measure tokens, Measure cost, int price) {
            this.id = id;
            this.meter = meter;
            this.tokens = tokens;
            this.cost = cost;
            this.price = price;
        }
    }

    private FocusExport() {}

    static String csv(List<UsageRow> rows) {
        StringBuilder out = new StringBuilder();
        line(out, COLUMNS);
        List<UsageRow> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparing(UsageRow::day).thenComparing(UsageRow::key, UsageKey.ORDER));
        for (UsageRow row : sorted) {
            if (row.key().provider().equals(UsageLedger.MCP_PROVIDER)) {
                if (row.get(Measure.COST_MICROS) != 0) {
                    line(out, toolCallFields(row));
                }
                continue;
            }
            for (Kind kind : Kind.values()) {
                if (row.get(kind.tokens) != 0 || row.get(kind.cost) != 0) {
                    line(out, fields(row, kind));
                }
            }
        }
        return out.toString();
    }

    /** One row's values, by column. */
    static List<String> fields(UsageRow row, Kind kind) {
        return columns(values(row, kind));
    }

    /**
     * A ledger row of MCP tool calls ({@link UsageLedger#toolCall}) as one charge: the calls charged at the McpServer's
     * price per call (the ledger's cost divided by it; calls that were not charged cost nothing and are not counted),
     * the McpServer as the resource, the tool as the SKU, the server's host as provider.
     */
    static List<String> toolCallFields(UsageRow row) {
        UsageKey k = row.key();
        Map<String, String> v = values(row, Kind.INPUT);
        long cost = row.get(Measure.COST_MICROS);
        long price = k.prices().isEmpty() ? 0 : new BigDecimal(k.prices()).movePointRight(6).longValue();
        String calls = price == 0 ? "0" : Long.toString(cost / price);
        String provider = k.host().isEmpty() ? k.deployment() : k.host();
        String billed = UsageReport.usd(cost);
        for (String column : List.of("BilledCost", "ContractedCost", "EffectiveCost", "ListCost", "PricingCurrencyEffectiveCost")) {
            v.put(column, billed);
        }
        v.put("ChargeDescription", k.model() + " tool calls through McpServer " + k.deployment() + " for virtual key " + k.virtualKey());
        v.put("ConsumedQuantity", calls);
        v.put("ConsumedUnit", "Requests");
        v.put("PricingQuantity", calls);
        v.put("PricingUnit", "1 Request");
        for (String column : List.of("ContractedUnitPrice", "ListUnitPrice", "PricingCurrencyContractedUnitPrice", "PricingCurrencyListUnitPrice")) {
            v.put(column, k.prices());
        }
        v.put("InvoiceIssuerName", provider);
        v.put("ProviderName", provider);
        v.put("PublisherName", provider);
        v.put("RegionId", "");
        v.put("RegionName", "");
        v.put("ResourceType", "McpServer");
        v.put("ServiceName", "MCP tools");
        v.put("ServiceSubcategory", "Other (AI and Machine Learning)");
        v.put("SkuMeter", "Tool Calls");
        v.put("SkuPriceId", k.deployment() + "/" + k.model() + "/call");
        return columns(v);
    }

    private static List<String> columns(Map<String, String> v) {
        List<String> fields = new ArrayList<>(COLUMNS.size());
        for (String column : COLUMNS) {
            fields.add(v.getOrDefault(column, ""));
        }
        return fields;
    }

    /** One row's values by column name, for one kind of token (its cost, tokens and price). */
    private static Map<String, String> values(UsageRow row, Kind kind) {
        UsageKey k = row.key();
        LocalDate day = row.day();
        LocalDate month = day.withDayOfMonth(1);
        String cost = UsageReport.usd(row.get(kind.cost));
        String unitPrice = unitPrice(k.prices(), kind);
        String provider = providerName(k);
        String subAccount = k.namespace().isEmpty() ? k.virtualKey() : k.namespace() + "/" + k.virtualKey();
        Map<String, String> v = new LinkedHashMap<>();
        v.put("BilledCost", cost);
        v.put("BillingAccountId", k.deployment());
        v.put("BillingAccountName", k.deployment());
        v.put("BillingCurrency", "USD");
        v.put("BillingPeriodEnd", instant(month.plusMonths(1)));
        v.put("BillingPeriodStart", instant(month));
        v.put("ChargeCategory", "Usage");
        v.put("ChargeDescription", k.model() + " " + kind.meter.toLowerCase(Locale.ROOT) + " through " + k.deployment()
                + " for virtual key " + k.virtualKey());
        v.put("ChargeFrequency", "Usage-Based");
        v.put("ChargePeriodEnd", instant(day.plusDays(1)));
        v.put("ChargePeriodStart", instant(day));
        v.put("ConsumedQuantity", Long.toString(row.get(kind.tokens)));
        v.put("ConsumedUnit", "Tokens");
        v.put("ContractedCost", cost);
        v.put("ContractedUnitPrice", unitPrice);
        v.put("EffectiveCost", cost);
        v.put("InvoiceIssuerName", provider);
        v.put("ListCost", cost);
        v.put("ListUnitPrice", unitPrice);
        v.put("PricingCategory", "Standard");
        v.put("PricingCurrency", "USD");
        v.put("PricingCurrencyContractedUnitPrice", unitPrice);
        v.put("PricingCurrencyEffectiveCost", cost);
        v.put("PricingCurrencyListUnitPrice", unitPrice);
        v.put("PricingQuantity", BigDecimal.valueOf(row.get(kind.tokens), 6).stripTrailingZeros().toPlainString());
        v.put("PricingUnit", "1000000 Tokens");
        v.put("ProviderName", provider);
        v.put("PublisherName", publisherName(k.model(), provider));
        String region = region(k);
        v.put("RegionId", region);
        v.put("RegionName", region);
        v.put("ResourceId", k.deployment());
        v.put("ResourceName", k.deployment());
        v.put("ResourceType", "ProviderDeployment");
        v.put("ServiceCategory", "AI and Machine Learning");
        v.put("ServiceName", serviceName(k));
        v.put("ServiceSubcategory", "Generative AI");
        v.put("SkuId", k.model());
        v.put("SkuMeter", kind.meter);
        v.put("SkuPriceId", k.deployment() + "/" + k.model() + "/" + kind.id);
        v.put("SubAccountId", subAccount);
        v.put("SubAccountName", k.virtualKey());
        v.put("SubAccountType", "VirtualKey");
        v.put("Tags", tags(k));
        return v;
    }

    /** {@code 2026-12-07T00:00:00Z}. */
    static String instant(LocalDate day) {
        return day + "T00:00:00Z";
    }

    private static String unitPrice(String prices, Kind kind) {
        if (prices.isEmpty()) {
            return "";
        }
        String[] p = prices.split(" ");
        return p.length == 4 ? p[kind.price] : "";
    }

    /** Who sells the service: the provider type's company, or the host of an {@code openai-compatible} deployment. */
    static String providerName(UsageKey k) {
        return switch (k.provider()) {
            case "anthropic" -> "Anthropic";
            case "bedrock" -> "Amazon Web Services";
            case "vertex" -> "Google Cloud";
            case "azure", "azure-openai" -> "Microsoft";
            case "openai" -> "OpenAI";
            case "openai-compatible" -> k.host().isEmpty() ? k.deployment() : k.host();
            default -> k.provider();
        };
    }

    static String serviceName(UsageKey k) {
        return switch (k.provider()) {
            case "anthropic" -> "Claude";
            case "bedrock" -> "Amazon Bedrock";
            case "vertex" -> "Vertex AI";
            case "azure" -> "Azure AI Foundry";
            case "azure-openai" -> "Azure OpenAI";
            case "openai" -> "OpenAI API";
            case "openai-compatible" -> "OpenAI-compatible API";
            default -> k.provider();
        };
    }

    /** Who made the model, told by its name; else whoever provides it. */
    static String publisherName(String model, String provider) {
        String m = model.toLowerCase(Locale.ROOT);
        if (m.startsWith("claude") || m.startsWith("anthropic")) {
            return "Anthropic";
        }
        if (m.startsWith("gpt") || m.startsWith("chatgpt") || m.matches("o\\d.*")) {
            return "OpenAI";
        }
        if (m.startsWith("gemini")) {
            return "Google";
        }
        return provider;
    }

    /** The region a Bedrock or Vertex endpoint's host names; empty otherwise. */
    static String region(UsageKey k) {
        Matcher m = (k.provider().equals("bedrock") ? BEDROCK_REGION : VERTEX_REGION).matcher(k.host());
        return (k.provider().equals("bedrock") || k.provider().equals("vertex")) && m.matches() ? m.group(1) : "";
    }

    static String tags(UsageKey k) {
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put("finops.ai/namespace", k.namespace());
        tags.put("finops.ai/team", k.team());
        tags.put("finops.ai/virtual-key", k.virtualKey());
        try {
            return JSON.writeValueAsString(tags);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void line(StringBuilder out, List<String> fields) {
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append(quote(fields.get(i)));
        }
        out.append("\r\n");
    }

    /** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
    static String quote(String field) {
        if (field.indexOf(',') < 0 && field.indexOf('"') < 0 && field.indexOf('\n') < 0 && field.indexOf('\r') < 0) {
            return field;
        }
        return '"' + field.replace("\"", "\"\"") + '"';
    }
}

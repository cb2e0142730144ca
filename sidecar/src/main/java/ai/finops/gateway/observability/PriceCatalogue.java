package ai.finops.gateway.observability;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Built-in list prices of Claude models on the Anthropic API, USD per million tokens (input,
 * output; cache writes 1.25x and reads 0.1x input). A ProviderDeployment's {@code models[].pricing}
 * overrides it. Matched by the longest model-id prefix, so dated ids ({@code claude-sonnet-4-5-20250929})
 * and provider spellings that start the same way find their family.
 *
 * <p>Catalogue version {@value #VERSION}.
 */
public final class PriceCatalogue {
    public static final String VERSION = "2026-11";

    private static final Map<String, Pricing> PRICES = new LinkedHashMap<>();

    static {
        PRICES.put("claude-opus-4-6", Pricing.of("5.00", "25.00"));
        PRICES.put("claude-opus-4-5", Pricing.of("5.00", "25.00"));
        PRICES.put("claude-opus-4-1", Pricing.of("15.00", "75.00"));
        PRICES.put("claude-opus-4", Pricing.of("15.00", "75.00"));
        PRICES.put("claude-sonnet-4-6", Pricing.of("3.00", "15.00"));
        PRICES.put("claude-sonnet-4-5", Pricing.of("3.00", "15.00"));
        PRICES.put("claude-sonnet-4", Pricing.of("3.00", "15.00"));
        PRICES.put("claude-3-7-sonnet", Pricing.of("3.00", "15.00"));
        PRICES.put("claude-haiku-4-6", Pricing.of("1.00", "5.00"));
        PRICES.put("claude-haiku-4-5", Pricing.of("1.00", "5.00"));
        PRICES.put("claude-3-5-haiku", Pricing.of("0.80", "4.00"));
        PRICES.put("claude-3-haiku", Pricing.of("0.25", "1.25"));
    }

    private PriceCatalogue() {}

    /** The list price of {@code modelId}, or null when unknown. */
    public static Pricing lookup(String modelId) {
        Pricing best = null;
        int bestLength = -1;
        for (Map.Entry<String, Pricing> e : PRICES.entrySet()) {
            String prefix = e.getKey();
            if (modelId.startsWith(prefix) && prefix.length() > bestLength) {
                best = e.getValue();
                bestLength = prefix.length();
            }
        }
        return best;
    }
}

package ai.finops.gateway.usage;

import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * What a ledger row is counted under, within a day: who (virtual key, its team and namespace), where
 * (provider type, deployment, the deployment's host) and what (the model, and the prices it was charged
 * at). Every field is a string, empty when unknown, never null.
 *
 * @param host   the deployment's endpoint host (the service provider of an {@code openai-compatible} one)
 * @param prices the USD per million tokens the request was priced at, input, output, cache read and cache
 *               write, space-separated ({@code "3 15 0.3 3.75"}); empty when it was not priced
 */
public record UsageKey(String virtualKey, String team, String namespace, String provider, String deployment, String host, String model,
        String prices) {

    /** Where a day's rows go beyond the cap: their cost and tokens are kept, their identity is not. */
    public static final UsageKey OTHER = new UsageKey("other", "other", "", "other", "other", "", "other", "");

    static final Comparator<UsageKey> ORDER = Comparator.comparing(UsageKey::virtualKey).thenComparing(UsageKey::team)
            .thenComparing(UsageKey::namespace).thenComparing(UsageKey::provider).thenComparing(UsageKey::deployment)
            .thenComparing(UsageKey::model).thenComparing(UsageKey::host).thenComparing(UsageKey::prices);

    public UsageKey {
        virtualKey = Objects.requireNonNullElse(virtualKey, "");
        team = Objects.requireNonNullElse(team, "");
        namespace = Objects.requireNonNullElse(namespace, "");
        provider = Objects.requireNonNullElse(provider, "");
        deployment = Objects.requireNonNullElse(deployment, "");
        host = Objects.requireNonNullElse(host, "");
        model = Objects.requireNonNullElse(model, "");
        prices = Objects.requireNonNullElse(prices, "");
    }

    List<String> fields() {
        return List.of(virtualKey, team, namespace, provider, deployment, host, model, prices);
    }

    static UsageKey of(List<String> fields) {
        if (fields.size() != 8) {
            throw new IllegalArgumentException("a usage key has 8 fields, not " + fields.size());
        }
        return new UsageKey(fields.get(0), fields.get(1), fields.get(2), fields.get(3), fields.get(4), fields.get(5), fields.get(6),
                fields.get(7));
    }

    /** The same row without its prices: what the JSON answer groups by. */
    UsageKey withoutPrices() {
        return prices.isEmpty() ? this : new UsageKey(virtualKey, team, namespace, provider, deployment, host, model, "");
    }
}

package ai.finops.gateway.server;

import ai.finops.gateway.governance.Quota;
import io.netty.handler.codec.http.HttpHeaders;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * A governed key's limits and budget on the response, in its client's dialect. For a key with a
 * request or token limit the provider's own rate-limit headers are replaced, never merged (the client
 * sees the key's limits, not the gateway's provider account's):
 * <ul>
 * <li>Anthropic surface: {@code anthropic-ratelimit-requests-limit/-remaining/-reset} and
 *     {@code anthropic-ratelimit-tokens-limit/-remaining/-reset} (reset as an RFC 3339 instant);</li>
 * <li>OpenAI surface: {@code x-ratelimit-limit-requests}, {@code x-ratelimit-remaining-requests},
 *     {@code x-ratelimit-reset-requests} and the same for {@code -tokens} (reset as a duration: {@code 1.5s},
 *     {@code 6m0s});</li>
 * <li>both: {@code x-finops-budget-remaining-usd}, what the tightest budget had left when the request was
 *     admitted (negative once overdrawn).</li>
 * </ul>
 */
final class QuotaHeaders {
    static final String BUDGET_REMAINING = "x-finops-budget-remaining-usd";

    private QuotaHeaders() {}

    static void apply(HttpHeaders headers, Quota quota, boolean openAi) {
        if (quota == null) {
            return;
        }
        if (quota.rateLimited()) {
            List<String> providers = new ArrayList<>();
            for (String name : headers.names()) {
                String lower = name.toLowerCase(java.util.Locale.ROOT);
                if (lower.startsWith("anthropic-ratelimit-") || lower.startsWith("x-ratelimit-")) {
                    providers.add(name);
                }
            }
            providers.forEach(headers::remove);
            if (quota.requestsLimit() > 0) {
                window(headers, "requests", quota.requestsLimit(), quota.requestsRemaining(), quota.requestsReset(), openAi);
            }
            if (quota.tokensLimit() > 0) {
                window(headers, "tokens", quota.tokensLimit(), quota.tokensRemaining(), quota.tokensReset(), openAi);
            }
        }
        if (quota.budgetRemainingMicros() != null) {
            headers.set(BUDGET_REMAINING, BigDecimal.valueOf(quota.budgetRemainingMicros(), 6).toPlainString());
        }
    }

    private static void window(HttpHeaders headers, String unit, long limit, long remaining, Instant reset, boolean openAi) {
        if (openAi) {
            headers.set("x-ratelimit-limit-" + unit, limit);
            headers.set("x-ratelimit-remaining-" + unit, Math.max(0, remaining));
            headers.set("x-ratelimit-reset-" + unit, duration(Duration.between(Instant.now(), reset)));
        } else {
            headers.set("anthropic-ratelimit-" + unit + "-limit", limit);
            headers.set("anthropic-ratelimit-" + unit + "-remaining", Math.max(0, remaining));
            headers.set("anthropic-ratelimit-" + unit + "-reset", reset.truncatedTo(ChronoUnit.SECONDS).toString());
        }
    }

    /** As OpenAI writes a reset: {@code 0s}, {@code 1.5s}, {@code 6m0s}. */
    static String duration(Duration d) {
        long millis = Math.max(0, d.toMillis());
        long minutes = millis / 60_000;
        long rest = millis % 60_000;
        String seconds = BigDecimal.valueOf(rest, 3).stripTrailingZeros().toPlainString();
        return minutes > 0 ? minutes + "m" + seconds + "s" : seconds + "s";
    }
}

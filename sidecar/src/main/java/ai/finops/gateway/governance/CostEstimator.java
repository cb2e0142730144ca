package ai.finops.gateway.governance;

import ai.finops.gateway.observability.Pricing;
import ai.finops.gateway.routing.ModelEntry;
import ai.finops.gateway.translate.Usage;
import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * What a request may cost at most, reserved before it goes, and what it did cost, settled after, in
 * micro-dollars (a price per million tokens is exactly micro-dollars per token).
 *
 * <h2>The reservation: an upper bound</h2>
 * <ul>
 * <li>Input tokens: one per byte of the request body as the client sent it, plus
 *     {@value #INPUT_ALLOWANCE_TOKENS} for what the provider adds (the tool-use system prompt, a
 *     few hundred tokens, and each message's frame). Priced at the model's highest input-side rate
 *     (input, cache write, cache read: the 1.25x cache write for Anthropic's prices), since the
 *     gateway cannot know beforehand how much of the prompt will be written to the cache.</li>
 * <li>Output tokens: {@code max_tokens} as the request gives it (thinking included), or
 *     {@value #DEFAULT_MAX_TOKENS} when it gives none. Neither the model catalogue nor a
 *     {@link ModelEntry} knows a model's largest output, so a {@code max_tokens} above it is
 *     reserved as asked (the provider then refuses the request, and it settles at zero).</li>
 * </ul>
 * Rounded up to the micro-dollar.
 *
 * <h2>Why one token per byte</h2>
 * No ratio of bytes to tokens is a bound for every text, and the gateway sees bytes only. Measured
 * with an offline reconstruction of Claude's tokenizers that matches recorded {@code count_tokens}
 * answers (ctok 1.x; the v3 family is Claude 3 to Opus 4.6, v4.7 is Opus 4.7 and later), on the
 * captured Claude Code 2.1.328 bodies of {@code testkit} (86,675 and 86,926 bytes; their prose is
 * filler of the same length, and they carry no usage of a real call) and on 6,000-character texts
 * sent as one user message, in body bytes per token:
 * <table>
 * <caption>body bytes per token</caption>
 * <tr><th>content</th><th>v3</th><th>v4.7</th></tr>
 * <tr><td>Claude Code turn 1 and 2, whole body</td><td>3.97</td><td>2.16</td></tr>
 * <tr><td>English prose</td><td>5.30</td><td>3.15</td></tr>
 * <tr><td>Java source</td><td>3.99</td><td>2.93</td></tr>
 * <tr><td>numbers separated by spaces</td><td>1.99</td><td>1.99</td></tr>
 * <tr><td>hex digits, UUIDs</td><td>1.71, 1.49</td><td>1.53, 1.38</td></tr>
 * <tr><td>random CJK characters, emoji</td><td>1.45, 1.82</td><td>1.45, 1.82</td></tr>
 * <tr><td>base64, random letters and digits</td><td>1.16, 1.17</td><td>1.06, 1.07</td></tr>
 * <tr><td>characters outside the Basic Multilingual Plane</td><td>1.03</td><td>1.03</td></tr>
 * </table>
 * A body of 3 bytes per token would under-reserve the Claude Code bodies themselves on the newer
 * tokenizer, and tool results full of ids, hashes or base64 come close to one token per byte on
 * both. One token per byte holds for all of these; the only text found below it is contrived (a
 * random string of {@code a}, {@code Z}, {@code 9} and {@code .}: 0.96 bytes per token on v4.7).
 * On a Claude Code turn it reserves 2 to 4 times the input it will use; the output it reserves
 * ({@code max_tokens} 32,000) weighs more than that anyway.
 *
 * <p>What the body's size does not bound: an image or document referenced by URL or file id (its
 * tokens are not in the body), and a base64 PDF whose pages cost more tokens than their bytes (each
 * page is also read as an image). Images sent inline cost far fewer tokens than their bytes.
 * Whatever a reservation misses is still counted at settle: a budget can be overdrawn by what the
 * requests in flight when it runs out under-reserved, never by more.
 *
 * <h2>The settlement: exact</h2>
 * {@link Pricing#cost(Usage)} prices input, output, cache writes and cache reads each at its own
 * rate (the metrics and the access log record the same); in micro-dollars, rounded half up.
 */
public final class CostEstimator {
    /** Output tokens reserved when a request gives no {@code max_tokens}. */
    public static final long DEFAULT_MAX_TOKENS = 16_384;
    /** Input tokens reserved beyond the body's bytes, for what the provider adds to the prompt. */
    public static final long INPUT_ALLOWANCE_TOKENS = 1_024;

    private static final BigDecimal LONG_MAX = BigDecimal.valueOf(Long.MAX_VALUE);

    private CostEstimator() {}

    /**
     * What a request may cost on one model.
     *
     * @param microUsd the reservation, or 0 when the model has no price ({@code priced} false)
     */
    public record Estimate(long inputTokens, long outputTokens, long microUsd, boolean priced) {}

    /** The input tokens reserved for a body of {@code bodyBytes} bytes. */
    public static long inputTokens(long bodyBytes) {
        return Math.addExact(Math.max(0, bodyBytes), INPUT_ALLOWANCE_TOKENS);
    }

    /** The output tokens reserved for {@code maxTokens} (0 or less: the request gives none). */
    public static long outputTokens(long maxTokens) {
        return maxTokens > 0 ? maxTokens : DEFAULT_MAX_TOKENS;
    }

    /** The reservation of a request of {@code bodyBytes} bytes and {@code maxTokens} (0 or less: none) on {@code model}. */
    public static Estimate estimate(ModelEntry model, long bodyBytes, long maxTokens) {
        long in = inputTokens(bodyBytes);
        long out = outputTokens(maxTokens);
        Pricing pricing = model.pricing();
        return pricing == null ? new Estimate(in, out, 0, false) : new Estimate(in, out, reservationMicros(pricing, in, out), true);
    }

    /** {@code input} tokens at the highest input-side rate and {@code output} at the output rate, rounded up. */
    public static long reservationMicros(Pricing pricing, long input, long output) {
        BigDecimal inputRate = pricing.inputPerMTok().max(pricing.cacheWritePerMTok()).max(pricing.cacheReadPerMTok());
        BigDecimal micros = inputRate.multiply(BigDecimal.valueOf(input)).add(pricing.outputPerMTok().multiply(BigDecimal.valueOf(output)));
        BigDecimal rounded = micros.setScale(0, RoundingMode.CEILING);
        return rounded.compareTo(LONG_MAX) >= 0 ? Long.MAX_VALUE : rounded.longValueExact();   // refused by any budget
    }

    /** What {@code usage} cost, in micro-dollars, rounded half up. */
    public static long microUsd(Pricing pricing, Usage usage) {
        return micros(pricing.cost(usage));
    }

    /** {@code usd} in micro-dollars, rounded half up. */
    public static long micros(BigDecimal usd) {
        return usd.movePointRight(6).setScale(0, RoundingMode.HALF_UP).longValueExact();
    }

}

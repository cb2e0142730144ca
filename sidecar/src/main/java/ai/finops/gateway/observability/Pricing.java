package ai.finops.gateway.observability;

import ai.finops.gateway.translate.Usage;
import java.math.BigDecimal;
import java.math.MathContext;

/** USD per million tokens. Cache prices default to Anthropic's ratios (write 1.25x, read 0.1x input). */
public record Pricing(BigDecimal inputPerMTok, BigDecimal outputPerMTok, BigDecimal cacheWritePerMTok, BigDecimal cacheReadPerMTok) {
    private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

    public static Pricing of(String input, String output) {
        BigDecimal in = new BigDecimal(input);
        return new Pricing(in, new BigDecimal(output), in.multiply(new BigDecimal("1.25")), in.multiply(new BigDecimal("0.1")));
    }

    /** The cost of {@code usage} in USD. */
    public BigDecimal cost(Usage usage) {
        BigDecimal micro = inputPerMTok.multiply(BigDecimal.valueOf(usage.inputTokens))
                .add(outputPerMTok.multiply(BigDecimal.valueOf(usage.outputTokens)))
                .add(cacheWritePerMTok.multiply(BigDecimal.valueOf(usage.cacheCreationInputTokens)))
                .add(cacheReadPerMTok.multiply(BigDecimal.valueOf(usage.cacheReadInputTokens)));
        return micro.divide(MILLION, MathContext.DECIMAL64);
    }
}

package ai.finops.gateway.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.crds.ProviderType;
import ai.finops.gateway.governance.CostEstimator.Estimate;
import ai.finops.gateway.observability.PriceCatalogue;
import ai.finops.gateway.observability.Pricing;
import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.routing.Deployment;
import ai.finops.gateway.routing.ModelEntry;
import ai.finops.gateway.translate.Usage;
import ai.finops.testkit.ClaudeCodeFixtures;
import io.netty.buffer.Unpooled;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reservations bound what a request can cost; settlements price what it did, to the micro-dollar. */
class CostEstimatorTest {
    static final ModelEntry SONNET = new ModelEntry("claude-sonnet-4-6", "claude-sonnet-4-6", PriceCatalogue.lookup("claude-sonnet-4-6"));
    static final ModelEntry OPUS = new ModelEntry("claude-opus-4-1", "claude-opus-4-1", PriceCatalogue.lookup("claude-opus-4-1"));
    static final ModelEntry HAIKU = new ModelEntry("claude-haiku-4-5", "claude-haiku-4-5", PriceCatalogue.lookup("claude-haiku-4-5"));
    static final ModelEntry UNPRICED = new ModelEntry("in-house", "in-house", null);

    /**
     * Tokens of each captured body as text, counted with an offline reconstruction of Claude's
     * tokenizers (ctok): the v3 family (Claude 3 to Opus 4.6) and v4.7 (Opus 4.7 and later).
     */
    static final Map<String, long[]> MEASURED_TOKENS = Map.of(
            "turn1-request.json", new long[] {21_848, 40_044},
            "turn2-request.json", new long[] {21_928, 40_156});

    static Usage usage(long input, long cacheWrite, long cacheRead, long output) {
        Usage u = new Usage();
        u.inputTokens = input;
        u.cacheCreationInputTokens = cacheWrite;
        u.cacheReadInputTokens = cacheRead;
        u.outputTokens = output;
        return u;
    }

    static Attempt attempt(ModelEntry model, boolean fallback) {
        Deployment d = new Deployment("d-" + model.name(), ProviderType.ANTHROPIC, null, null, Map.of(), 1, Duration.ofSeconds(1),
                Duration.ofSeconds(1), Duration.ofSeconds(1), 1, Duration.ofSeconds(1), Deployment.SAME_IDS);
        return new Attempt(d, model, model.name(), fallback);
    }

    @Test
    void aClaudeCodeTurnReservesEveryBodyByteAsAnInputTokenAtTheCacheWriteRateAndItsMaxTokens() {
        byte[] body = ClaudeCodeFixtures.load("turn1-request.json").body();
        assertThat(body).hasSize(86_675);
        long maxTokens;
        try {
            maxTokens = ai.finops.gateway.translate.RequestBody.scan(Unpooled.wrappedBuffer(body)).maxTokens();
        } catch (ai.finops.gateway.translate.RequestBody.InvalidBody e) {
            throw new AssertionError(e);
        }
        assertThat(maxTokens).isEqualTo(32_000);
        Estimate e = CostEstimator.estimate(SONNET, body.length, maxTokens);
        // 87,699 input tokens at $3.75 (1.25 x $3), rounded up, and 32,000 output tokens at $15
        assertThat(e).isEqualTo(new Estimate(87_699, 32_000, 328_872 + 480_000, true));
    }

    @Test
    void theInputReservedCoversWhatBothTokenizerFamiliesCountInTheCapturedBodies() {
        for (String turn : ClaudeCodeFixtures.TURNS) {
            byte[] body = ClaudeCodeFixtures.load(turn).body();
            long reserved = CostEstimator.inputTokens(body.length);
            long[] measured = MEASURED_TOKENS.get(turn);
            assertThat(reserved).as(turn).isGreaterThan(measured[1]).isGreaterThan(3 * measured[0]);
            // a third of the bytes would not have covered the newer tokenizer
            assertThat((long) body.length / 3).as(turn).isLessThan(measured[1]);
        }
    }

    @Test
    void aRequestWithoutMaxTokensReservesTheDefault() {
        assertThat(CostEstimator.estimate(HAIKU, 100, -1))
                .isEqualTo(new Estimate(1_124, 16_384, 1_405 + 81_920, true));     // 1,124 x $1.25; 16,384 x $5
    }

    @Test
    void inputIsReservedAtTheHighestInputSideRate() {
        Pricing odd = new Pricing(new BigDecimal("2"), new BigDecimal("10"), new BigDecimal("1"), new BigDecimal("5"));
        assertThat(CostEstimator.reservationMicros(odd, 1_000, 100)).isEqualTo(5_000 + 1_000);
        assertThat(CostEstimator.reservationMicros(Pricing.of("0.25", "1.25"), 1, 1)).as("0.3125 + 1.25, rounded up").isEqualTo(2);
    }

    @Test
    void anAbsurdMaxTokensReservesMoreThanAnyBudget() {
        assertThat(CostEstimator.estimate(SONNET, 10, Long.MAX_VALUE).microUsd()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void aModelWithoutAPriceReservesNothingAndSaysSo() {
        assertThat(CostEstimator.estimate(UNPRICED, 10, 100)).isEqualTo(new Estimate(1_034, 100, 0, false));
    }

    @Test
    void theReservationCoversTheCostliestAttempt() {
        Estimate e = Reservations.costliest(List.of(attempt(HAIKU, false), attempt(OPUS, true), attempt(SONNET, true)), 1_000, 1_000);
        assertThat(e).isEqualTo(CostEstimator.estimate(OPUS, 1_000, 1_000));
        assertThat(e.microUsd()).isEqualTo(37_950 + 75_000);        // 2,024 x $18.75; 1,000 x $75
        Estimate partly = Reservations.costliest(List.of(attempt(HAIKU, false), attempt(UNPRICED, true)), 1_000, 1_000);
        assertThat(partly).isEqualTo(new Estimate(2_024, 1_000, CostEstimator.estimate(HAIKU, 1_000, 1_000).microUsd(), false));
        assertThat(Reservations.costliest(List.of(attempt(UNPRICED, false)), 1, 1).priced()).isFalse();
        assertThatThrownBy(() -> Reservations.costliest(List.of(), 1, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aClaudeCodeTurnSettlesToTheMicroDollar() {
        Pricing sonnet = SONNET.pricing();
        // the first turn writes the prompt to the cache: 4 x $3 + 21,844 x $3.75 + 1,337 x $15
        Usage first = usage(4, 21_844, 0, 1_337);
        assertThat(CostEstimator.microUsd(sonnet, first)).isEqualTo(12 + 81_915 + 20_055);
        // the second reads it back: 6 x $3 + 84 x $3.75 + 21,844 x $0.30 + 95 x $15 = 8,311.2
        Usage second = usage(6, 84, 21_844, 95);
        assertThat(CostEstimator.microUsd(sonnet, second)).isEqualTo(8_311);
        long reserved = CostEstimator.estimate(SONNET, 86_675, 32_000).microUsd();
        assertThat(CostEstimator.microUsd(sonnet, first)).isLessThan(reserved);
    }

    @Test
    void halfAMicroDollarRoundsUp() {
        assertThat(CostEstimator.microUsd(HAIKU.pricing(), usage(0, 0, 5, 0))).as("5 x $0.10").isEqualTo(1);
        assertThat(CostEstimator.microUsd(HAIKU.pricing(), usage(0, 0, 4, 0))).as("4 x $0.10").isZero();
        assertThat(CostEstimator.micros(new BigDecimal("0.0000005"))).isEqualTo(1);
        assertThat(CostEstimator.micros(new BigDecimal("0.00000049"))).isZero();
        assertThat(CostEstimator.micros(new BigDecimal("12.3456785"))).isEqualTo(12_345_679);
    }
}

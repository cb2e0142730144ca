package ai.finops.gateway.translate;

/**
 * Token counts of one response, as the provider reported them, and what the response says of itself
 * (its id, the model that answered, why it stopped) for traces. Mutable; owned by one exchange.
 */
public final class Usage {
    public long inputTokens;
    public long outputTokens;
    public long cacheCreationInputTokens;
    public long cacheReadInputTokens;
    public boolean seen;
    /** The message's {@code id}, {@code model} and {@code stop_reason}, each null until the response names it. */
    public String responseId;
    public String responseModel;
    public String stopReason;

    public long totalTokens() {
        return inputTokens + outputTokens + cacheCreationInputTokens + cacheReadInputTokens;
    }

    @Override
    public String toString() {
        return "input=" + inputTokens + " output=" + outputTokens + " cacheWrite=" + cacheCreationInputTokens
                + " cacheRead=" + cacheReadInputTokens;
    }
}

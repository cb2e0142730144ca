package ai.finops.gateway.translate;

/** Token counts of one response, as the provider reported them. Mutable; owned by one exchange. */
public final class Usage {
    public long inputTokens;
    public long outputTokens;
    public long cacheCreationInputTokens;
    public long cacheReadInputTokens;
    public boolean seen;

    public long totalTokens() {
        return inputTokens + outputTokens + cacheCreationInputTokens + cacheReadInputTokens;
    }

    @Override
    public String toString() {
        return "input=" + inputTokens + " output=" + outputTokens + " cacheWrite=" + cacheCreationInputTokens
                + " cacheRead=" + cacheReadInputTokens;
    }
}

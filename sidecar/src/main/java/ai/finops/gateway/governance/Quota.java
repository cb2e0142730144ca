package ai.finops.gateway.governance;

import java.time.Instant;

/**
 * What a governed key has left once its request is admitted, for the response's rate-limit and budget
 * headers. A limit of 0 means the key has no limit of that kind (its headers are left out).
 *
 * @param requestsReset     when the request window is whole again
 * @param tokensReset       when the token window is whole again
 * @param budgetRemainingMicros what the tightest applicable budget has left, in micro-dollars (may be
 *                          negative once overdrawn), or null when no budget applies
 */
public record Quota(long requestsLimit, long requestsRemaining, Instant requestsReset,
        long tokensLimit, long tokensRemaining, Instant tokensReset, Long budgetRemainingMicros) {

    /** Whether the key has a request or token limit (its provider's rate-limit headers are then replaced). */
    public boolean rateLimited() {
        return requestsLimit > 0 || tokensLimit > 0;
    }
}

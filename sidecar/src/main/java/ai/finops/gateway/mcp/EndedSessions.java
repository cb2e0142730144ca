package ai.finops.gateway.mcp;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sessions a client ended with {@code DELETE /mcp} on this replica. A session token is sealed, not
 * stored, so ending one means remembering it until it would have expired anyway; bounded, the oldest
 * forgotten first when full. Another replica does not know of the end: there the token lasts its
 * lifetime (see {@link SessionTokens#LIFETIME}).
 */
final class EndedSessions {
    static final int MAX = 100_000;
    private final Map<String, Instant> ended = new ConcurrentHashMap<>();

    void end(String token, Instant expires, Instant now) {
        if (ended.size() >= MAX) {
            ended.values().removeIf(expiry -> !expiry.isAfter(now));
            if (ended.size() >= MAX) {
                ended.entrySet().stream().min(Map.Entry.comparingByValue()).ifPresent(oldest -> ended.remove(oldest.getKey()));
            }
        }
        ended.put(token, expires);
    }

    boolean ended(String token) {
        return ended.containsKey(token);
    }
}

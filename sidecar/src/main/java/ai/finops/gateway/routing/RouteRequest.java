package ai.finops.gateway.routing;

import ai.finops.gateway.auth.KeyEntry;
import java.util.Map;

/**
 * What routing may look at.
 *
 * @param headers lower-cased names, first value of each
 * @param api {@code anthropic} or {@code openai}
 * @param sessionKey keeps a session on one account: the Claude Code session id, else the key name
 * @param budget the key's tightest budget as rules see it ({@code usedRatio}, {@code remainingUsd}), or null when no rule asks
 */
public record RouteRequest(String model, Map<String, String> headers, KeyEntry key, String api, String path, String sessionKey,
        Map<String, Double> budget) {

    /** A request routed without its key's budget (no rule names it). */
    public RouteRequest(String model, Map<String, String> headers, KeyEntry key, String api, String path, String sessionKey) {
        this(model, headers, key, api, path, sessionKey, null);
    }

    public static String sessionKey(Map<String, String> headers, KeyEntry key) {
        String session = headers.get("x-claude-code-session-id");
        return session != null && !session.isEmpty() ? session : key.name();
    }
}

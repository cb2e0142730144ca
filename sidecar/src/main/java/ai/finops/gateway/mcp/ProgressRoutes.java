package ai.finops.gateway.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The progress tokens of the tool calls in flight through this gateway. A client's token is its own,
 * but one upstream session carries the calls of every client, so the call goes upstream with a token
 * of the gateway's; the server's {@code notifications/progress} for it come back to the client that
 * asked, carrying the client's token again.
 */
final class ProgressRoutes {
    private final Map<String, Consumer<ObjectNode>> routes = new ConcurrentHashMap<>();
    private final AtomicLong next = new AtomicLong();
    private final String instance = Long.toHexString(System.nanoTime() & 0xffffffL);

    /**
     * A token of the gateway's for a call whose client asked with {@code clientToken}: the params of a
     * progress notification for it go to {@code client} with {@code clientToken} in place; {@link #remove} it at the call's end.
     */
    String add(JsonNode clientToken, Consumer<ObjectNode> client) {
        String token = "fgw-" + instance + "-" + next.incrementAndGet();
        routes.put(token, params -> {
            params.set("progressToken", clientToken);
            client.accept(params);
        });
        return token;
    }

    void remove(String token) {
        routes.remove(token);
    }

    /** An upstream's {@code notifications/progress}: to the client whose call it is, or nowhere (an unknown or finished call). */
    void progress(JsonNode params) {
        if (params instanceof ObjectNode object && params.path("progressToken").isTextual()) {
            Consumer<ObjectNode> route = routes.get(params.get("progressToken").asText());
            if (route != null) {
                route.accept(object.deepCopy());
            }
        }
    }
}

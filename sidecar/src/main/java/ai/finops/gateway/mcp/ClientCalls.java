package ai.finops.gateway.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code tools/call}s in flight on this gateway, by the key, session and JSON-RPC id the client sent them with:
 * what a {@code notifications/cancelled} names. A call is known only to the replica serving it, so a cancellation
 * that reaches another replica finds nothing (and is accepted all the same).
 */
final class ClientCalls {
    private final Map<String, CancellableCall> calls = new ConcurrentHashMap<>();

    /** Where {@code call} is found again; null when the same id is in flight already (the newer call is then not cancellable). */
    String add(String virtualKey, String session, JsonNode id, CancellableCall call) {
        String where = where(virtualKey, session, id);
        return calls.putIfAbsent(where, call) == null ? where : null;
    }

    void remove(String where, CancellableCall call) {
        if (where != null) {
            calls.remove(where, call);
        }
    }

    /** The call {@code id} of that key's session, if it is in flight here. */
    CancellableCall find(String virtualKey, String session, JsonNode id) {
        return id == null || session == null ? null : calls.get(where(virtualKey, session, id));
    }

    private static String where(String virtualKey, String session, JsonNode id) {
        // a string id and a number id are different ids: the JSON text tells them apart
        return virtualKey + '\n' + session + '\n' + id;
    }
}

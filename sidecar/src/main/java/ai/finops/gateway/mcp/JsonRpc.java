package ai.finops.gateway.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * JSON-RPC 2.0 as MCP uses it: the message kinds a client sends, and the result and error objects
 * the gateway answers with. The error codes are JSON-RPC's own, plus MCP's "session not found".
 */
final class JsonRpc {
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final int PARSE_ERROR = -32700;
    static final int INVALID_REQUEST = -32600;
    static final int METHOD_NOT_FOUND = -32601;
    static final int INVALID_PARAMS = -32602;
    static final int INTERNAL_ERROR = -32603;
    /** The session named by {@code Mcp-Session-Id} does not exist (any more): initialize again. */
    static final int SESSION_NOT_FOUND = -32001;
    /** The answer to a request the client cancelled (which it ignores): the code LSP gives it, as MCP gives none. */
    static final int REQUEST_CANCELLED = -32800;
    /** The implementation-defined server error: a call the gateway refused for its key's limits. */
    static final int SERVER_ERROR = -32000;

    /** What one POSTed message is. */
    enum Kind {
        /** {@code method} and {@code id}: answered with a result or an error. */
        REQUEST,
        /** {@code method} without {@code id}: accepted, never answered. */
        NOTIFICATION,
        /** {@code result} or {@code error}: the client's answer to a request of the server's. */
        RESPONSE,
        /** Anything else. */
        INVALID
    }

    private JsonRpc() {}

    static Kind kind(JsonNode message) {
        if (!message.isObject() || !"2.0".equals(message.path("jsonrpc").asText(null))) {
            return Kind.INVALID;
        }
        JsonNode id = message.get("id");
        boolean validId = id != null && (id.isTextual() || id.isIntegralNumber());
        if (message.hasNonNull("method")) {
            if (!message.get("method").isTextual()) {
                return Kind.INVALID;
            }
            return id == null ? Kind.NOTIFICATION : validId ? Kind.REQUEST : Kind.INVALID;
        }
        return validId && (message.has("result") || message.has("error")) ? Kind.RESPONSE : Kind.INVALID;
    }

    static ObjectNode result(JsonNode id, JsonNode result) {
        ObjectNode response = envelope(id);
        response.set("result", result);
        return response;
    }

    static ObjectNode error(JsonNode id, int code, String message) {
        return error(id, code, message, null);
    }

    static ObjectNode error(JsonNode id, int code, String message, JsonNode data) {
        ObjectNode response = envelope(id);
        ObjectNode error = response.putObject("error").put("code", code).put("message", message);
        if (data != null && !data.isNull()) {
            error.set("data", data);
        }
        return response;
    }

    /** A notification without params. */
    static ObjectNode notification(String method) {
        return MAPPER.createObjectNode().put("jsonrpc", "2.0").put("method", method);
    }

    /** A notification with {@code params}. */
    static ObjectNode notification(String method, JsonNode params) {
        ObjectNode notification = notification(method);
        notification.set("params", params);
        return notification;
    }

    private static ObjectNode envelope(JsonNode id) {
        ObjectNode response = MAPPER.createObjectNode().put("jsonrpc", "2.0");
        response.set("id", id == null ? NullNode.getInstance() : id);
        return response;
    }
}

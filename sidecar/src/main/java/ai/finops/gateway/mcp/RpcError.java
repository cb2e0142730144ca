package ai.finops.gateway.mcp;

import com.fasterxml.jackson.databind.JsonNode;

/** A JSON-RPC error to answer a request with: its code, message and optional data. */
final class RpcError extends RuntimeException {
    final int code;
    final transient JsonNode data;

    RpcError(int code, String message) {
        this(code, message, null);
    }

    RpcError(int code, String message, JsonNode data) {
        super(message, null, false, false);
        this.code = code;
        this.data = data;
    }
}

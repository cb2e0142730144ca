package ai.finops.gateway.mcp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import reactor.core.publisher.Mono;

/**
 * The HTTP answers of one {@code /mcp} request, in the form its {@code Accept} asks for: JSON, or one
 * SSE {@code message} event for a client that accepts {@code text/event-stream} but not JSON.
 */
final class Answers {
    private final McpCall call;
    private final Consumer<FullHttpResponse> reply;
    private final boolean sse;

    Answers(McpCall call, Consumer<FullHttpResponse> reply) {
        this.call = call;
        this.reply = reply;
        String accept = call.request().headers().get(HttpHeaderNames.ACCEPT);
        this.sse = accept != null && accept.contains("text/event-stream") && !accept.contains("application/json") && !accept.contains("*/*");
    }

    /** A JSON-RPC answer with 200, and the session's id when it starts one. */
    void json(JsonNode message, String sessionId) {
        FullHttpResponse response = message(HttpResponseStatus.OK, message);
        if (sessionId != null) {
            response.headers().set(McpGateway.SESSION_HEADER, sessionId);
        }
        reply.accept(response);
    }

    /** A JSON-RPC error with an HTTP status of its own (always JSON: it may precede knowing what the client accepts). */
    void error(HttpResponseStatus status, JsonNode id, int code, String message) {
        reply.accept(body(status, bytes(JsonRpc.error(id, code, message)), "application/json"));
    }

    /** The answer {@code result} will give, or the JSON-RPC error it fails with. */
    void later(JsonNode id, Mono<JsonNode> result) {
        result.subscribe(value -> json(JsonRpc.result(id, value), null), e -> json(e instanceof RpcError rpc
                ? JsonRpc.error(id, rpc.code, rpc.getMessage(), rpc.data)
                : JsonRpc.error(id, JsonRpc.INTERNAL_ERROR, "internal error: " + e.getClass().getSimpleName()), null));
    }

    /** 202: a notification or response was taken. */
    void accepted() {
        empty(HttpResponseStatus.ACCEPTED);
    }

    void empty(HttpResponseStatus status) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        reply.accept(response);
    }

    private FullHttpResponse message(HttpResponseStatus status, JsonNode message) {
        byte[] json = bytes(message);
        if (!sse) {
            return body(status, json, "application/json");
        }
        byte[] event = ("event: message\ndata: " + new String(json, StandardCharsets.UTF_8) + "\n\n").getBytes(StandardCharsets.UTF_8);
        return body(status, event, "text/event-stream");
    }

    private FullHttpResponse body(HttpResponseStatus status, byte[] bytes, String type) {
        ByteBuf content = call.alloc().buffer(bytes.length).writeBytes(bytes);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, type).setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        return response;
    }

    private static byte[] bytes(JsonNode message) {
        try {
            return JsonRpc.MAPPER.writeValueAsBytes(message);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree always serializes", e);
        }
    }
}

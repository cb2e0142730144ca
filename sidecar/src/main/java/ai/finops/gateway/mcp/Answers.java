package ai.finops.gateway.mcp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * The HTTP answers of one {@code /mcp} request, in the form its {@code Accept} asks for: JSON, or SSE
 * {@code message} events for a client that accepts {@code text/event-stream}. An answer becomes an
 * event stream when there is something to send before it (a call's progress), or from the start for
 * the server-to-client stream; otherwise it stays one JSON body (or one event for a client that does
 * not accept JSON). Thread-safe: events and the answer may come from the SDK's threads.
 */
final class Answers {
    private final McpCall call;
    private final McpReply reply;
    private final boolean acceptsEvents;
    private final boolean eventsOnly;
    private boolean streaming;
    private boolean done;

    Answers(McpCall call, McpReply reply) {
        this.call = call;
        this.reply = reply;
        String accept = call.request().headers().get(HttpHeaderNames.ACCEPT);
        this.acceptsEvents = accept != null && accept.contains("text/event-stream");
        this.eventsOnly = acceptsEvents && !accept.contains("application/json") && !accept.contains("*/*");
    }

    /** Whether the client takes an event stream (so progress can reach it). */
    boolean acceptsEvents() {
        return acceptsEvents;
    }

    /** A JSON-RPC answer with 200, and the session's id when it starts one; the last event of a stream begun. */
    synchronized void json(JsonNode message, String sessionId) {
        if (done) {
            return;
        }
        if (streaming) {
            reply.event(encoded(message));
            end();
            return;
        }
        done = true;
        FullHttpResponse response = message(HttpResponseStatus.OK, message);
        if (sessionId != null) {
            response.headers().set(McpGateway.SESSION_HEADER, sessionId);
        }
        reply.full(response);
    }

    /** A JSON-RPC error with an HTTP status of its own (always JSON: it may precede knowing what the client accepts). */
    synchronized void error(HttpResponseStatus status, JsonNode id, int code, String message) {
        if (!done) {
            done = true;
            reply.full(body(status, bytes(JsonRpc.error(id, code, message)), "application/json"));
        }
    }

    /** The answer {@code result} will give, or the JSON-RPC error it fails with; disposing it gives up on it. */
    Disposable later(JsonNode id, Mono<JsonNode> result) {
        return result.subscribe(value -> json(JsonRpc.result(id, value), null), e -> json(e instanceof RpcError rpc
                ? JsonRpc.error(id, rpc.code, rpc.getMessage(), rpc.data)
                : JsonRpc.error(id, JsonRpc.INTERNAL_ERROR, "internal error: " + e.getClass().getSimpleName()), null));
    }

    /** Opens the event stream now, without a message yet (the server-to-client stream). */
    synchronized void open() {
        if (!done && !streaming) {
            streaming = true;
            reply.head(eventStreamHead());
        }
    }

    /** A message before the answer (a notification): it opens the event stream; dropped for a client that takes none, or after the end. */
    synchronized void event(JsonNode message) {
        if (done || !acceptsEvents) {
            return;
        }
        open();
        reply.event(encoded(message));
    }

    /** Ends the event stream, if one is open. */
    synchronized void end() {
        if (!done && streaming) {
            done = true;
            reply.end();
        }
    }

    /** 202: a notification or response was taken. */
    void accepted() {
        empty(HttpResponseStatus.ACCEPTED);
    }

    synchronized void empty(HttpResponseStatus status) {
        if (done) {
            return;
        }
        done = true;
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        reply.full(response);
    }

    private static HttpResponse eventStreamHead() {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream").set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        return head;
    }

    private ByteBuf encoded(JsonNode message) {
        byte[] event = ("event: message\ndata: " + new String(bytes(message), StandardCharsets.UTF_8) + "\n\n").getBytes(StandardCharsets.UTF_8);
        return call.alloc().buffer(event.length).writeBytes(event);
    }

    private FullHttpResponse message(HttpResponseStatus status, JsonNode message) {
        byte[] json = bytes(message);
        if (!eventsOnly) {
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

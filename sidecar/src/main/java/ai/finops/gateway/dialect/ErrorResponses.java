package ai.finops.gateway.dialect;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Errors in the Anthropic dialect: {@code {"type":"error","error":{"type":..,"message":..},"request_id":..}}
 * as a response body, or as an SSE {@code error} event once a stream has begun.
 */
public final class ErrorResponses {
    private ErrorResponses() {}

    /** The Anthropic error type for a status the gateway itself answers. */
    public static String typeFor(int status) {
        return switch (status) {
            case 400 -> "invalid_request_error";
            case 401 -> "authentication_error";
            case 402 -> "billing_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 408 -> "timeout_error";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_error";
            case 504 -> "timeout_error";
            case 529 -> "overloaded_error";
            default -> "api_error";
        };
    }

    public static byte[] json(String type, String message, String requestId) {
        StringBuilder sb = new StringBuilder(96 + message.length());
        sb.append("{\"type\":\"error\",\"error\":{\"type\":\"");
        JsonStringEncoder.getInstance().quoteAsString(type, sb);
        sb.append("\",\"message\":\"");
        JsonStringEncoder.getInstance().quoteAsString(message, sb);
        sb.append("\"}");
        if (requestId != null) {
            sb.append(",\"request_id\":\"");
            JsonStringEncoder.getInstance().quoteAsString(requestId, sb);
            sb.append('"');
        }
        sb.append('}');
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static FullHttpResponse response(ByteBufAllocator alloc, int status, String type, String message, String requestId) {
        return response(alloc, status, json(type, message, requestId), requestId);
    }

    /** A JSON error answer with the body given, for the dialects built on the Anthropic one. */
    public static FullHttpResponse response(ByteBufAllocator alloc, int status, byte[] body, String requestId) {
        ByteBuf content = alloc.buffer(body.length).writeBytes(body);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), content);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        if (requestId != null) {
            response.headers().set(Headers.GATEWAY_REQUEST_ID, requestId);
        }
        return response;
    }

    public static FullHttpResponse response(ByteBufAllocator alloc, int status, String message, String requestId) {
        return response(alloc, status, typeFor(status), message, requestId);
    }

    /** An SSE {@code error} event, the way the Anthropic API ends a stream that failed. */
    public static ByteBuf sseEvent(ByteBufAllocator alloc, String type, String message, String requestId) {
        byte[] data = json(type, message, requestId);
        ByteBuf buf = alloc.buffer(data.length + 24);
        buf.writeCharSequence("event: error\ndata: ", StandardCharsets.US_ASCII);
        buf.writeBytes(data);
        buf.writeCharSequence("\n\n", StandardCharsets.US_ASCII);
        return buf;
    }
}

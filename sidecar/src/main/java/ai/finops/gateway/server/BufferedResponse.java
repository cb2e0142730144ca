package ai.finops.gateway.server;

import ai.finops.gateway.dialect.Headers;
import ai.finops.gateway.provider.ProviderAdapter;
import ai.finops.gateway.translate.AnthropicStreamScanner;
import ai.finops.gateway.translate.Usage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * A response read whole before the client gets anything: a provider's error (answered in the
 * client's dialect, or the reason to adapt the request and send it again), or a successful body in a
 * provider's own format (rewritten into Anthropic's). Held up to {@link ResponseRelay#MAX_SCANNED_BODY};
 * a body that outgrows it is reported, never assembled with a gap.
 */
final class BufferedResponse {
    private final HttpResponse head;
    private final CompositeByteBuf body;
    private boolean overflowed;

    BufferedResponse(HttpResponse head, ByteBufAllocator alloc) {
        this.head = head;
        this.body = alloc.compositeBuffer();
    }

    /** Adds {@code chunk} (not retained by the caller); past the cap, nothing more is kept. */
    void add(ByteBuf chunk) {
        if (overflowed || !chunk.isReadable()) {
            return;
        }
        if (body.readableBytes() + chunk.readableBytes() > ResponseRelay.MAX_SCANNED_BODY) {
            overflowed = true;
            body.removeComponents(0, body.numComponents());
            return;
        }
        body.addComponent(true, chunk.retainedDuplicate());
    }

    boolean overflowed() {
        return overflowed;
    }

    int status() {
        return head.status().code();
    }

    String text() {
        return body.toString(StandardCharsets.UTF_8);
    }

    byte[] bytes() {
        return ByteBufUtil.getBytes(body);
    }

    /** The response as the provider sent it (its headers, less the hop-by-hop ones), now whole; its usage read. */
    FullHttpResponse asItCame(String requestId, ByteBufAllocator alloc, Usage usage) {
        AnthropicStreamScanner.readResponseUsage(body, usage);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, head.status(), body.retainedDuplicate());
        Headers.copyResponseHeaders(head.headers(), response.headers(), false);
        HttpUtil.setContentLength(response, body.readableBytes());
        response.headers().set(Headers.GATEWAY_REQUEST_ID, requestId);
        return response;
    }

    /**
     * A provider's error as the client's answer: its own envelope translated into Anthropic's, or an
     * Anthropic-format provider's as it came.
     */
    FullHttpResponse clientError(ProviderAdapter adapter, String requestId, ByteBufAllocator alloc) {
        String text = text();
        ProviderAdapter.ProviderError error = adapter.error(status(), head.headers(), text);
        if (error == null) {
            return asItCame(requestId, alloc, new Usage());
        }
        FullHttpResponse response = json(HttpResponseStatus.valueOf(error.status()), error.json().getBytes(StandardCharsets.UTF_8), requestId, alloc);
        String upstreamRequestId = head.headers().get(Headers.UPSTREAM_REQUEST_ID);
        if (upstreamRequestId != null) {
            response.headers().set(Headers.UPSTREAM_REQUEST_ID, upstreamRequestId);
        }
        String retryAfter = head.headers().get(HttpHeaderNames.RETRY_AFTER);
        if (retryAfter != null) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfter);
        }
        return response;
    }

    static FullHttpResponse json(HttpResponseStatus status, byte[] json, String requestId, ByteBufAllocator alloc) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, alloc.buffer(json.length).writeBytes(json));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, json.length)
                .set(Headers.GATEWAY_REQUEST_ID, requestId);
        return response;
    }

    void release() {
        if (body.refCnt() > 0) {
            body.release();
        }
    }
}

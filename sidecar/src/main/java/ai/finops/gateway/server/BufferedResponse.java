package ai.finops.gateway.server;

import ai.finops.gateway.dialect.Headers;
import ai.finops.gateway.provider.ProviderAdapter;
import ai.finops.gateway.provider.ProviderFeatures;
import ai.finops.gateway.routing.Deployment;
import ai.finops.gateway.translate.openai.ToolNames;
import ai.finops.gateway.upstream.UpstreamFailure;
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

    /** What to do with a response once it is whole. */
    sealed interface Answer permits Pass, Again, Unusable {}

    /** Pass this response on to the client. */
    record Pass(FullHttpResponse response) implements Answer {}

    /** Send the request once more to the same deployment, adapted so (the provider refused a beta, or another provider's thinking). */
    record Again(String why, boolean withoutBetas, boolean withoutThinking) implements Answer {}

    /** The response cannot be passed on: a 502 with {@code message}; {@code kind} is the attempt's outcome. */
    record Unusable(String kind, String message, Throwable cause) implements Answer {}

    /**
     * The client's answer from this whole response of {@code d}: a success as it came, or rewritten from the provider's
     * own format into Anthropic's (its usage read into {@code usage}); an error the request can be adapted to
     * (once each); or the provider's error in Anthropic's envelope.
     */
    Answer answer(Deployment d, String apiPath, boolean betasDropped, boolean thinkingDropped, ToolNames toolNames, Usage usage,
            String requestId, ByteBufAllocator alloc) {
        int code = status();
        if (overflowed) {
            return new Unusable("truncated", d.name() + ": HTTP " + code + " with a body larger than the gateway reads whole ("
                    + (ResponseRelay.MAX_SCANNED_BODY >> 20) + " MiB)", null);
        }
        if (code < 300 && !d.adapter().rewritesResponseBody(apiPath)) {
            return new Pass(asItCame(requestId, alloc, usage));
        }
        if (code < 300) {
            byte[] json;
            try {
                json = d.adapter().responseBody(bytes(), toolNames);
            } catch (java.io.IOException | RuntimeException e) {
                return new Unusable("malformed", "the provider's response could not be read: " + UpstreamFailure.inWords(e), e);
            }
            AnthropicStreamScanner.readResponseUsage(io.netty.buffer.Unpooled.wrappedBuffer(json), usage);
            return new Pass(json(HttpResponseStatus.OK, json, requestId, alloc));
        }
        String text = text();
        if (!betasDropped && !d.adapter().anthropicFormat() && ProviderFeatures.isInvalidBeta(code, text)) {
            // the provider's beta support differs from the feature table (a region, a model)
            return new Again("HTTP 400 invalid beta flag, retried without betas", true, false);
        }
        if (!thinkingDropped && ProviderFeatures.isForeignThinking(code, text)) {
            // thinking blocks another provider signed: the conversation switched provider
            return new Again("HTTP 400 thinking signatures from another provider, retried without them", false, true);
        }
        return new Pass(clientError(d.adapter(), requestId, alloc));
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

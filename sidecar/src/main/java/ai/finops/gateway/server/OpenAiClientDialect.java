package ai.finops.gateway.server;

import ai.finops.gateway.dialect.Headers;
import ai.finops.gateway.translate.openai.AnthropicToOpenAiResponses;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;

/**
 * The OpenAI dialect on the way out, for a request that came to the OpenAI surface: everything the
 * Anthropic pipeline writes (a Messages stream, a message, an Anthropic error, the gateway's own
 * errors) leaves as Chat Completions chunks, a completion, or OpenAI error JSON. Off for Anthropic
 * requests; requests on a connection are served one at a time, so one state per connection suffices.
 */
final class OpenAiClientDialect extends ChannelOutboundHandlerAdapter {
    private boolean active;
    private boolean includeUsage;
    private String errorCode;
    private AnthropicToOpenAiResponses.Stream stream;
    private HttpResponse heldHead;
    private CompositeByteBuf heldBody;

    /** The next response goes to an OpenAI client. */
    void begin(boolean includeUsage) {
        this.active = true;
        this.includeUsage = includeUsage;
    }

    /** The next error goes with OpenAI's {@code code} for it (e.g. {@code model_not_found}) instead of the Anthropic type. */
    void errorCode(String code) {
        this.errorCode = code;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (!active) {
            ctx.write(msg, promise);
            return;
        }
        if (msg instanceof FullHttpResponse full) {
            try {
                ctx.write(whole(ctx, full, ByteBufUtil.getBytes(full.content()), errorCode), promise);
            } finally {
                full.release();
                end();
            }
            return;
        }
        if (msg instanceof HttpResponse head) {
            String type = head.headers().get(HttpHeaderNames.CONTENT_TYPE);
            if (type != null && type.regionMatches(true, 0, "text/event-stream", 0, 17)) {
                stream = new AnthropicToOpenAiResponses.Stream(ctx.alloc(), includeUsage, System.currentTimeMillis() / 1000);
                head.headers().remove(Headers.UPSTREAM_REQUEST_ID);
                ctx.write(head, promise);
            } else {
                heldHead = head;    // a whole body follows: translated when it is complete
                heldBody = ctx.alloc().compositeBuffer();
                promise.setSuccess();
            }
            return;
        }
        if (msg instanceof HttpContent content) {
            boolean last = content instanceof LastHttpContent;
            try {
                if (stream != null) {
                    ByteBuf out = stream.translate(content.content(), ctx.alloc());
                    ctx.write(last ? new DefaultLastHttpContent(out) : new DefaultHttpContent(out), promise);
                } else if (heldHead != null) {
                    heldBody.addComponent(true, content.content().retain());
                    if (last) {
                        FullHttpResponse full = new DefaultFullHttpResponse(heldHead.protocolVersion(), heldHead.status(), heldBody, heldHead.headers(),
                                io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
                        heldBody = null;
                        try {
                            ctx.write(whole(ctx, full, ByteBufUtil.getBytes(full.content()), errorCode), promise);
                        } finally {
                            full.release();
                        }
                    } else {
                        promise.setSuccess();
                    }
                } else {
                    ctx.write(content.retain(), promise);
                }
            } finally {
                content.release();
                if (last) {
                    end();
                }
            }
            return;
        }
        ctx.write(msg, promise);
    }

    /** A complete Anthropic response (message or error) as the OpenAI equivalent. */
    private static FullHttpResponse whole(ChannelHandlerContext ctx, FullHttpResponse anthropic, byte[] body, String errorCode) {
        byte[] translated = null;
        if (anthropic.status().code() >= 400) {
            translated = AnthropicToOpenAiResponses.error(body, errorCode);
        } else if (body.length > 0) {
            try {
                translated = AnthropicToOpenAiResponses.completion(body, System.currentTimeMillis() / 1000);
            } catch (IOException e) {
                translated = null;
            }
        }
        byte[] bytes = translated != null ? translated : body;
        FullHttpResponse out = new DefaultFullHttpResponse(anthropic.protocolVersion(), anthropic.status(),
                ctx.alloc().buffer(bytes.length).writeBytes(bytes));
        out.headers().set(anthropic.headers());
        out.headers().remove(HttpHeaderNames.TRANSFER_ENCODING).remove(Headers.UPSTREAM_REQUEST_ID);
        HttpUtil.setContentLength(out, bytes.length);
        if (translated != null) {
            out.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        }
        return out;
    }

    private void end() {
        active = false;
        errorCode = null;
        if (stream != null) {
            stream.release();
            stream = null;
        }
        heldHead = null;
        if (heldBody != null) {
            heldBody.release();
            heldBody = null;
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        end();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        end();
        ctx.close(promise);
    }

}

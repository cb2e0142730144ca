package ai.finops.gateway.server;

import ai.finops.gateway.dialect.ErrorResponses;
import ai.finops.gateway.translate.openai.AnthropicToOpenAiResponses;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Aggregates a request body up to the configured limit (the gateway needs the whole body to read
 * the model and to retry), answering 413 above it in the surface's error JSON (Anthropic, or OpenAI
 * on the OpenAI surface), with a request id, and traced like every request ({@link LocalAnswer}).
 * A body announced with {@code Expect: 100-continue} and a length over the limit gets the same answer
 * before it is sent.
 */
final class BodyLimit extends HttpObjectAggregator {
    private final long limit;
    private final GatewayContext gateway;

    BodyLimit(long limit, GatewayContext gateway) {
        super((int) Math.min(Integer.MAX_VALUE, limit), true);
        this.limit = limit;
        this.gateway = gateway;
    }

    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        String expect = start.headers().get(HttpHeaderNames.EXPECT);
        Object response = super.newContinueResponse(start, maxContentLength, pipeline);
        if (response instanceof HttpResponse refused && refused.status().code() >= 400) {
            int status = refused.status().code();
            ReferenceCountUtil.release(response);
            return refusal(pipeline.channel().alloc(), start, status, status == 413 ? tooLarge()
                    : "unsupported expectation '" + expect + "'; only 'Expect: 100-continue' is supported");
        }
        return response;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        FullHttpResponse response = refusal(ctx.alloc(), oversized, 413, tooLarge());
        // Written past the keep-alive handler, which would close the connection as soon as this answer is out
        // (it says "connection: close"), before the drain below: the very reset the drain is there to avoid.
        ChannelHandlerContext keepAlive = ctx.pipeline().context(HttpServerKeepAliveHandler.class);
        (keepAlive != null ? keepAlive : ctx).writeAndFlush(response).addListener((ChannelFutureListener) f -> {
            Channel ch = f.channel();
            if (ch instanceof DuplexChannel duplex && f.isSuccess()) {
                // The rest of the body is still on the wire: closing now would make the kernel answer it with a
                // reset, which can destroy the 413 before the client reads it. End our side (FIN after the
                // answer), keep reading and discarding, and close when the client does, or after a grace period.
                duplex.shutdownOutput();
                ch.config().setAutoRead(true);
                ctx.executor().schedule(() -> ch.close(), DRAIN_SECONDS, TimeUnit.SECONDS);
            } else {
                ch.close();
            }
        });
    }

    private String tooLarge() {
        return "request body exceeds the gateway's limit of " + limit + " bytes";
    }

    /** The error answer to the request {@code head}, which then closes the connection; traced. */
    private FullHttpResponse refusal(ByteBufAllocator alloc, HttpMessage head, int status, String message) {
        String path = head instanceof HttpRequest r ? ApiHandler.path(r.uri()) : "/";
        LocalAnswer answer = new LocalAnswer(gateway, gateway.nextRequestId(), System.nanoTime(), path);
        byte[] body = ErrorResponses.json(ErrorResponses.typeFor(status), message, answer.requestId());
        byte[] openAi = ApiHandler.openAiSurface(path) ? AnthropicToOpenAiResponses.error(body) : null;   // before the surface's own dialect
        FullHttpResponse response = ErrorResponses.response(alloc, status, openAi != null ? openAi : body, answer.requestId());
        HttpUtil.setKeepAlive(response, false);
        answer.record(status);
        return response;
    }

    /** How long a connection that sent an oversized body may keep sending before it is closed. */
    static final long DRAIN_SECONDS = 5;
}

package ai.finops.gateway.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.channel.socket.DuplexChannel;
import java.util.concurrent.TimeUnit;

/**
 * Aggregates a request body up to the configured limit (the gateway needs the whole body to read
 * the model and to retry), answering 413 in Anthropic error JSON above it.
 */
final class BodyLimit extends HttpObjectAggregator {
    private final long limit;

    BodyLimit(long limit) {
        super((int) Math.min(Integer.MAX_VALUE, limit), true);
        this.limit = limit;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        FullHttpResponse response = ErrorResponses.response(ctx.alloc(), 413,
                "request body exceeds the gateway's limit of " + limit + " bytes", null);
        HttpUtil.setKeepAlive(response, false);
        ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> {
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

    /** How long a connection that sent an oversized body may keep sending before it is closed. */
    static final long DRAIN_SECONDS = 5;
}

package ai.finops.gateway.server;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;

/**
 * While the gateway shuts down, every response says {@code connection: close}, so the keep-alive
 * handler closes the connection once it is sent: a client with a pooled connection takes its next
 * request to another replica instead of keeping this one busy until the grace period ends.
 */
@ChannelHandler.Sharable
final class DrainingClose extends ChannelOutboundHandlerAdapter {
    private final GatewayContext gateway;

    DrainingClose(GatewayContext gateway) {
        this.gateway = gateway;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response && gateway.draining()) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ctx.write(msg, promise);
    }
}

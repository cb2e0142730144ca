package ai.finops.gateway.server;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;

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
        // The rest of the body is still on the wire: close once the answer is out.
        HttpUtil.setKeepAlive(response, false);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}

package ai.finops.gateway.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;

/**
 * The last handler of an upstream connection: hands the response to the exchange that holds the
 * connection (its {@link #LISTENER} attribute), or drops it when none does (an idle pooled
 * connection that the server closed or wrote to).
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    static final AttributeKey<UpstreamListener> LISTENER = AttributeKey.valueOf("finops.upstream.listener");

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        UpstreamListener listener = ctx.channel().attr(LISTENER).get();
        if (listener == null) {
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (msg instanceof HttpResponse head) {
            listener.onResponseHead(head);
            if (ctx.channel().attr(LISTENER).get() != listener) {
                // it let go of the connection on reading the head (a malformed one): the rest is no one's
                ReferenceCountUtil.release(msg);
                return;
            }
        }
        if (msg instanceof HttpContent content) {
            listener.onResponseContent(content);  // the listener releases it
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        UpstreamListener listener = ctx.channel().attr(LISTENER).getAndSet(null);
        if (listener != null) {
            listener.onUpstreamClosed();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        UpstreamListener listener = ctx.channel().attr(LISTENER).getAndSet(null);
        ctx.close();
        if (listener != null) {
            listener.onUpstreamError(cause);
        }
    }
}

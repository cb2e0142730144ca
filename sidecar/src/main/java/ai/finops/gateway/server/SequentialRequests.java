package ai.finops.gateway.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client connection's requests, served one at a time in the order they came (HTTP/1.1
 * pipelining): one arriving while another is served, or while others wait, waits behind them. A
 * request answered at once lets the next one start at once. One instance per connection; everything
 * runs on its event loop.
 */
abstract class SequentialRequests extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(SequentialRequests.class);
    private final ArrayDeque<FullHttpRequest> queued = new ArrayDeque<>(0);
    private boolean closing;    // the connection will close: no further request starts on it

    SequentialRequests() {
        super(false);    // a request is released by whoever finishes it
    }

    /** Serves {@code request}, which it now owns; answered at once, or later with {@link #served}. */
    abstract void serve(ChannelHandlerContext ctx, FullHttpRequest request);

    /** A request is being served (and will call {@link #served} when it ends). */
    abstract boolean busy();

    /** No request is being served or waiting on this connection: the next answer written answers the next request. */
    final boolean idle() {
        return !busy() && queued.isEmpty();
    }

    /** The client closed the connection while a request was being served. */
    abstract void clientClosed();

    /**
     * The shutdown grace period is over and a request is still being served: it ends now, telling the
     * client why (an SSE {@code error} event, or an error answer if nothing was sent yet).
     */
    abstract void cutByShutdown();

    /** Fired on every client connection when the shutdown grace period ends; counts the requests it cuts. */
    static final class GracePeriodOver {
        final AtomicInteger cut = new AtomicInteger();

        @Override
        public String toString() {
            return "GRACE_PERIOD_OVER";
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof GracePeriodOver over) {
            dropWaiting();
            if (busy()) {
                over.cut.incrementAndGet();
                cutByShutdown();
            }
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    protected final void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (closing) {
            request.release();
            return;
        }
        if (busy() || !queued.isEmpty()) {
            queued.add(request);
            return;
        }
        serve(ctx, request);
    }

    /** The request being served has ended: the next one, in turn. */
    final void served(ChannelHandlerContext ctx) {
        if (!queued.isEmpty()) {
            ctx.executor().execute(() -> serveWaiting(ctx));
        }
    }

    /**
     * The connection is closing (its close may wait for a slow client to take the last bytes): the
     * requests waiting on it, and any that still arrive, are dropped, never started.
     */
    final void dropWaiting() {
        closing = true;
        FullHttpRequest r;
        while ((r = queued.poll()) != null) {
            r.release();
        }
    }

    private void serveWaiting(ChannelHandlerContext ctx) {
        while (!busy()) {
            FullHttpRequest next = queued.poll();
            if (next == null) {
                return;
            }
            if (closing || !ctx.channel().isActive()) {
                next.release();
                continue;
            }
            try {
                serve(ctx, next);
            } catch (RuntimeException e) {
                exceptionCaught(ctx, e);   // a request in an unknown state: the connection ends
                return;
            }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (busy()) {
            clientClosed();
        }
        dropWaiting();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.atDebug().addKeyValue("remote", ctx.channel().remoteAddress()).setCause(cause).log("client connection failed");
        ctx.close();
    }
}

package ai.finops.gateway.server;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A request head (request line and headers) must arrive whole within {@code limits.headerTimeout},
 * else the connection ends ({@link RequestTimeout}): with a 408 when some of the head arrived and no
 * earlier request is still being answered on the connection; closed at once when none of it arrived
 * (a 408 there could be read as the answer to a request the client sends just then) or when an
 * answer is under way. So a client that trickles header bytes holds a connection, and the up to
 * 72 KiB of head the codec accepts, for this long at most, not for the idle timeout.
 *
 * <p>When the clock starts: for a connection's first request, when the connection opens (a connection
 * that never sends a byte is closed too); for each later one, with the read that brings its first
 * byte, since the wait of a keep-alive connection between requests is the idle timeout's. A head whose
 * first bytes come in the same read as the end of the request before it is counted from the next read.
 *
 * <p>Two handlers share one state: {@link #bytes()}, before the HTTP codec, sees every read, and
 * {@link #heads()}, after it, sees a head decoded and a request ended. A timer is scheduled only when a
 * read ends with a head unfinished (and once when the connection opens), not for every request. One
 * instance per connection; everything runs on its event loop.
 */
final class HeadDeadline {
    private enum Phase { HEAD, BODY, BETWEEN }

    private final GatewayContext gateway;
    private final long timeoutNanos;
    private final String timeout;
    private Phase phase = Phase.HEAD;
    private long started;             // when the clock of the head being read started
    private boolean sawBytes;         // some of that head arrived
    private ScheduledFuture<?> timer;
    private ChannelHandlerContext decoded;   // the context after the codec: a 408 written there is encoded

    HeadDeadline(GatewayContext gateway, Duration timeout) {
        this.gateway = gateway;
        this.timeoutNanos = timeout.toNanos();
        this.timeout = RequestTimeout.words(timeout);
    }

    /** The handler before the HTTP codec: starts the clock. */
    ChannelHandler bytes() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void handlerAdded(ChannelHandlerContext ctx) {
                if (ctx.channel().isActive()) {
                    opened(ctx);
                }
            }

            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                if (started == 0 && timer == null) {
                    opened(ctx);
                }
                ctx.fireChannelActive();
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (phase == Phase.BETWEEN) {
                    phase = Phase.HEAD;
                    started = System.nanoTime();
                }
                if (phase == Phase.HEAD) {
                    sawBytes = true;
                }
                ctx.fireChannelRead(msg);
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                if (phase == Phase.HEAD && timer == null) {
                    schedule(ctx);
                }
                ctx.fireChannelReadComplete();
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                cancel();
                ctx.fireChannelInactive();
            }

            @Override
            public void handlerRemoved(ChannelHandlerContext ctx) {
                cancel();
            }
        };
    }

    /** The handler after the HTTP codec: stops the clock when a head is decoded. */
    ChannelHandler heads() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void handlerAdded(ChannelHandlerContext ctx) {
                decoded = ctx;
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof HttpRequest) {
                    phase = Phase.BODY;
                    sawBytes = false;
                    cancel();
                }
                if (msg instanceof LastHttpContent) {
                    phase = Phase.BETWEEN;
                }
                ctx.fireChannelRead(msg);
            }
        };
    }

    private void opened(ChannelHandlerContext ctx) {
        started = System.nanoTime();
        schedule(ctx);
    }

    private void schedule(ChannelHandlerContext ctx) {
        long left = started + timeoutNanos - System.nanoTime();
        timer = ctx.executor().schedule(this::expired, Math.max(0, left), TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void expired() {
        timer = null;
        ChannelHandlerContext ctx = decoded;
        if (phase != Phase.HEAD || ctx == null || !ctx.channel().isActive()) {
            return;
        }
        SequentialRequests requests = ctx.pipeline().get(SequentialRequests.class);
        if (!sawBytes || requests != null && !requests.idle()) {
            RequestTimeout.close(ctx);
            return;
        }
        RequestTimeout.answer(ctx, gateway, started, "/",
                "the request line and headers did not arrive within " + timeout + " (limits.headerTimeout); the connection is closed");
    }
}

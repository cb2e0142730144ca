package ai.finops.gateway.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Once a request's head is in, its whole body must arrive within {@code limits.bodyTimeout}, counted
 * from the head: one bound on the time a client may take, whatever the rate it sends at (a minimum
 * rate would let a large body be held for as long as its size allows). Past it the connection ends
 * ({@link RequestTimeout}): with a 408 when nothing of an answer to it was written and no earlier
 * request is still being answered; else closed at once, e.g. for a request without a valid key, already
 * answered 401 while its body, dropped as it arrives ({@link KeyCheck}), is still coming.
 *
 * <p>It sits between the HTTP codec and the keep-alive handler, so it sees every body as sent (before
 * {@link KeyCheck} drops one) and every answer written, the 413 of {@link BodyLimit} included. A timer
 * is scheduled only when a read ends with a body unfinished, not for every request. One instance per
 * connection; everything runs on its event loop.
 */
final class BodyDeadline extends ChannelDuplexHandler {
    private final GatewayContext gateway;
    private final long timeoutNanos;
    private final String timeout;
    private boolean receiving;        // a head is in, its body is not whole yet
    private long started;             // when that head arrived
    private String path;
    private boolean answered;         // an answer was written since that head arrived
    private ScheduledFuture<?> timer;

    BodyDeadline(GatewayContext gateway, Duration timeout) {
        this.gateway = gateway;
        this.timeoutNanos = timeout.toNanos();
        this.timeout = RequestTimeout.words(timeout);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest head) {
            receiving = true;
            started = System.nanoTime();
            path = head.uri();
            answered = false;
        }
        if (msg instanceof LastHttpContent) {
            receiving = false;
            cancel();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (receiving && timer == null) {
            timer = ctx.executor().schedule(() -> expired(ctx), Math.max(0, started + timeoutNanos - System.nanoTime()),
                    TimeUnit.NANOSECONDS);
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (receiving && msg instanceof HttpResponse r && r.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
            answered = true;
        }
        ctx.write(msg, promise);
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

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void expired(ChannelHandlerContext ctx) {
        timer = null;
        if (!receiving || !ctx.channel().isActive()) {
            return;
        }
        SequentialRequests requests = ctx.pipeline().get(SequentialRequests.class);
        if (answered || requests != null && !requests.idle()) {
            RequestTimeout.close(ctx);
            return;
        }
        RequestTimeout.answer(ctx, gateway, started, ApiHandler.path(path),
                "the request body did not arrive within " + timeout + " of its headers (limits.bodyTimeout); the connection is closed");
    }
}

package ai.finops.gateway.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.ConnectException;
import java.util.concurrent.TimeUnit;

/**
 * One attempt of one request (Zuul's one-attempt-per-try): acquire a pooled connection, write the
 * request, read the head, hand the body on, then pool the connection or close it. It owns its timers
 * (first byte from the write; idle after the head, restarted by every read and paused while its owner
 * is the one not reading), retries a stale pooled connection only when nothing of the request was
 * written, skips 1xx heads, reports a head that does not decode as malformed, and ends in exactly one
 * {@link Upstream.Outcome}, after which it holds no connection and no buffer. Runs on one event loop.
 */
public final class UpstreamCall implements Upstream.Call, UpstreamListener {
    /** A pooled connection the upstream had closed is replaced this many times before it counts as a failure. */
    private static final int STALE_RETRIES = 2;

    private final UpstreamConnector connector;
    private final EventLoop loop;
    private final UpstreamEndpoint endpoint;
    private final Upstream.Timeouts timeouts;
    private final FullHttpRequest request;     // owned: released at its answer's head, or at the end
    private boolean requestReleased;
    private final Upstream.Receiver receiver;

    private Channel channel;
    private boolean ended;
    private boolean reused;
    private boolean written;
    private boolean informational;  // a 1xx head was read: its end is not the response's
    private int status;             // the final head's status, once it came
    private boolean keepAlive;
    private boolean paused;
    private int staleRetries;
    private long lastRead;
    private ScheduledFuture<?> timer;

    UpstreamCall(UpstreamConnector connector, EventLoop loop, UpstreamEndpoint endpoint, Upstream.Timeouts timeouts,
            FullHttpRequest request, Upstream.Receiver receiver) {
        this.connector = connector;
        this.loop = loop;
        this.endpoint = endpoint;
        this.timeouts = timeouts;
        this.request = request;
        this.receiver = receiver;
    }

    @Override
    public void start() {
        Future<Channel> connecting = connector.acquire(loop, endpoint, timeouts.connect(), this);
        connecting.addListener(f -> {
            if (ended) {
                if (f.isSuccess()) {
                    connector.discard(connecting.getNow());
                }
                return;
            }
            if (!f.isSuccess()) {
                Throwable cause = f.cause();
                fail(cause instanceof ConnectException ? Upstream.Outcome.REFUSED : Upstream.Outcome.CONNECT,
                        "cannot connect: " + UpstreamFailure.inWords(cause), cause);
                return;
            }
            channel = connecting.getNow();
            reused = connector.reused(channel);
            write();
        });
    }

    private void write() {
        Channel ch = channel;
        lastRead = System.nanoTime();
        schedule(timeouts.firstByte().toNanos());
        ch.writeAndFlush(nextCopy()).addListener((ChannelFutureListener) f -> {
            if (ended || channel != f.channel()) {
                return;
            }
            if (f.isSuccess()) {
                written = true;
            } else {
                connectionFailed(f.cause());
            }
        });
    }

    /**
     * The request once more for the wire: its content from the start (retained), its headers shared, not copied
     * (the encoder only reads them), so a stale connection's retry writes the same bytes.
     */
    private FullHttpRequest nextCopy() {
        return new DefaultFullHttpRequest(request.protocolVersion(), request.method(), request.uri(), request.content().retainedDuplicate(),
                request.headers(), request.trailingHeaders());
    }

    // ---- what the connection delivers ------------------------------------------------------

    @Override
    public void onResponseHead(HttpResponse head) {
        if (ended) {
            return;
        }
        written = true;            // an answer: the request arrived
        if (!head.decoderResult().isSuccess()) {
            fail(Upstream.Outcome.MALFORMED, "the response head was malformed (not valid HTTP)", head.decoderResult().cause());
            return;
        }
        if (head.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            informational = true;  // 100 or 103: the real head follows, within the first-byte timeout
            return;
        }
        releaseRequest();          // answered: this call never sends it again, and a long stream need not hold it
        status = head.status().code();
        keepAlive = HttpUtil.isKeepAlive(head);
        lastRead = System.nanoTime();
        schedule(timeouts.idle().toNanos());
        receiver.onHead(head);
    }

    @Override
    public void onResponseContent(HttpContent content) {
        try {
            if (ended) {
                return;
            }
            boolean last = content instanceof LastHttpContent;
            if (informational) {
                informational = !last;
                return;
            }
            lastRead = System.nanoTime();
            if (last) {
                finish(keepAlive);
            }
            receiver.onBody(content.content(), last);
        } finally {
            content.release();
        }
    }

    @Override
    public void onUpstreamClosed() {
        if (!ended) {
            channel = null;        // it is closed; the connector let go of it
            connectionFailed(null);
        }
    }

    @Override
    public void onUpstreamError(Throwable cause) {
        if (!ended) {
            channel = null;
            connectionFailed(cause);
        }
    }

    /** The connection closed or failed: where the response had got to says what that means. */
    private void connectionFailed(Throwable cause) {
        String how = cause == null ? "closed" : "failed";
        if (status != 0) {
            fail(Upstream.Outcome.TRUNCATED, "HTTP " + status + ", then the connection " + how + " before the end of the body"
                    + (cause == null ? "" : ": " + UpstreamFailure.inWords(cause)), cause);
        } else if (written) {
            fail(Upstream.Outcome.RESET_AFTER_WRITE, cause == null ? "connection closed before the response" : UpstreamFailure.inWords(cause), cause);
        } else if (reused && staleRetries < STALE_RETRIES) {
            // a pooled connection the upstream had already closed, and nothing of the request reached it: not a try
            staleRetries++;
            discardChannel();
            cancelTimer();
            start();
        } else {
            fail(Upstream.Outcome.RESET_BEFORE_WRITE, "could not send the request: " + (cause == null ? "connection closed" : UpstreamFailure.inWords(cause)), cause);
        }
    }

    // ---- the owner ---------------------------------------------------------------------------

    @Override
    public void pause() {
        paused = true;
        if (channel != null) {
            channel.config().setAutoRead(false);
        }
    }

    @Override
    public void resume() {
        paused = false;
        if (channel != null && !ended) {
            lastRead = System.nanoTime();   // the upstream's silence counts again from now
            channel.config().setAutoRead(true);
            channel.read();
        }
    }

    @Override
    public void cancel() {
        if (!ended) {
            end();
            discardChannel();
        }
    }

    // ---- timers --------------------------------------------------------------------------------

    private void schedule(long nanos) {
        cancelTimer();
        timer = loop.schedule(this::onTimer, nanos, TimeUnit.NANOSECONDS);
    }

    /** The first-byte timeout until the head; after it, the idle timeout, restarted by every read. */
    private void onTimer() {
        timer = null;
        if (ended) {
            return;
        }
        if (status == 0) {
            fail(Upstream.Outcome.TIMEOUT, "no response within " + timeouts.firstByte().toMillis() + " ms", null);
            return;
        }
        long idle = timeouts.idle().toNanos();
        long silent = System.nanoTime() - lastRead;
        if (paused) {
            schedule(idle);           // the owner is the one not reading: not the upstream's silence
        } else if (silent < idle) {
            schedule(idle - silent);
        } else {
            fail(Upstream.Outcome.IDLE, "HTTP " + status + ", then nothing for " + TimeUnit.NANOSECONDS.toMillis(silent)
                    + " ms before the end of the body", null);
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    // ---- endings -------------------------------------------------------------------------------

    private void fail(Upstream.Outcome outcome, String words, Throwable cause) {
        end();
        discardChannel();
        receiver.onFailure(new Upstream.Failure(outcome, written, status, words, cause));
    }

    /** The whole response was read: the connection goes back to the pool when both sides keep it alive. */
    private void finish(boolean poolable) {
        end();
        Channel ch = channel;
        channel = null;
        if (poolable) {
            connector.release(ch, endpoint);
        } else {
            connector.discard(ch);
        }
    }

    private void end() {
        ended = true;
        cancelTimer();
        releaseRequest();
    }

    private void releaseRequest() {
        if (!requestReleased) {
            requestReleased = true;
            request.release();
        }
    }

    private void discardChannel() {
        Channel ch = channel;
        channel = null;
        if (ch != null) {
            connector.discard(ch);
        }
    }
}

package ai.finops.gateway.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.time.Duration;

/**
 * Where a request's attempts go: one {@link Call} per attempt, started on the client's event loop.
 * {@link UpstreamConnector} makes real ones ({@link UpstreamCall}); tests of the exchange script their own.
 */
public interface Upstream {

    /**
     * One attempt, ready to {@link Call#start}: it will acquire a connection to {@code endpoint}, write
     * {@code request} (owned from here: released when the call ends) and report to {@code receiver}, on {@code loop}.
     */
    Call call(EventLoop loop, UpstreamEndpoint endpoint, Timeouts timeouts, FullHttpRequest request, Receiver receiver);

    /** A call in flight, as its owner steers it. */
    interface Call {
        /** Goes: a failure may be reported before this returns. */
        void start();

        /** The client is not reading: stop reading the upstream; its silence does not count as idle meanwhile. */
        void pause();

        /** The client reads again. */
        void resume();

        /** Ends the call now without a report: the connection closes, nothing is held. */
        void cancel();
    }

    /**
     * What a call reports, on its event loop, in this order: one {@link #onHead}, then {@link #onBody}
     * until one with {@code last}, which ends the call; or, at any point, one {@link #onFailure}, which ends
     * it. Nothing arrives after the end, nor after {@link Call#cancel}.
     */
    interface Receiver {
        /** The final response head (a 1xx is skipped), decoded. */
        void onHead(HttpResponse head);

        /** Body bytes, valid during the call only. With {@code last} the call is over and its connection pooled or closed. */
        void onBody(ByteBuf chunk, boolean last);

        /** The call ended without a complete response; it holds no connection and no buffer any more. */
        void onFailure(Failure failure);
    }

    /**
     * @param connect  to open a new connection (TLS handshake included)
     * @param firstByte from the start of the write to the response head
     * @param idle     the longest silence after the head, restarted by every read and paused while the client is not reading
     */
    record Timeouts(Duration connect, Duration firstByte, Duration idle) {}

    /** How a call ends. */
    enum Outcome {
        OK("ok"),
        /** Nothing listens at the endpoint. */
        REFUSED("refused"),
        /** The connection or its TLS handshake failed or timed out. */
        CONNECT("connect"),
        /** The connection failed before the whole request was written: the upstream cannot have it whole. */
        RESET_BEFORE_WRITE("reset"),
        /** The connection failed after the request was written and before any answer: the upstream may be running it. */
        RESET_AFTER_WRITE("reset"),
        /** No response head within the first-byte timeout. */
        TIMEOUT("timeout"),
        /** The head came, then nothing for the idle timeout. */
        IDLE("idle"),
        /** A response head that is not HTTP. */
        MALFORMED("malformed"),
        /** The head came, then the connection ended before the body did. */
        TRUNCATED("reset"),
        /** Its owner ended it. */
        CANCELLED("cancelled");

        private final String kind;

        Outcome(String kind) {
            this.kind = kind;
        }

        /** The failure kind that metrics count ({@code finops_gateway_upstream_errors_total{kind}}). */
        public String kind() {
            return kind;
        }
    }

    /**
     * @param written the whole request reached the connection (or an answer came): the upstream may have it,
     *                so it must not be sent again outside a configured attempt
     * @param status  the response status when the head had arrived, else 0
     * @param words   what failed, for a client to read: no address, endpoint or exception class
     * @param cause   the exception behind it, for the log, or null
     */
    record Failure(Outcome outcome, boolean written, int status, String words, Throwable cause) {
        public boolean headReceived() {
            return status != 0;
        }
    }
}

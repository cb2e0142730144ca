package ai.finops.gateway.upstream;

import java.net.ConnectException;

/** How an upstream connection failed, in words a client may read: no exception class, address or endpoint. */
public final class UpstreamFailure {
    private UpstreamFailure() {}

    /**
     * Why a response already under way stopped, for the client's SSE error event: {@code upstream} names
     * who was answering ("the provider", "the shared gateway").
     */
    public static String midResponse(Upstream.Failure f, String upstream, java.time.Duration idle) {
        return switch (f.outcome()) {
            case IDLE -> upstream + " sent nothing for " + idle.toMillis() + " ms";
            case TRUNCATED -> f.cause() == null ? upstream + " closed the connection mid-response"
                    : "the connection to " + upstream + " failed mid-response: " + inWords(f.cause());
            default -> upstream + "'s response failed mid-way: " + f.words();
        };
    }

    /** The innermost cause: what a credential fetch or a wrapped failure really was. */
    public static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    public static String inWords(Throwable cause) {
        String message = String.valueOf(cause.getMessage()).toLowerCase(java.util.Locale.ROOT);
        if (cause instanceof io.netty.channel.ConnectTimeoutException) {
            return "connect timed out";
        }
        if (cause instanceof ConnectException || message.contains("connection refused")) {
            return "connection refused";
        }
        if (cause instanceof java.net.UnknownHostException) {
            return "unknown host";
        }
        if (cause instanceof javax.net.ssl.SSLException || cause instanceof io.netty.handler.codec.DecoderException
                && cause.getCause() instanceof javax.net.ssl.SSLException) {
            return "TLS failed (certificate or handshake)";
        }
        if (message.contains("reset")) {
            return "connection reset";
        }
        if (cause instanceof java.nio.channels.ClosedChannelException || message.contains("closed") || message.contains("broken pipe")) {
            return "connection closed";
        }
        if (cause instanceof io.netty.handler.codec.DecoderException) {
            return "a response it could not decode";
        }
        return "an unexpected error (details in the gateway's log)";
    }
}

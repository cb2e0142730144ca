package ai.finops.gateway.server;

import ai.finops.gateway.dialect.ErrorResponses;
import ai.finops.gateway.governance.Admission;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.LastHttpContent;

/** The last writes of a proxied request that did not end with its provider's answer, in the client's dialect. */
final class Endings {
    private Endings() {}

    /** An error of the gateway's own (Anthropic error JSON; OpenAI's through the dialect); with {@code close}, the connection then ends. */
    static Runnable error(ChannelHandlerContext client, int code, String message, String requestId, boolean close) {
        return () -> {
            ChannelFuture written = client.writeAndFlush(ErrorResponses.response(client.alloc(), code, message, requestId));
            if (close) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        };
    }

    /** The admit step's refusal: its status and type, and when to try again. */
    static Runnable refusal(ChannelHandlerContext client, Admission.Refused refused, String requestId) {
        return () -> {
            FullHttpResponse response = ErrorResponses.response(client.alloc(), refused.status(), refused.type(), refused.message(), requestId);
            if (refused.retryAfter() != null) {
                response.headers().set(HttpHeaderNames.RETRY_AFTER, Math.max(1, refused.retryAfter().toSeconds()));
            }
            client.writeAndFlush(response);
        };
    }

    /**
     * A response already under way ends here: its client reads why, never a clean end, and the connection closes.
     * An event stream gets an {@code error} event (whole events only went out, so it stands on its own); a plain
     * body just stops, without its terminating chunk, so it cannot look complete.
     */
    static Runnable cut(ChannelHandlerContext client, boolean events, String message, String requestId) {
        return () -> {
            if (events) {
                client.write(new DefaultHttpContent(ErrorResponses.sseEvent(client.alloc(), "api_error", message, requestId)));
                client.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
            } else {
                client.flush();
                client.close();
            }
        };
    }
}

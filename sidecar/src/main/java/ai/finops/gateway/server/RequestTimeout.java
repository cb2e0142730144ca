package ai.finops.gateway.server;

import ai.finops.gateway.dialect.ErrorResponses;
import ai.finops.gateway.translate.openai.AnthropicToOpenAiResponses;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * How a connection ends whose client did not send its request in time ({@link HeadDeadline},
 * {@link BodyDeadline}): from then on nothing it sends is read further than the pipeline's first
 * handler, which drops it; then either a 408 in the surface's error JSON, with {@code connection:
 * close}, traced like every answer ({@link LocalAnswer}, outcome {@code rejected_timeout}), or, when
 * a 408 cannot be the next thing the client reads (a response is already under way on the
 * connection), a plain close.
 */
final class RequestTimeout {
    static final String DISCARD = "timed-out";

    private RequestTimeout() {}

    /** Drops whatever arrives, before anything decodes it. */
    @ChannelHandler.Sharable
    private static final class Discard extends ChannelInboundHandlerAdapter {
        static final Discard INSTANCE = new Discard();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }

    /** Nothing more the client sends goes further than the pipeline's first handler. */
    static void stopReading(ChannelHandlerContext ctx) {
        if (ctx.pipeline().get(DISCARD) == null) {
            ctx.pipeline().addFirst(DISCARD, Discard.INSTANCE);
        }
    }

    /** Ends the connection at once. */
    static void close(ChannelHandlerContext ctx) {
        stopReading(ctx);
        ctx.channel().close();
    }

    /**
     * Answers 408, written from {@code ctx} (past the keep-alive handler, which would close at once
     * and so reset a connection whose client is still sending), then ends the connection the way a
     * 413 does ({@link BodyLimit}): our side closes after the answer, what still arrives is dropped,
     * and the connection closes when the client closes it, or after {@link BodyLimit#DRAIN_SECONDS}.
     *
     * @param startNanos when what timed out began, for the access log's duration
     * @param path the request's path, or {@code /} when its head never arrived
     */
    static void answer(ChannelHandlerContext ctx, GatewayContext gateway, long startNanos, String path, String message) {
        stopReading(ctx);
        if (ctx.channel() instanceof DuplexChannel duplex && duplex.isOutputShutdown()) {
            ctx.channel().close();    // an answer was already given and the connection is ending
            return;
        }
        LocalAnswer answer = new LocalAnswer(gateway, gateway.nextRequestId(), startNanos, path);
        byte[] body = ErrorResponses.json(ErrorResponses.typeFor(408), message, answer.requestId());
        byte[] openAi = ApiHandler.openAiSurface(path) ? AnthropicToOpenAiResponses.error(body) : null;
        FullHttpResponse response = ErrorResponses.response(ctx.alloc(), 408, openAi != null ? openAi : body, answer.requestId());
        HttpUtil.setKeepAlive(response, false);
        answer.record(408);
        ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> {
            Channel ch = f.channel();
            if (ch instanceof DuplexChannel duplex && f.isSuccess()) {
                duplex.shutdownOutput();
                ctx.executor().schedule(() -> ch.close(), BodyLimit.DRAIN_SECONDS, TimeUnit.SECONDS);
            } else {
                ch.close();
            }
        });
    }

    /** A deadline in words: {@code 30s}, {@code 1.5s}, {@code 250ms}. */
    static String words(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() >= 1000 ? d.toMillis() / 1000.0 + "s" : d.toMillis() + "ms";
    }
}

package ai.finops.gateway.server;

import ai.finops.gateway.dialect.Headers;
import ai.finops.gateway.mcp.McpReply;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.RejectedExecutionException;

/**
 * The answer to an {@code /mcp} request written on its connection: each part moved to the
 * connection's event loop (the MCP gateway answers from the SDK's threads), the request traced and
 * released with the head, {@code done} run once the answer is complete. An event for a connection
 * already closed, or after the end, is released.
 */
final class McpAnswer implements McpReply {
    private final ApiCall call;
    private final ChannelHandlerContext ctx;
    private final Runnable done;
    private boolean ended;

    McpAnswer(ApiCall call, Runnable done) {
        this.call = call;
        this.ctx = call.ctx();
        this.done = done;
    }

    @Override
    public void full(FullHttpResponse response) {
        onLoop(response, () -> {
            if (ended) {
                response.release();
                return;
            }
            ended = true;
            call.reply(response);
            done.run();
        });
    }

    @Override
    public void head(HttpResponse head) {
        onLoop(null, () -> {
            if (ended) {
                return;
            }
            head.headers().set(Headers.GATEWAY_REQUEST_ID, call.requestId());
            call.answer().record(head.status().code());
            call.request().release();
            ctx.writeAndFlush(head);
        });
    }

    @Override
    public void event(ByteBuf event) {
        onLoop(event, () -> {
            if (ended || !ctx.channel().isActive()) {
                event.release();
                return;
            }
            ctx.writeAndFlush(new DefaultHttpContent(event));
        });
    }

    @Override
    public void end() {
        onLoop(null, () -> {
            if (ended) {
                return;
            }
            ended = true;
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            done.run();
        });
    }

    /** Runs {@code step} on the connection's loop; {@code carried} is released when the loop has stopped and never runs it. */
    private void onLoop(Object carried, Runnable step) {
        if (ctx.executor().inEventLoop()) {
            step.run();
            return;
        }
        try {
            ctx.executor().execute(step);
        } catch (RejectedExecutionException e) {
            ReferenceCountUtil.release(carried);
        }
    }
}

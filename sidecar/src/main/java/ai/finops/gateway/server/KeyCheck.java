package ai.finops.gateway.server;

import ai.finops.gateway.auth.Authenticator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * Checks the virtual key on a request's head, before its body is read, so that clients without a key
 * cannot make the gateway hold bodies in memory: a request without a valid key goes on as its head
 * alone (its body dropped as it arrives), and {@link ApiHandler}, which checks the key on every
 * request, answers it 401 or 403 in turn (in order behind requests before it on the connection) as soon
 * as the head is in. The connection stays usable once the dropped body has been read.
 */
final class KeyCheck extends ChannelInboundHandlerAdapter {
    private final GatewayContext gateway;
    private boolean dropping;    // the body of a request without a valid key is arriving

    KeyCheck(GatewayContext gateway) {
        this.gateway = gateway;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (dropping && msg instanceof HttpContent) {
            dropping = !(msg instanceof LastHttpContent);
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest head && !(msg instanceof HttpContent) && head.decoderResult().isSuccess()
                && ApiHandler.needsKey(ApiHandler.path(head.uri()))
                && !Authenticator.authenticate(head.headers(), gateway.snapshots().current().keys(), gateway.clock().instant()).ok()) {
            head.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0).remove(HttpHeaderNames.TRANSFER_ENCODING).remove(HttpHeaderNames.EXPECT);
            dropping = true;
            ctx.fireChannelRead(head);
            ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        ctx.fireChannelRead(msg);
    }
}

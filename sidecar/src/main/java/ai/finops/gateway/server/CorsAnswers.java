package ai.finops.gateway.server;

import ai.finops.gateway.dialect.Headers;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;

/**
 * The answers the CORS handler gives by itself (a preflight; a refusal), with a request id and
 * traced like every request ({@link LocalAnswer}): {@code local} for a preflight from an allowed
 * origin, {@code rejected_cors} for one from any other origin (answered without the CORS headers, so
 * the browser refuses). Sits just before the CORS handler, which answers while it reads a request
 * head that has an {@code Origin}: a response written then without a request id is the CORS handler's.
 */
final class CorsAnswers extends ChannelDuplexHandler {
    private final GatewayContext gateway;
    private String readingPath;    // the path of the request head the CORS handler is reading, or null
    private long readingSince;

    CorsAnswers(GatewayContext gateway) {
        this.gateway = gateway;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest head) || !head.headers().contains(HttpHeaderNames.ORIGIN)) {
            ctx.fireChannelRead(msg);
            return;
        }
        readingPath = ApiHandler.path(head.uri());
        readingSince = System.nanoTime();
        try {
            ctx.fireChannelRead(msg);
        } finally {
            readingPath = null;
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (readingPath != null && msg instanceof HttpResponse response && response.status().codeClass() != HttpStatusClass.INFORMATIONAL
                && !response.headers().contains(Headers.GATEWAY_REQUEST_ID)) {
            LocalAnswer answer = new LocalAnswer(gateway, gateway.nextRequestId(), readingSince, readingPath);
            response.headers().set(Headers.GATEWAY_REQUEST_ID, answer.requestId());
            boolean allowed = response.status().code() < 400 && response.headers().contains(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN);
            answer.record(allowed ? LocalAnswer.LOCAL : LocalAnswer.REJECTED_CORS, response.status().code());
            readingPath = null;    // one answer per request
        }
        ctx.write(msg, promise);
    }
}

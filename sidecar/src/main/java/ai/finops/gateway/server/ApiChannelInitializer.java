package ai.finops.gateway.server;

import ai.finops.gateway.config.GatewaySettings;
import ai.finops.gateway.tls.ServerTls;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.cors.CorsConfig;
import io.netty.handler.codec.http.cors.CorsHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * The client-facing pipeline, one concern per handler: the connection cap ({@link ConnectionLimit}),
 * TLS when the gateway serves its own certificate,
 * the idle timeout, the head and body read deadlines ({@link HeadDeadline}, {@link BodyDeadline}),
 * the HTTP codec, keep-alive (closed after each response while shutting down, {@link DrainingClose}), CORS, the key check on the head ({@link KeyCheck}), the body limit
 * ({@link BodyLimit}), the OpenAI dialect, then the requests themselves.
 */
final class ApiChannelInitializer extends ChannelInitializer<Channel> {
    /** A keep-alive connection with nothing in flight for this long is closed (a request being served keeps it). */
    private static final int CLIENT_IDLE_SECONDS = 620;

    private final GatewayContext gateway;
    private final CorsConfig cors;
    private final ChannelGroup clients;
    private final ConnectionLimit connections;
    private final ServerTls tls;
    private final DrainingClose draining;

    ApiChannelInitializer(GatewayContext gateway, CorsConfig cors, ChannelGroup clients, ServerTls tls) {
        this.gateway = gateway;
        this.tls = tls;
        this.cors = cors;
        this.clients = clients;
        this.connections = new ConnectionLimit(gateway);
        this.draining = new DrainingClose(gateway);
    }

    @Override
    protected void initChannel(Channel ch) {
        if (!connections.admit(ch)) {
            return;    // over limits.maxConnections: closed, counted, nothing built for it
        }
        clients.add(ch);
        GatewaySettings.Limits limits = gateway.snapshots().current().settings().limits();
        HeadDeadline head = new HeadDeadline(gateway, limits.headerTimeout());
        ChannelPipeline p = ch.pipeline();
        if (tls != null) {
            p.addLast("tls", tls.newHandler(ch.alloc()));    // the certificate current now; a renewal serves the next connection
        }
        p.addLast("idle", new IdleStateHandler(0, 0, CLIENT_IDLE_SECONDS, TimeUnit.SECONDS) {
            @Override
            protected void channelIdle(io.netty.channel.ChannelHandlerContext ctx, io.netty.handler.timeout.IdleStateEvent evt) {
                if (!(ctx.pipeline().get("api") instanceof SequentialRequests api && api.busy())) {
                    ctx.close();
                }
            }
        });
        p.addLast("head-deadline", head.bytes());
        p.addLast("http", new HttpServerCodec(8192, 64 * 1024, 64 * 1024));
        p.addLast("head-end", head.heads());
        p.addLast("body-deadline", new BodyDeadline(gateway, limits.bodyTimeout()));
        p.addLast("keep-alive", new HttpServerKeepAliveHandler());
        p.addLast("draining", draining);      // after keep-alive: it sees the connection: close this adds
        if (cors != null) {
            p.addLast("cors-answers", new CorsAnswers(gateway));
            p.addLast("cors", new CorsHandler(cors));
        }
        if (gateway.relay() == null) {
            p.addLast("key", new KeyCheck(gateway));   // the shared gateway checks relayed keys
        }
        p.addLast("body", new BodyLimit(gateway.snapshots().current().settings().maxBodyBytes(), gateway));
        OpenAiClientDialect openai = new OpenAiClientDialect();
        p.addLast("openai-dialect", openai);
        p.addLast("api", gateway.relay() != null ? new RelayHandler(gateway, gateway.relay(), openai) : new ApiHandler(gateway, openai));
    }
}

package ai.finops.gateway.server;

import ai.finops.gateway.dialect.Headers;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.cors.CorsConfig;
import io.netty.handler.codec.http.cors.CorsConfigBuilder;
import io.netty.util.concurrent.GlobalEventExecutor;
import ai.finops.gateway.config.GatewaySettings;
import ai.finops.gateway.tls.ServerTls;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds the API port and the operations port on one set of event loops, and shuts down gracefully:
 * not ready, stop accepting, let requests in flight finish within the grace period, then close.
 */
public final class GatewayServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayServer.class);
    /** A slow client holds at most this much of a response in the gateway before the upstream read pauses. */
    static final WriteBufferWaterMark CLIENT_WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);

    private final GatewayContext gateway;
    private final Transport transport;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ChannelGroup clients = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    private Channel api;
    private Channel admin;

    public GatewayServer(GatewayContext gateway, Transport transport, EventLoopGroup boss, EventLoopGroup workers) {
        this.gateway = gateway;
        this.transport = transport;
        this.boss = boss;
        this.workers = workers;
    }

    /** A bootstrap template for upstream connections on the same transport. */
    public static Bootstrap upstreamBootstrap(Transport transport) {
        return new Bootstrap().channel(transport.clientChannel()).option(ChannelOption.SO_KEEPALIVE, true);
    }

    public GatewayServer start(GatewaySettings settings) throws InterruptedException, BindException {
        return start(settings, null, null);
    }

    /**
     * Binds the API port on the settings' address and the operations port on {@code adminBind} (null:
     * the same address). A sidecar binds its API to loopback and its operations port to the pod IP.
     * With {@code tls} (null: plain HTTP) the API port serves HTTPS, and the operations port too when
     * the settings' {@code tls.operations} says so.
     */
    public GatewayServer start(GatewaySettings settings, String adminBind, ServerTls tls) throws InterruptedException, BindException {
        ServerTls adminTls = tls != null && settings.tls() != null && settings.tls().operations() ? tls : null;
        ServerBootstrap apiBootstrap = new ServerBootstrap()
                .group(boss, workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, CLIENT_WATER_MARK)
                .childHandler(new ApiChannelInitializer(gateway, cors(settings), clients, tls));
        api = listen(apiBootstrap, new InetSocketAddress(settings.bindAddress(), settings.port()), "API", "--port or FINOPS_PORT");
        AdminHandler adminHandler = new AdminHandler(gateway);
        ServerBootstrap adminBootstrap = new ServerBootstrap()
                .group(boss, workers)
                .channel(transport.serverChannel())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (adminTls != null) {
                            ch.pipeline().addLast("tls", adminTls.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpServerKeepAliveHandler(),
                                new HttpObjectAggregator(1 << 20), adminHandler);
                    }
                });
        InetSocketAddress adminAddress = new InetSocketAddress(adminBind != null ? adminBind : settings.bindAddress(), settings.adminPort());
        try {
            admin = listen(adminBootstrap, adminAddress, "operations", "--admin-port or FINOPS_ADMIN_PORT");
        } catch (BindException e) {
            api.close().sync();
            throw e;
        }
        LOG.atInfo().addKeyValue("api", api.localAddress()).addKeyValue("operations", admin.localAddress())
                .addKeyValue("transport", transport.name())
                .addKeyValue("tls", tls == null ? "off" : adminTls == null ? "api" : "api and operations").log("gateway listening");
        return this;
    }

    /** Binds one port; a port in use or an address that cannot be bound is a {@link BindException} saying which. */
    private static Channel listen(ServerBootstrap bootstrap, InetSocketAddress address, String what, String override)
            throws InterruptedException, BindException {
        ChannelFuture bound = bootstrap.bind(address).await();
        if (bound.isSuccess()) {
            return bound.channel();
        }
        String cause = String.valueOf(bound.cause().getMessage());
        String where = address.getHostString() + ":" + address.getPort();
        BindException e = cause.contains("Address already in use")
                ? new BindException("the " + what + " port " + where + " is already in use; choose another with " + override)
                : new BindException("cannot listen on " + where + " for the " + what + " port: " + cause);
        e.initCause(bound.cause());
        throw e;
    }

    public int apiPort() {
        return ((InetSocketAddress) api.localAddress()).getPort();
    }

    public int adminPort() {
        return ((InetSocketAddress) admin.localAddress()).getPort();
    }

    static CorsConfig cors(GatewaySettings settings) {
        if (settings.allowedOrigins().isEmpty()) {
            return null;
        }
        CorsConfigBuilder b = settings.allowedOrigins().contains("*")
                ? CorsConfigBuilder.forAnyOrigin()
                : CorsConfigBuilder.forOrigins(settings.allowedOrigins().toArray(String[]::new));
        return b.allowedRequestHeaders(settings.allowedHeaders().toArray(String[]::new))
                .allowedRequestMethods(HttpMethod.GET, HttpMethod.POST, HttpMethod.HEAD, HttpMethod.OPTIONS)
                .exposeHeaders("request-id", Headers.GATEWAY_REQUEST_ID.toString(), "retry-after")
                .maxAge(3600)
                .build();
    }

    /**
     * Graceful: not ready, stops accepting (the listening socket closes, so new connections are
     * refused), waits for requests in flight up to {@code grace}, cuts what is left with an error
     * its client can read, then closes everything. Logs how many requests it drained and cut.
     */
    public void shutdown(Duration grace) {
        long start = System.nanoTime();
        gateway.startDraining();
        if (api != null) {
            api.close().syncUninterruptibly();
        }
        int inFlight = gateway.inFlight().get();
        long endedBefore = gateway.ended();
        LOG.atInfo().addKeyValue("in_flight", inFlight).addKeyValue("grace_ms", grace.toMillis())
                .log("shutting down: not ready, no new connections; requests in flight may finish");
        awaitNoneInFlight(grace);
        SequentialRequests.GracePeriodOver over = new SequentialRequests.GracePeriodOver();
        if (gateway.inFlight().get() > 0) {
            LOG.atWarn().addKeyValue("in_flight", gateway.inFlight().get()).log("grace period over; ending requests still in flight");
            // each ends on its own event loop with an error its client can read, then its connection closes
            clients.forEach(ch -> ch.pipeline().fireUserEventTriggered(over));
            awaitNoneInFlight(Duration.ofSeconds(1));
        }
        clients.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        if (admin != null) {
            admin.close().syncUninterruptibly();
        }
        long ended = gateway.ended() - endedBefore;
        LOG.atInfo().addKeyValue("in_flight_at_start", inFlight).addKeyValue("drained", ended - over.cut.get())
                .addKeyValue("cut", over.cut.get()).addKeyValue("duration_ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                .log("shutdown complete");
    }

    /** Waits, at most {@code limit}, until no request is in flight. */
    private void awaitNoneInFlight(Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (gateway.inFlight().get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        shutdown(gateway.snapshots().current().settings().shutdownGrace());
    }
}

package ai.finops.gateway;

import ai.finops.gateway.config.ConfigService;
import ai.finops.gateway.config.ConfigWatcher;
import ai.finops.gateway.config.GatewaySettings;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.routing.Cooldowns;
import ai.finops.gateway.server.GatewayContext;
import ai.finops.gateway.server.GatewayServer;
import ai.finops.gateway.server.Relay;
import ai.finops.gateway.server.Transport;
import ai.finops.gateway.upstream.TlsContexts;
import ai.finops.gateway.upstream.UpstreamConnector;
import ai.finops.gateway.upstream.UpstreamEndpoint;
import io.netty.channel.EventLoopGroup;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** A running gateway: config loaded and watched, ports bound. Used by main and by tests. */
public final class Gateway implements AutoCloseable {
    private final ConfigService configService;
    private final ConfigWatcher watcher;
    private final GatewayServer server;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final GatewayMetrics metrics;
    private final UpstreamConnector connector;

    private Gateway(ConfigService configService, ConfigWatcher watcher, GatewayServer server, EventLoopGroup boss,
            EventLoopGroup workers, GatewayMetrics metrics, UpstreamConnector connector) {
        this.connector = connector;
        this.configService = configService;
        this.watcher = watcher;
        this.server = server;
        this.boss = boss;
        this.workers = workers;
        this.metrics = metrics;
    }

    public static Gateway start(List<Path> dirs, Function<String, String> env, String bind, Integer port,
            Integer adminPort) throws Exception {
        return start(dirs, null, env, bind, port, adminPort);
    }

    /**
     * Starts a gateway on config folders and, in Kubernetes, the mounted credentials Secret
     * ({@code credentials}, null in standalone mode).
     */
    public static Gateway start(List<Path> dirs, Path credentials, Function<String, String> env, String bind, Integer port,
            Integer adminPort) throws Exception {
        return start(dirs, credentials, env, bind, null, port, adminPort);
    }

    /** As above, with the operations port bound to {@code adminBind} (null: the same address as the API). */
    public static Gateway start(List<Path> dirs, Path credentials, Function<String, String> env, String bind, String adminBind,
            Integer port, Integer adminPort) throws Exception {
        return start(dirs, credentials, env, bind, adminBind, port, adminPort, null);
    }

    /**
     * A {@code via-gateway} sidecar: no resources and no provider credentials; every request goes to
     * the shared gateway at {@code target}, with the pod's virtual key {@code key} (null: none) for
     * requests that carry no credential of their own.
     */
    public static Gateway relay(URI target, String key, String bind, String adminBind, Integer port, Integer adminPort) throws Exception {
        if (key != null && key.trim().chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
            throw new IllegalArgumentException("the virtual key contains whitespace, control or non-ASCII characters");
        }
        Relay relay = new Relay(UpstreamEndpoint.of(target, "https".equalsIgnoreCase(target.getScheme()) ? new TlsContexts().forCa(null) : null),
                key == null || key.isBlank() ? null : key.trim());
        org.slf4j.LoggerFactory.getLogger(Gateway.class).atInfo().addKeyValue("target", relay.endpoint())
                .addKeyValue("virtual_key", relay.key() != null ? "set" : "none")
                .log("relay mode: every request goes to the shared gateway; no resources, no provider credentials");
        return start(List.of(), null, name -> null, bind, adminBind, port, adminPort, relay);
    }

    private static Gateway start(List<Path> dirs, Path credentials, Function<String, String> env, String bind, String adminBind,
            Integer port, Integer adminPort, Relay relay) throws Exception {
        GatewayMetrics metrics = new GatewayMetrics();
        ConfigService configService = new ConfigService(dirs, credentials, env, metrics, new TlsContexts(),
                settings -> settings.withListen(bind, port, adminPort));
        configService.loadInitial();
        if (relay == null) {
            metrics.configMeters(() -> configService.holder().status().generation(),
                    () -> configService.holder().status().lastReloadAccepted());
        }
        GatewaySettings settings = configService.holder().current().settings();
        Transport transport = Transport.best();
        EventLoopGroup boss = transport.newGroup(1, "finops-accept");
        // one event loop per core: fewer threads than Netty's default of two per core measured faster
        EventLoopGroup workers = transport.newGroup(Runtime.getRuntime().availableProcessors(), "finops-io");
        UpstreamConnector connector = new UpstreamConnector(() -> GatewayServer.upstreamBootstrap(transport));
        GatewayContext context = new GatewayContext(configService.holder(), connector, new Cooldowns(), metrics, Clock.systemUTC(), relay);
        GatewayServer server;
        try {
            server = new GatewayServer(context, transport, boss, workers).start(settings, adminBind);
        } catch (java.net.BindException e) {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            throw e;
        }
        List<Path> watched = new java.util.ArrayList<>(dirs);
        if (credentials != null) {
            watched.add(credentials);
        }
        ConfigWatcher watcher = new ConfigWatcher(watched, configService::reload);
        if (!watched.isEmpty()) {
            watcher.start();
        }
        return new Gateway(configService, watcher, server, boss, workers, metrics, connector);
    }

    public int apiPort() {
        return server.apiPort();
    }

    public int adminPort() {
        return server.adminPort();
    }

    public ConfigService config() {
        return configService;
    }

    public GatewayMetrics metrics() {
        return metrics;
    }

    @Override
    public void close() {
        try {
            watcher.close();
        } catch (Exception ignored) {
            // closing
        }
        server.close();
        connector.closeAll(java.time.Duration.ofSeconds(2));
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}

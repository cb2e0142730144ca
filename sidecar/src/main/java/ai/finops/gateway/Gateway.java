package ai.finops.gateway;

import ai.finops.gateway.config.ConfigService;
import ai.finops.gateway.config.ConfigWatcher;
import ai.finops.gateway.config.GatewaySettings;
import ai.finops.gateway.governance.Admission;
import ai.finops.gateway.governance.GovernanceAdmission;
import ai.finops.gateway.mcp.McpGateway;
import ai.finops.gateway.mcp.SessionTokens;
import ai.finops.gateway.observability.ExchangeListener;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.observability.tracing.Tracing;
import ai.finops.gateway.routing.Cooldowns;
import ai.finops.gateway.server.GatewayContext;
import ai.finops.gateway.server.GatewayServer;
import ai.finops.gateway.server.Relay;
import ai.finops.gateway.server.Transport;
import ai.finops.gateway.sessions.SessionLedger;
import ai.finops.gateway.tls.ServerTls;
import ai.finops.gateway.upstream.TlsContexts;
import ai.finops.gateway.upstream.UpstreamConnector;
import ai.finops.gateway.upstream.UpstreamEndpoint;
import ai.finops.gateway.usage.UsageLedger;
import ai.finops.governance.CounterStore;
import ai.finops.governance.EmbeddedCounterStore;
import ai.finops.governance.FailoverCounterStore;
import ai.finops.governance.LeasedCounterStore;
import ai.finops.governance.RedisCounterStore;
import io.netty.channel.EventLoopGroup;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** A running gateway: config loaded and watched, ports bound. Used by main and by tests. */
public final class Gateway implements AutoCloseable {
    private final McpGateway mcp;
    private final ConfigService configService;
    private final ConfigWatcher watcher;
    private final ConfigWatcher tlsWatcher;     // the serving certificate's folders, or null without TLS
    private final GatewayServer server;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final GatewayMetrics metrics;
    private final UpstreamConnector connector;
    private final CounterStore counters;
    private final UsageLedger usage;
    private final Tracing tracing;

    /**
     * Where budgets and rate limits are counted.
     *
     * @param dataDir     the embedded store's folder (settled spend survives a restart), or null to keep it in memory only
     * @param redisUrl    the shared store ({@code redis://}, {@code rediss://}), or null: the settings' {@code redis.url}, else embedded
     * @param redisPassword the shared store's password (from a Secret), or null
     * @param redisCaFile PEM certificates a {@code rediss://} server's chain must end in, or null for the JVM's
     * @param namespace   the namespace in the counters' names (the operator reads them by it)
     * @param redisTimeout the most a Redis call may take before the gateway treats Redis as away
     */
    public record Governance(Path dataDir, String redisUrl, String redisPassword, Path redisCaFile, String namespace, Duration redisTimeout) {
        public static final String DEFAULT_NAMESPACE = "default";

        /** With the default Redis timeout ({@link RedisCounterStore#DEFAULT_TIMEOUT}, 50 ms). */
        public Governance(Path dataDir, String redisUrl, String redisPassword, Path redisCaFile, String namespace) {
            this(dataDir, redisUrl, redisPassword, redisCaFile, namespace, RedisCounterStore.DEFAULT_TIMEOUT);
        }

        /** Embedded, in memory: what tests and the relay use. */
        public static Governance inMemory() {
            return new Governance(null, null, null, null, DEFAULT_NAMESPACE);
        }
    }

    /** How long start waits for Redis to answer once (connected, script loaded) before serving without it. */
    static final Duration REDIS_WARM_UP = Duration.ofSeconds(5);

    private Gateway(ConfigService configService, ConfigWatcher watcher, ConfigWatcher tlsWatcher, GatewayServer server, EventLoopGroup boss,
            EventLoopGroup workers, GatewayMetrics metrics, UpstreamConnector connector, CounterStore counters, UsageLedger usage,
            Tracing tracing, McpGateway mcp) {
        this.tracing = tracing;
        this.mcp = mcp;
        this.counters = counters;
        this.usage = usage;
        this.connector = connector;
        this.configService = configService;
        this.watcher = watcher;
        this.tlsWatcher = tlsWatcher;
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
        return start(dirs, credentials, env, bind, adminBind, port, adminPort, Governance.inMemory(), Tracing.OFF);
    }

    /** As above, with budgets and rate limits counted where {@code governance} says. */
    public static Gateway start(List<Path> dirs, Path credentials, Function<String, String> env, String bind, String adminBind,
            Integer port, Integer adminPort, Governance governance) throws Exception {
        return start(dirs, credentials, env, bind, adminBind, port, adminPort, governance, Tracing.OFF);
    }

    /** As above, each proxied request recorded as spans when {@code tracing} is on; the gateway closes it (flushing spans). */
    public static Gateway start(List<Path> dirs, Path credentials, Function<String, String> env, String bind, String adminBind,
            Integer port, Integer adminPort, Governance governance, Tracing tracing) throws Exception {
        return start(dirs, credentials, env, bind, adminBind, port, adminPort, governance, tracing, null);
    }

    /** As above, serving {@code tls} (the {@code --tls-*-file} flags; null: the settings' {@code tls}, if any). */
    public static Gateway start(List<Path> dirs, Path credentials, Function<String, String> env, String bind, String adminBind,
            Integer port, Integer adminPort, Governance governance, Tracing tracing, GatewaySettings.Tls tls) throws Exception {
        return start(dirs, credentials, env, bind, adminBind, port, adminPort, null, governance, tracing, tls);
    }

    /**
     * A {@code via-gateway} sidecar: no resources and no provider credentials; every request goes to
     * the shared gateway at {@code target}, with the pod's virtual key {@code key} (null: none) for
     * requests that carry no credential of their own.
     */
    public static Gateway relay(URI target, String key, String bind, String adminBind, Integer port, Integer adminPort) throws Exception {
        return relay(target, null, key, bind, adminBind, port, adminPort);
    }

    /**
     * As above, an {@code https} shared gateway's certificate verified against {@code caPem} (PEM
     * certificates, the CA that issued it; null: the JVM's trust store), host name included.
     */
    public static Gateway relay(URI target, String caPem, String key, String bind, String adminBind, Integer port, Integer adminPort)
            throws Exception {
        if (key != null && key.trim().chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
            throw new IllegalArgumentException("the virtual key contains whitespace, control or non-ASCII characters");
        }
        Relay relay = new Relay(UpstreamEndpoint.of(target, "https".equalsIgnoreCase(target.getScheme()) ? new TlsContexts().forCa(caPem) : null),
                key == null || key.isBlank() ? null : key.trim());
        org.slf4j.LoggerFactory.getLogger(Gateway.class).atInfo().addKeyValue("target", relay.endpoint())
                .addKeyValue("trust", caPem == null ? "the JVM's trust store" : "the relay CA")
                .addKeyValue("virtual_key", relay.key() != null ? "set" : "none")
                .log("relay mode: every request goes to the shared gateway; no resources, no provider credentials");
        return start(List.of(), null, name -> null, bind, adminBind, port, adminPort, relay, null, Tracing.OFF, null);
    }

    private static Gateway start(List<Path> dirs, Path credentials, Function<String, String> env, String bind, String adminBind,
            Integer port, Integer adminPort, Relay relay, Governance governance, Tracing tracing, GatewaySettings.Tls tls) throws Exception {
        GatewayMetrics metrics = new GatewayMetrics();
        ConfigService configService = new ConfigService(dirs, credentials, env, metrics, new TlsContexts(),
                settings -> settings.withListen(bind, port, adminPort).withTls(tls));
        configService.loadInitial();
        if (relay == null) {
            metrics.configMeters(() -> configService.holder().status().generation(),
                    () -> configService.holder().status().lastReloadAccepted());
        }
        GatewaySettings settings = configService.holder().current().settings();
        ServerTls serverTls = serverTls(settings.tls());
        Transport transport = Transport.best();
        EventLoopGroup boss = transport.newGroup(1, "finops-accept");
        // one event loop per core: fewer threads than Netty's default of two per core measured faster
        EventLoopGroup workers = transport.newGroup(Runtime.getRuntime().availableProcessors(), "finops-io");
        UpstreamConnector connector = new UpstreamConnector(() -> GatewayServer.upstreamBootstrap(transport));
        Clock clock = Clock.systemUTC();
        CounterStore counters = governance == null ? null : counters(governance, configService, metrics, workers);
        Admission admission = counters == null ? Admission.ALWAYS : new GovernanceAdmission(counters, governance.namespace(), clock,
                () -> configService.holder().current().settings().governance().reservationTtl(), metrics::admissionRefused);
        UsageLedger usage = governance == null ? null : usageLedger(governance, configService, clock);
        List<ExchangeListener> listeners = new java.util.ArrayList<>(ExchangeListener.standard(metrics));
        if (usage != null) {
            listeners.add(usage);
        }
        if (tracing.on()) {
            listeners.add(tracing.listener());
        }
        McpGateway mcp = new McpGateway(SessionTokens.fromSetting(relay == null ? env.apply(SessionTokens.ENV) : null), metrics.registry(),
                clock, admission, usage);
        if (relay == null) {
            listeners.add(new SessionLedger(SessionLedger.DEFAULT_WINDOW, SessionLedger.DEFAULT_MAX_SESSIONS, clock));
        }
        Cooldowns cooldowns = new Cooldowns();
        if (relay == null) {
            metrics.cooldownMeters(cooldowns::coolingDownCount);
        }
        GatewayContext context = new GatewayContext(configService.holder(), connector, connector, cooldowns, metrics, clock, relay,
                listeners, admission, mcp);
        GatewayServer server;
        try {
            server = new GatewayServer(context, transport, boss, workers).start(settings, adminBind, serverTls);
        } catch (java.net.BindException e) {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            if (counters != null) {
                counters.close();
            }
            if (usage != null) {
                usage.close();
            }
            tracing.close();
            mcp.close();
            throw e;
        }
        List<Path> watched = new java.util.ArrayList<>(dirs);
        if (credentials != null) {
            watched.add(credentials);
        }
        mcp.reconfigured(configService.holder().current().mcpServers());
        ConfigWatcher watcher = new ConfigWatcher(watched, () -> {
            if (configService.reload()) {
                mcp.reconfigured(configService.holder().current().mcpServers());     // closes what the reload removed or changed
            }
        });
        if (!watched.isEmpty()) {
            watcher.start();
        }
        ConfigWatcher tlsWatcher = serverTls == null ? null : new ConfigWatcher(serverTls.folders(), serverTls::reloadIfChanged).start();
        return new Gateway(configService, watcher, tlsWatcher, server, boss, workers, metrics, connector, counters, usage, tracing, mcp);
    }

    /** The serving certificate of {@code tls: {certFile, keyFile}}, or null; a pair that cannot serve is a configuration problem. */
    private static ServerTls serverTls(GatewaySettings.Tls tls) throws ConfigService.InvalidConfig {
        if (tls == null) {
            return null;
        }
        try {
            return new ServerTls(tls.certFile(), tls.keyFile());
        } catch (IllegalArgumentException e) {
            throw new ConfigService.InvalidConfig(List.of(new ai.finops.crds.validation.Problem("GatewaySettings", null, "tls", e.getMessage())));
        }
    }

    /** The counter store: Redis (with local counters while it does not answer) when a URL is given, else embedded. */
    private static CounterStore counters(Governance governance, ConfigService configService, GatewayMetrics metrics, EventLoopGroup loops) {
        String url = redisUrl(governance, configService);
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Gateway.class);
        if (url == null) {
            EmbeddedCounterStore embedded;
            try {
                embedded = new EmbeddedCounterStore(governance.dataDir());
            } catch (java.io.UncheckedIOException e) {
                log.atError().addKeyValue("data_dir", governance.dataDir()).addKeyValue("error", e.getMessage())
                        .log("the data folder cannot be used: budgets are counted in memory only, and a restart forgets this period's spend");
                embedded = new EmbeddedCounterStore(null);
            }
            log.atInfo().addKeyValue("mode", "embedded").addKeyValue("data_dir", governance.dataDir() == null ? "none (memory only)" : governance.dataDir())
                    .addKeyValue("namespace", governance.namespace())
                    .log("budgets and rate limits counted in this process: exact for one gateway only (give --redis-url to share them between replicas)");
            return embedded;
        }
        RedisCounterStore.Options options = RedisCounterStore.Options.defaults().withPassword(governance.redisPassword())
                .withTrustedCertificates(governance.redisCaFile()).withTimeout(governance.redisTimeout());
        RedisCounterStore redis = new RedisCounterStore(url, options, loops);   // its connection on a gateway event loop
        warmUp(redis, governance.namespace(), log);
        boolean leases = configService.holder().current().settings().governance().leases();
        CounterStore shared = leases ? new LeasedCounterStore(redis) : redis;
        FailoverCounterStore store = new FailoverCounterStore(shared, new EmbeddedCounterStore(null),
                () -> !configService.holder().current().settings().governance().denyOnStoreFailure());
        metrics.governanceStoreMeters(store);
        if (shared instanceof LeasedCounterStore leased) {
            metrics.leaseMeters(leased);
        }
        log.atInfo().addKeyValue("mode", "redis").addKeyValue("store", store).addKeyValue("namespace", governance.namespace())
                .addKeyValue("leases", leases)
                .log(leases ? "budgets and rate limits counted in Redis, shared by every replica; requests admitted on slices of each counter taken"
                        + " from Redis, one by one near a limit (governance.leases: false for one Redis reservation per request)"
                        : "budgets and rate limits counted in Redis, shared by every replica, one reservation per request");
        return store;
    }

    private static UsageLedger usageLedger(Governance governance, ConfigService configService, Clock clock) {
        String url = redisUrl(governance, configService);
        try {
            return new UsageLedger(governance.dataDir(), url, governance.redisPassword(), governance.namespace(), clock);
        } catch (IllegalArgumentException e) {
            org.slf4j.LoggerFactory.getLogger(Gateway.class).atError().addKeyValue("data_dir", governance.dataDir())
                    .addKeyValue("error", e.getMessage()).log("the data folder cannot be used: the usage ledger is kept in memory only");
            return new UsageLedger(null, url, governance.redisPassword(), governance.namespace(), clock);
        }
    }

    /** The Redis of budgets, rate limits and usage: the flag's, else the settings', else none. */
    private static String redisUrl(Governance governance, ConfigService configService) {
        return governance.redisUrl() != null ? governance.redisUrl() : configService.holder().current().settings().governance().redisUrl();
    }

    /**
     * Before the first request: Redis connected and its script loaded, so that a burst right after start
     * is decided by Redis, not by local counters. Serves without it after {@link #REDIS_WARM_UP}.
     */
    private static void warmUp(RedisCounterStore redis, String namespace, org.slf4j.Logger log) {
        long deadline = System.nanoTime() + REDIS_WARM_UP.toNanos();
        java.util.List<ai.finops.governance.CounterStore.Counter> probe =
                java.util.List.of(ai.finops.governance.CounterKeys.concurrent(namespace, "-", 1));
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                redis.used(probe, java.time.Instant.now()).toCompletableFuture().get();
                return;
            } catch (Exception e) {
                last = e;
                try {
                    Thread.sleep(50);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        log.atWarn().addKeyValue("store", redis).addKeyValue("error", last == null ? "none" : String.valueOf(last.getMessage()))
                .log("Redis did not answer within " + REDIS_WARM_UP.toSeconds() + " s of start; serving, with onStoreFailure deciding meanwhile");
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

    /** The usage ledger ({@code GET /usage}); null for a relay. */
    public UsageLedger usage() {
        return usage;
    }

    /** Where budgets and rate limits are counted; null for a relay. */
    public CounterStore counters() {
        return counters;
    }

    @Override
    public void close() {
        try {
            watcher.close();
            if (tlsWatcher != null) {
                tlsWatcher.close();
            }
        } catch (Exception ignored) {
            // closing
        }
        server.close();
        if (counters != null) {
            counters.close();
        }
        if (usage != null) {
            usage.close();
        }
        mcp.close();
        connector.closeAll(java.time.Duration.ofSeconds(2));
        tracing.close();
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}

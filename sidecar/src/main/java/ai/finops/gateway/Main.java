package ai.finops.gateway;

import ai.finops.crds.validation.Problem;
import ai.finops.gateway.config.ConfigService;
import ai.finops.gateway.config.ConfigWatcher;
import ai.finops.gateway.config.GatewaySettings;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.routing.Cooldowns;
import ai.finops.gateway.server.GatewayContext;
import ai.finops.gateway.server.GatewayServer;
import ai.finops.gateway.server.Transport;
import ai.finops.gateway.upstream.UpstreamConnector;
import io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code java -jar finops-gateway.jar --config DIR [--port N] [--admin-port N]}, and {@code ... validate DIR...}. */
@Command(name = "finops-gateway", mixinStandardHelpOptions = true, version = "finops-gateway 0.1.0",
        description = "Serves the Anthropic API, routed by VirtualKey, RoutingRule and ProviderDeployment resources read from YAML folders.",
        subcommands = Main.Validate.class)
public final class Main implements Callable<Integer> {

    @Option(names = "--config", split = ",", defaultValue = "${env:FINOPS_CONFIG}",
            description = "Folder of resource YAML; repeatable or comma-separated (env FINOPS_CONFIG).")
    List<Path> config;

    @Option(names = "--port", defaultValue = "${env:FINOPS_PORT}", description = "API port (env FINOPS_PORT; settings default 8080).")
    Integer port;

    @Option(names = "--admin-port", defaultValue = "${env:FINOPS_ADMIN_PORT}",
            description = "Operations port: /healthz /readyz /metrics /explain (env FINOPS_ADMIN_PORT; default 9090).")
    Integer adminPort;

    @Option(names = "--bind", defaultValue = "${env:FINOPS_BIND_ADDRESS}", description = "Bind address (env FINOPS_BIND_ADDRESS; default 0.0.0.0).")
    String bind;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (config == null || config.isEmpty()) {
            System.err.println("--config DIR is required (or FINOPS_CONFIG)");
            return 2;
        }
        Gateway gateway;
        try {
            gateway = Gateway.start(config, System::getenv, bind, port, adminPort);
        } catch (ConfigService.InvalidConfig e) {
            System.err.println("configuration rejected:");
            e.problems().forEach(p -> System.err.println("  " + p));
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            gateway.close();
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
        return 0;
    }

    /** {@code validate DIR...}: checks folders exactly as the gateway loads them; exit 1 with every problem. */
    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = "Validate folders of resource YAML as the gateway would load them; lists every problem, exits non-zero on any.")
    static final class Validate implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "DIR")
        List<Path> dirs;

        @Option(names = "--no-env", description = "Do not require the environment variables that Secret values reference.")
        boolean noEnv;

        @Override
        public Integer call() {
            List<Problem> problems = ConfigService.validate(dirs, noEnv ? name -> "unset-" + name + "-placeholder" : System::getenv);
            if (problems.isEmpty()) {
                System.out.println("ok: " + dirs);
                return 0;
            }
            problems.forEach(p -> System.out.println(p));
            System.out.println(problems.size() + " problem(s)");
            return 1;
        }
    }

    /** A running gateway: config loaded and watched, ports bound. Used by main and by tests. */
    public static final class Gateway implements AutoCloseable {
        private final ConfigService configService;
        private final ConfigWatcher watcher;
        private final GatewayServer server;
        private final EventLoopGroup boss;
        private final EventLoopGroup workers;
        private final GatewayMetrics metrics;

        private Gateway(ConfigService configService, ConfigWatcher watcher, GatewayServer server, EventLoopGroup boss,
                EventLoopGroup workers, GatewayMetrics metrics) {
            this.configService = configService;
            this.watcher = watcher;
            this.server = server;
            this.boss = boss;
            this.workers = workers;
            this.metrics = metrics;
        }

        public static Gateway start(List<Path> dirs, java.util.function.Function<String, String> env, String bind, Integer port,
                Integer adminPort) throws Exception {
            GatewayMetrics metrics = new GatewayMetrics();
            ConfigService configService = new ConfigService(dirs, env, metrics, new ai.finops.gateway.upstream.TlsContexts(),
                    settings -> settings.withListen(bind, port, adminPort));
            configService.loadInitial();
            GatewaySettings settings = configService.holder().current().settings();
            Transport transport = Transport.best();
            EventLoopGroup boss = transport.newGroup(1, "finops-accept");
            // one event loop per core: fewer threads than Netty's default of two per core measured faster
            EventLoopGroup workers = transport.newGroup(Runtime.getRuntime().availableProcessors(), "finops-io");
            UpstreamConnector connector = new UpstreamConnector(() -> GatewayServer.upstreamBootstrap(transport));
            GatewayContext context = new GatewayContext(configService.holder(), connector, new Cooldowns(), metrics, Clock.systemUTC());
            GatewayServer server = new GatewayServer(context, transport, boss, workers).start(settings);
            ConfigWatcher watcher = new ConfigWatcher(dirs, configService::reload).start();
            return new Gateway(configService, watcher, server, boss, workers, metrics);
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
            boss.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
            workers.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}

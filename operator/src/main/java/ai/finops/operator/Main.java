package ai.finops.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code java -jar finops-operator.jar [--namespaces a,b] [--metrics-port N] [--no-leader-election]}. */
@Command(name = "finops-operator", mixinStandardHelpOptions = true, version = "finops-operator 0.1.0",
        description = "Reconciles VirtualKeys, RoutingRules and ProviderDeployments into each namespace's gateway bundle "
                + "(ConfigMap finops-gateway-bundle, Secret finops-gateway-credentials). Uses the in-cluster config or ~/.kube/config.",
        subcommands = ai.finops.operator.inject.InjectCommand.class)
public final class Main implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    @Option(names = "--namespaces", split = ",", defaultValue = "${env:FINOPS_WATCH_NAMESPACES}",
            description = "Namespaces to serve, comma-separated (env FINOPS_WATCH_NAMESPACES); default: all.")
    List<String> namespaces;

    @Option(names = "--metrics-port", defaultValue = "${env:FINOPS_METRICS_PORT:-8080}",
            description = "Operations port: /metrics /healthz /readyz (env FINOPS_METRICS_PORT; default ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(names = "--bind", defaultValue = "${env:FINOPS_BIND_ADDRESS:-0.0.0.0}", description = "Bind address of the operations port.")
    String bind;

    @Option(names = "--leader-election", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Elect a leader on a Lease so that replicas can run as standbys (default: on).")
    boolean leaderElection;

    @Option(names = "--lease-name", defaultValue = "finops-operator", description = "Name of the leader-election Lease (default ${DEFAULT-VALUE}).")
    String leaseName;

    @Option(names = "--webhook-cert", defaultValue = "${env:FINOPS_WEBHOOK_CERT}",
            description = "PEM certificate of the sidecar-injection webhook (env FINOPS_WEBHOOK_CERT); with --webhook-key, serves /inject over HTTPS.")
    java.nio.file.Path webhookCert;

    @Option(names = "--webhook-key", defaultValue = "${env:FINOPS_WEBHOOK_KEY}", description = "Its PKCS#8 PEM private key (env FINOPS_WEBHOOK_KEY).")
    java.nio.file.Path webhookKey;

    @Option(names = "--webhook-manage-certificate", defaultValue = "false",
            description = "Issue and renew the webhook's certificate (a self-signed CA) into --webhook-secret and keep "
                    + "--webhook-configuration's caBundle in step, instead of cert-manager.")
    boolean manageWebhookCertificate;

    @Option(names = "--webhook-secret", defaultValue = "finops-webhook-tls", description = "Secret of the managed webhook certificate.")
    String webhookSecret;

    @Option(names = "--webhook-service", defaultValue = "finops-webhook", description = "Service the webhook is reached at (certificate names).")
    String webhookService;

    @Option(names = "--webhook-configuration", defaultValue = "finops-webhook", description = "MutatingWebhookConfiguration whose caBundle is kept.")
    String webhookConfiguration;

    @Option(names = "--webhook-port", defaultValue = "${env:FINOPS_WEBHOOK_PORT:-8443}", description = "Webhook port (default ${DEFAULT-VALUE}).")
    int webhookPort;

    @Option(names = "--shared-gateway-namespace", defaultValue = "${env:FINOPS_SHARED_GATEWAY_NAMESPACE}",
            description = "Namespace of the shared gateway Deployment (env FINOPS_SHARED_GATEWAY_NAMESPACE): its bundle also carries the "
                    + "VirtualKeys of namespaces labelled finops.ai/shared-gateway=enabled, so their keys (and via-gateway sidecars) work there.")
    String sharedGatewayNamespace;

    @Option(names = "--redis-url", defaultValue = "${env:FINOPS_REDIS_URL}",
            description = "The gateways' shared counter store (env FINOPS_REDIS_URL): redis://host:6379, rediss:// for TLS. The leader "
                    + "reads spend from it into .status.spend of VirtualKeys and Budgets; without it (embedded mode) there is no spend to show. "
                    + "The password comes from env FINOPS_REDIS_PASSWORD or --redis-password-file.")
    String redisUrl;

    @Option(names = "--redis-password-file", defaultValue = "${env:FINOPS_REDIS_PASSWORD_FILE}",
            description = "File holding the Redis password (env FINOPS_REDIS_PASSWORD_FILE); wins over env FINOPS_REDIS_PASSWORD.")
    java.nio.file.Path redisPasswordFile;

    @Option(names = "--redis-ca-file", defaultValue = "${env:FINOPS_REDIS_CA_FILE}",
            description = "PEM certificates a rediss:// server's chain must end in (env FINOPS_REDIS_CA_FILE); default: the JVM's trust store.")
    java.nio.file.Path redisCaFile;

    @Option(names = "--spend-interval", defaultValue = "30s",
            description = "How often the leader writes spend into .status.spend, as 30s or 2m (default ${DEFAULT-VALUE}).")
    String spendInterval;

    /** The environment the password is read from; tests replace it. */
    java.util.Map<String, String> environment = System.getenv();

    @picocli.CommandLine.Mixin
    ai.finops.operator.inject.SidecarOptions sidecar = new ai.finops.operator.inject.SidecarOptions();

    @Option(names = "--lease-namespace", defaultValue = "${env:POD_NAMESPACE}",
            description = "Namespace of the Lease (env POD_NAMESPACE); default: the operator's own namespace or the kubeconfig's.")
    String leaseNamespace;

    public static void main(String[] args) {
        int code = new CommandLine(new Main()).execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    @Override
    public Integer call() throws Exception {
        try {
            sidecar.settings();
        } catch (IllegalArgumentException e) {
            System.err.println("sidecar settings rejected: " + e.getMessage());
            return 2;
        }
        if (sharedGatewayNamespace != null && namespaces != null && !namespaces.isEmpty()
                && namespaces.stream().map(String::trim).noneMatch(sharedGatewayNamespace::equals)) {
            System.err.println("--shared-gateway-namespace " + sharedGatewayNamespace + " must be one of --namespaces " + namespaces
                    + ": the shared gateway's bundle is written there");
            return 2;
        }
        try {
            spendInterval();
        } catch (IllegalArgumentException e) {
            System.err.println("--spend-interval: " + e.getMessage());
            return 2;
        }
        if (redisUrl != null && !redisUrl.isBlank() && !REDIS_URL.matcher(redisUrl).find()) {
            System.err.println("--redis-url must start with redis:// or rediss:// (or redis-sentinel://, rediss-sentinel://, redis-socket://): "
                    + redacted(redisUrl));
            return 2;
        }
        Running running = start(new KubernetesClientBuilder().build());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running.close();
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
        return 0;
    }

    private static final java.util.regex.Pattern REDIS_URL = java.util.regex.Pattern.compile("^(redis|rediss|redis-sentinel|rediss-sentinel|redis-socket)://");

    /**
     * The operator, its operations port, (when configured) the injection webhook and the shared counter
     * store; closing stops all and the client.
     */
    public record Running(FinopsOperator operator, OperationsServer ops, ai.finops.operator.inject.InjectionWebhook webhook,
            KubernetesClient client, java.util.concurrent.CompletableFuture<ai.finops.governance.CounterStore> store) implements AutoCloseable {
        public int metricsPort() {
            return ops.port();
        }

        @Override
        public void close() {
            if (webhook != null) {
                webhook.close();
            }
            operator.close();
            ops.close();
            client.close();
            if (store != null) {
                store.thenAccept(ai.finops.governance.CounterStore::close);
            }
        }
    }

    java.time.Duration spendInterval() {
        java.time.Duration interval = ai.finops.crds.validation.Durations.parse(spendInterval);
        if (interval.compareTo(java.time.Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("at least 1s, got " + spendInterval);
        }
        return interval;
    }

    /** A Redis URL fit for a log line: scheme, host and port, never a user or password. */
    static String redacted(String url) {
        try {
            java.net.URI uri = java.net.URI.create(url);
            return uri.getScheme() + "://" + (uri.getHost() == null ? "..." : uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort()));
        } catch (IllegalArgumentException e) {
            return "(unparseable)";
        }
    }

    /**
     * The shared counter store, built on a thread of its own (Lettuce's client takes a second or two the
     * first time), so neither start nor a reconciliation waits for it; null without {@code --redis-url}.
     */
    java.util.concurrent.CompletableFuture<ai.finops.governance.CounterStore> counterStore() throws java.io.IOException {
        if (redisUrl == null || redisUrl.isBlank()) {
            return null;
        }
        String password = environment.get("FINOPS_REDIS_PASSWORD");
        if (redisPasswordFile != null) {
            password = java.nio.file.Files.readString(redisPasswordFile).strip();
        }
        ai.finops.governance.RedisCounterStore.Options options = ai.finops.governance.RedisCounterStore.Options.defaults()
                .withTimeout(STORE_TIMEOUT).withPassword(password == null || password.isEmpty() ? null : password)
                .withTrustedCertificates(redisCaFile);
        String url = redisUrl.strip();
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> new ai.finops.governance.RedisCounterStore(url, options), task -> {
            Thread t = new Thread(task, "redis-client");
            t.setDaemon(true);
            t.start();
        });
    }

    /** How long the spend loop waits for one read of every counter: it is off the request path, so generous. */
    static final java.time.Duration STORE_TIMEOUT = java.time.Duration.ofSeconds(5);

    /**
     * A via-gateway pod works only if the shared gateway takes its namespace's keys: warn at admission
     * when the namespace lacks the label. (A list by name: the operator may list namespaces, not get them.)
     */
    static String viaGatewayAdvice(KubernetesClient client, String sharedGatewayNamespace, String namespace,
            ai.finops.operator.inject.SidecarSettings.Mode mode) {
        if (mode != ai.finops.operator.inject.SidecarSettings.Mode.VIA_GATEWAY || sharedGatewayNamespace == null
                || sharedGatewayNamespace.equals(namespace)) {
            return null;
        }
        boolean shares = client.namespaces().withField("metadata.name", namespace).list().getItems().stream().anyMatch(BundleReconciler::sharesKeys);
        return shares ? null : "via-gateway: the shared gateway accepts this pod's VirtualKey only once a cluster admin labels namespace "
                + namespace + " " + BundleReconciler.SHARED_GATEWAY_LABEL + "=enabled";
    }

    /** Starts with the parsed options on {@code client}. */
    public Running start(KubernetesClient client) throws java.io.IOException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        FinopsOperator.LeaderElection election = leaderElection ? FinopsOperator.LeaderElection.defaults(leaseName, leaseNamespace) : null;
        Set<String> served = namespaces == null ? Set.of() : Set.copyOf(namespaces.stream().map(String::trim).filter(s -> !s.isEmpty()).toList());
        java.util.concurrent.CompletableFuture<ai.finops.governance.CounterStore> store = counterStore();
        FinopsOperator.Settings settings = FinopsOperator.Settings.of(served, election).withUninjectedPodsScan(java.time.Duration.ofSeconds(60))
                .withSharedGateway(sharedGatewayNamespace)
                .withSpendLoop(new FinopsOperator.SpendLoop(spendInterval(), store, STORE_TIMEOUT.plusSeconds(5)));
        if (manageWebhookCertificate) {
            String namespace = leaseNamespace != null ? leaseNamespace : client.getNamespace();
            settings = settings.withWebhookCertificates(new ai.finops.operator.inject.WebhookCertificates.Target(namespace, webhookSecret,
                    webhookService, webhookConfiguration));
        }
        FinopsOperator operator = FinopsOperator.start(client, settings, new OperatorMetrics(registry));
        OperationsServer ops = new OperationsServer(bind, metricsPort, registry, operator::started);
        ai.finops.operator.inject.InjectionWebhook webhook = null;
        if (webhookCert != null && webhookKey != null) {
            try {
                webhook = new ai.finops.operator.inject.InjectionWebhook(bind, webhookPort, webhookCert, webhookKey,
                        new ai.finops.operator.inject.SidecarInjector(sidecar.settings()),
                        (namespace, name) -> {
                            ai.finops.crds.VirtualKey vk = client.resources(ai.finops.crds.VirtualKey.class).inNamespace(namespace).withName(name).get();
                            return vk == null || vk.getSpec() == null ? null : vk.getSpec().secretRef;
                        },
                        (namespace, mode) -> viaGatewayAdvice(client, sharedGatewayNamespace, namespace, mode));
            } catch (Exception e) {
                throw new java.io.IOException("cannot start the injection webhook: " + e.getMessage(), e);
            }
        }
        LOG.atInfo().addKeyValue("namespaces", served.isEmpty() ? "all" : served).addKeyValue("leader_election", leaderElection)
                .addKeyValue("shared_gateway_namespace", sharedGatewayNamespace == null ? "none" : sharedGatewayNamespace)
                .addKeyValue("metrics_port", ops.port()).addKeyValue("webhook_port", webhook == null ? "off" : webhook.port())
                .addKeyValue("counter_store", store == null ? "embedded (no spend to show)" : redacted(redisUrl.strip()))
                .log("operator started");
        return new Running(operator, ops, webhook, client, store);
    }
}

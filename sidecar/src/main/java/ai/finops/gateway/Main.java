package ai.finops.gateway;

import ai.finops.crds.validation.Problem;
import ai.finops.gateway.config.ConfigService;
import ai.finops.gateway.observability.tracing.Tracing;
import java.io.PrintWriter;
import java.net.BindException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code java -jar finops-gateway.jar --config DIR [--port N] [--admin-port N]}, {@code ... --relay-to URL} (a
 * via-gateway sidecar), and {@code ... validate DIR...}.
 */
@Command(name = "finops-gateway", mixinStandardHelpOptions = true, version = "finops-gateway 0.1.0",
        description = "Serves the Anthropic API, routed by VirtualKey, RoutingRule and ProviderDeployment resources read from YAML folders.",
        subcommands = Main.Validate.class)
public final class Main implements Callable<Integer> {

    @Option(names = "--config", split = ",", defaultValue = "${env:FINOPS_CONFIG}",
            description = "Folder of resource YAML; repeatable or comma-separated (env FINOPS_CONFIG).")
    List<Path> config;

    @Option(names = "--credentials", defaultValue = "${env:FINOPS_CREDENTIALS}",
            description = "Folder of the mounted credentials Secret, files named <Secret name>.<key>, as the operator writes them (env FINOPS_CREDENTIALS).")
    Path credentials;

    @Option(names = "--port", defaultValue = "${env:FINOPS_PORT}", description = "API port (env FINOPS_PORT; settings default 8080).")
    Integer port;

    @Option(names = "--admin-port", defaultValue = "${env:FINOPS_ADMIN_PORT}",
            description = "Operations port: /healthz /readyz /metrics /usage /explain (env FINOPS_ADMIN_PORT; default 9090).")
    Integer adminPort;

    @Option(names = "--bind", defaultValue = "${env:FINOPS_BIND_ADDRESS}", description = "Bind address (env FINOPS_BIND_ADDRESS; default 0.0.0.0).")
    String bind;

    @Option(names = "--admin-bind", defaultValue = "${env:FINOPS_ADMIN_BIND_ADDRESS}",
            description = "Bind address of the operations port, when it differs from --bind (env FINOPS_ADMIN_BIND_ADDRESS): "
                    + "a sidecar binds its API to 127.0.0.1 and its probes and metrics to the pod IP.")
    String adminBind;

    @Option(names = "--relay-to", defaultValue = "${env:FINOPS_RELAY_TO}",
            description = "Relay every request to the shared gateway at this base URL, e.g. http://finops-gateway.finops-system.svc:8080 "
                    + "(env FINOPS_RELAY_TO): the via-gateway sidecar. No --config: it routes nothing and holds no provider credential; "
                    + "requests without a credential get the virtual key in env " + VIRTUAL_KEY_ENV + ".")
    String relayTo;

    @Option(names = "--tls-cert-file", defaultValue = "${env:FINOPS_TLS_CERT_FILE}",
            description = "Serve the API port over TLS with this PEM certificate chain, e.g. a cert-manager Secret's tls.crt, reloaded "
                    + "when it changes (env FINOPS_TLS_CERT_FILE; else the settings' tls.certFile). Needs --tls-key-file.")
    Path tlsCertFile;

    @Option(names = "--tls-key-file", defaultValue = "${env:FINOPS_TLS_KEY_FILE}",
            description = "The PKCS#8 PEM private key of --tls-cert-file (env FINOPS_TLS_KEY_FILE; else the settings' tls.keyFile).")
    Path tlsKeyFile;

    @Option(names = "--relay-ca-file", defaultValue = "${env:FINOPS_RELAY_CA_FILE}",
            description = "PEM certificates an https --relay-to gateway's certificate must be issued by, host name checked "
                    + "(env FINOPS_RELAY_CA_FILE; default the JVM's trust store).")
    Path relayCaFile;

    @Option(names = "--relay-ca", defaultValue = "${env:FINOPS_RELAY_CA}", paramLabel = "PEM",
            description = "The same certificates as PEM text rather than a file (env FINOPS_RELAY_CA: how the operator hands an injected "
                    + "via-gateway sidecar the gateway's CA). Not with --relay-ca-file.")
    String relayCaPem;

    @Option(names = "--data-dir", defaultValue = "${env:FINOPS_DATA_DIR:-finops-data}",
            description = "Folder where the embedded governance store keeps settled spend across restarts (env FINOPS_DATA_DIR; "
                    + "default finops-data in the working directory). Unused with --redis-url.")
    Path dataDir;

    @Option(names = "--redis-url", defaultValue = "${env:FINOPS_REDIS_URL}",
            description = "Redis for budgets and rate limits shared by every replica: redis://host:6379, rediss:// for TLS "
                    + "(env FINOPS_REDIS_URL; else the settings' redis.url; else the embedded store, exact for one gateway only).")
    String redisUrl;

    @Option(names = "--redis-password-file", defaultValue = "${env:FINOPS_REDIS_PASSWORD_FILE}",
            description = "File holding the Redis password (a mounted Secret); env FINOPS_REDIS_PASSWORD gives it directly.")
    Path redisPasswordFile;

    @Option(names = "--redis-ca-file", defaultValue = "${env:FINOPS_REDIS_CA_FILE}",
            description = "PEM certificates a rediss:// server's chain must end in (env FINOPS_REDIS_CA_FILE; default the JVM's trust store).")
    Path redisCaFile;

    @Option(names = "--redis-timeout", defaultValue = "${env:FINOPS_REDIS_TIMEOUT:-50ms}",
            description = "The most a Redis call may take before Redis counts as away and governance.onStoreFailure decides "
                    + "(env FINOPS_REDIS_TIMEOUT; default 50ms).")
    String redisTimeout;

    @Option(names = "--namespace", defaultValue = "${env:FINOPS_NAMESPACE:-default}",
            description = "Namespace of the resources served, in the names of the budget and rate-limit counters (env FINOPS_NAMESPACE; "
                    + "default 'default'). Gateways and the operator sharing one Redis find the same counters by it.")
    String namespace;

    static final String VIRTUAL_KEY_ENV = "FINOPS_VIRTUAL_KEY";

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (relayTo != null && !relayTo.isBlank()) {
            if (config != null && !config.isEmpty() || credentials != null || tlsCertFile != null || tlsKeyFile != null) {
                System.err.println("--relay-to takes no --config, --credentials or --tls-*-file: the shared gateway routes and serves TLS; "
                        + "this one only relays, on the pod's loopback");
                return 2;
            }
            URI target = relayTarget(relayTo.trim());
            if (target == null) {
                System.err.println("--relay-to must be an http or https base URL with a host and no query, user or fragment, e.g. "
                        + "http://finops-gateway.finops-system.svc:8080");
                return 2;
            }
            String caPem = null;
            boolean caText = relayCaPem != null && !relayCaPem.isBlank();
            if (relayCaFile != null || caText) {
                String flag = relayCaFile != null ? "--relay-ca-file" : "--relay-ca (FINOPS_RELAY_CA)";
                if (relayCaFile != null && caText) {
                    System.err.println("--relay-ca-file and --relay-ca (FINOPS_RELAY_CA) each give the relay's CA: give one");
                    return 2;
                }
                if (!"https".equalsIgnoreCase(target.getScheme())) {
                    System.err.println(flag + " is for an https:// --relay-to: over http there is no certificate to verify");
                    return 2;
                }
                caPem = caText ? relayCaText(relayCaPem) : relayCa(relayCaFile);
                if (caPem == null) {
                    return 2;
                }
            }
            try {
                return serve(Gateway.relay(target, caPem, System.getenv(VIRTUAL_KEY_ENV), bind, adminBind, port, adminPort));
            } catch (IllegalArgumentException e) {
                System.err.println(VIRTUAL_KEY_ENV + " rejected: " + e.getMessage());
                return 2;
            } catch (BindException e) {
                System.err.println(e.getMessage());
                return 1;
            }
        }
        if (config == null || config.isEmpty()) {
            System.err.println("--config DIR is required (or FINOPS_CONFIG)");
            return 2;
        }
        if ((tlsCertFile == null) != (tlsKeyFile == null)) {
            System.err.println("--tls-cert-file and --tls-key-file go together (or FINOPS_TLS_CERT_FILE and FINOPS_TLS_KEY_FILE)");
            return 2;
        }
        Gateway gateway;
        try {
            gateway = Gateway.start(config, credentials, System::getenv, bind, adminBind, port, adminPort, governance(),
                    Tracing.fromEnvironment(System.getenv(), "finops-gateway"),
                    tlsCertFile == null ? null : new ai.finops.gateway.config.GatewaySettings.Tls(tlsCertFile, tlsKeyFile, false));
        } catch (ConfigService.InvalidConfig e) {
            System.err.println("configuration rejected:");
            e.problems().forEach(p -> System.err.println("  " + p));
            return 1;
        } catch (BindException e) {
            System.err.println(e.getMessage());
            return 1;
        }
        return serve(gateway);
    }

    private Gateway.Governance governance() throws java.io.IOException {
        String password = System.getenv("FINOPS_REDIS_PASSWORD");
        if (redisPasswordFile != null) {
            password = java.nio.file.Files.readString(redisPasswordFile).strip();
        }
        return new Gateway.Governance(dataDir, redisUrl == null || redisUrl.isBlank() ? null : redisUrl.trim(),
                password == null || password.isEmpty() ? null : password, redisCaFile, namespace,
                ai.finops.crds.validation.Durations.parse(redisTimeout));
    }

    private static int serve(Gateway gateway) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            gateway.close();
            // the last lines (the shutdown's own among them) are written before the process ends
            if (org.slf4j.LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext logging) {
                logging.stop();
            }
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
        return 0;
    }

    /** The relay CA file's PEM, or null (said on stderr) when it cannot be read or holds no certificate. */
    private static String relayCa(Path file) {
        try {
            String pem = java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.US_ASCII);
            if (!pem.contains("-----BEGIN CERTIFICATE-----")) {
                System.err.println("--relay-ca-file " + file + " holds no PEM certificate");
                return null;
            }
            return pem;
        } catch (java.io.IOException e) {
            System.err.println("--relay-ca-file " + file + " cannot be read: " + e.getClass().getSimpleName());
            return null;
        }
    }

    /** The relay CA given as text, or null (said on stderr) when it holds no certificate. */
    private static String relayCaText(String pem) {
        try {
            if (pem.contains("-----BEGIN CERTIFICATE-----") && !java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificates(new java.io.ByteArrayInputStream(pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII))).isEmpty()) {
                return pem;
            }
        } catch (java.security.cert.CertificateException e) {
            // said below
        }
        System.err.println("--relay-ca (FINOPS_RELAY_CA) holds no PEM certificate");
        return null;
    }

    /** The relay's base URL, or null when it is not one (the same check as a ProviderDeployment's endpoint). */
    static URI relayTarget(String value) {
        return ai.finops.crds.validation.ResourceValidator.checkEndpoint(value) == null ? URI.create(value) : null;
    }

    /** {@code validate DIR...}: checks folders exactly as the gateway loads them; exit 1 with every problem. */
    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = "Validate folders of resource YAML as the gateway would load them; lists every problem, exits non-zero on any.")
    static final class Validate implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(arity = "1..*", paramLabel = "DIR")
        List<Path> dirs;

        @Option(names = "--credentials", description = "Folder of credential files named <Secret name>.<key>.")
        Path credentials;

        @Option(names = "--no-env", description = "Do not require the environment variables that Secret values reference.")
        boolean noEnv;

        @Option(names = "--cluster-secrets",
                description = "The folders are applied to a cluster (a GitOps repository): a Secret that a secretRef names and the folders "
                        + "do not hold is assumed to exist there, keys unchecked. Implies --no-env.")
        boolean clusterSecrets;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            ConfigService.Validation result = ConfigService.validate(dirs, credentials,
                    noEnv || clusterSecrets ? name -> "unset-" + name + "-placeholder" : System::getenv, clusterSecrets);
            List<String> assumed = result.assumedSecrets();
            if (!assumed.isEmpty()) {
                PrintWriter err = spec.commandLine().getErr();
                err.println("note: " + assumed.size() + (assumed.size() == 1 ? " Secret" : " Secrets") + " not in "
                        + (dirs.size() == 1 ? "this folder" : "these folders") + (assumed.size() == 1 ? " is" : " are")
                        + " assumed to exist in the cluster: " + String.join(", ", assumed));
                err.flush();
            }
            List<Problem> problems = result.problems();
            if (problems.isEmpty()) {
                out.println("ok: " + dirs);
            } else {
                problems.forEach(out::println);
                out.println(problems.size() + " problem(s)");
            }
            out.flush();
            return problems.isEmpty() ? 0 : 1;
        }
    }
}

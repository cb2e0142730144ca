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
        Running running = start(new KubernetesClientBuilder().build());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running.close();
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
        return 0;
    }

    /** The operator and its operations port, started; closing stops both and the client. */
    public record Running(FinopsOperator operator, OperationsServer ops, KubernetesClient client) implements AutoCloseable {
        public int metricsPort() {
            return ops.port();
        }

        @Override
        public void close() {
            operator.close();
            ops.close();
            client.close();
        }
    }

    /** Starts with the parsed options on {@code client}. */
    public Running start(KubernetesClient client) throws java.io.IOException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        FinopsOperator.LeaderElection election = leaderElection ? FinopsOperator.LeaderElection.defaults(leaseName, leaseNamespace) : null;
        Set<String> served = namespaces == null ? Set.of() : Set.copyOf(namespaces.stream().map(String::trim).filter(s -> !s.isEmpty()).toList());
        FinopsOperator operator = FinopsOperator.start(client, FinopsOperator.Settings.of(served, election), new OperatorMetrics(registry));
        OperationsServer ops = new OperationsServer(bind, metricsPort, registry, operator::started);
        LOG.atInfo().addKeyValue("namespaces", served.isEmpty() ? "all" : served).addKeyValue("leader_election", leaderElection)
                .addKeyValue("metrics_port", ops.port()).log("operator started");
        return new Running(operator, ops, client);
    }
}

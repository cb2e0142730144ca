package ai.finops.operator;

import ai.finops.operator.spend.SpendStatusLoop;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The operator: one controller ({@link BundleReconciler}) on a JOSDK {@link Operator}, and the leader's
 * periodic tasks (uninjected pods, the webhook's certificate, the spend loop). Used by {@link Main} and by tests.
 */
public final class FinopsOperator implements AutoCloseable {
    /** The controller's name in logs, metrics and JOSDK's configuration. */
    public static final String CONTROLLER = "finops-bundle";

    /**
     * Leader election on a {@code coordination.k8s.io} Lease: only the leader reconciles, a standby
     * takes over when the leader's lease expires.
     *
     * @param namespace the Lease's namespace; null = the operator's own (in-cluster) or the kubeconfig's
     * @param identity this instance's identity; null = the host name
     * @param exitOnStopLeading exit the process on losing the lease (production: the pod restarts as
     *     a clean standby); tests keep the JVM
     */
    public record LeaderElection(String leaseName, String namespace, String identity, Duration leaseDuration, Duration renewDeadline,
            Duration retryPeriod, boolean exitOnStopLeading) {
        public static LeaderElection defaults(String leaseName, String namespace) {
            return new LeaderElection(leaseName, namespace, null, LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE,
                    LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE, LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE, true);
        }

        LeaderElectionConfiguration toJosdk(Runnable onStartLeading, Runnable onStopLeading) {
            return new LeaderElectionConfiguration(leaseName, namespace, leaseDuration, renewDeadline, retryPeriod, identity,
                    new io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks(onStartLeading, onStopLeading, leader -> { }),
                    exitOnStopLeading);
        }
    }

    /**
     * @param namespaces namespaces to serve; empty = all
     * @param leaderElection null = no leader election (a single replica)
     */
    public record Settings(Set<String> namespaces, LeaderElection leaderElection, Clock clock, Supplier<String> tokens,
            Duration uninjectedPodsScan, ai.finops.operator.inject.WebhookCertificates.Target webhookCertificates,
            String sharedGatewayNamespace, SpendLoop spendLoop) {
        public Settings {
            namespaces = Set.copyOf(namespaces);
        }

        public Settings(Set<String> namespaces, LeaderElection leaderElection, Clock clock, Supplier<String> tokens) {
            this(namespaces, leaderElection, clock, tokens, null, null, null, null);
        }

        public static Settings of(Set<String> namespaces, LeaderElection leaderElection) {
            return new Settings(namespaces, leaderElection, Clock.systemUTC(), VirtualKeySecrets::newToken, null, null, null, null);
        }

        /** These settings, looking every {@code period} for pods that run without the sidecar (null: never). */
        public Settings withUninjectedPodsScan(Duration period) {
            return new Settings(namespaces, leaderElection, clock, tokens, period, webhookCertificates, sharedGatewayNamespace, spendLoop);
        }

        /** These settings, the leader keeping the webhook's certificate and caBundle (null: cert-manager does). */
        public Settings withWebhookCertificates(ai.finops.operator.inject.WebhookCertificates.Target target) {
            return new Settings(namespaces, leaderElection, clock, tokens, uninjectedPodsScan, target, sharedGatewayNamespace, spendLoop);
        }

        /**
         * These settings with the shared gateway's namespace: its bundle also carries the VirtualKeys of
         * namespaces labelled {@value BundleReconciler#SHARED_GATEWAY_LABEL}{@code =enabled} (null: none).
         */
        public Settings withSharedGateway(String namespace) {
            return new Settings(namespaces, leaderElection, clock, tokens, uninjectedPodsScan, webhookCertificates, namespace, spendLoop);
        }

        /** These settings, the leader writing {@code .status.spend} (null: never). */
        public Settings withSpendLoop(SpendLoop value) {
            return new Settings(namespaces, leaderElection, clock, tokens, uninjectedPodsScan, webhookCertificates, sharedGatewayNamespace, value);
        }
    }

    /**
     * The spend loop ({@link SpendStatusLoop}): every {@code interval}, the leader writes the spend of
     * VirtualKeys and Budgets read from {@code store}.
     *
     * @param store the shared counter store as it becomes ready; null in embedded mode (no spend to show)
     * @param storeWait how long a round waits for the store and for its answer
     */
    public record SpendLoop(Duration interval, java.util.concurrent.CompletionStage<ai.finops.governance.CounterStore> store, Duration storeWait) {
        public SpendLoop {
            java.util.Objects.requireNonNull(interval, "interval");
            java.util.Objects.requireNonNull(storeWait, "storeWait");
        }
    }

    /** How often the leader checks the webhook's certificate (renewal happens 30 days before expiry). */
    static final Duration CERTIFICATE_CHECK = Duration.ofHours(1);

    private final Operator operator;
    private final ai.finops.operator.inject.UninjectedPods uninjected;
    private final Runnable stopLeaderTasks;

    private FinopsOperator(Operator operator, ai.finops.operator.inject.UninjectedPods uninjected, Runnable stopLeaderTasks) {
        this.operator = operator;
        this.uninjected = uninjected;
        this.stopLeaderTasks = stopLeaderTasks;
    }

    /** Registers the controller and starts it (informers synced; reconciling once leader). */
    public static FinopsOperator start(KubernetesClient client, Settings settings, OperatorMetrics metrics) {
        ai.finops.operator.inject.UninjectedPods uninjected = settings.uninjectedPodsScan() == null ? null
                : new ai.finops.operator.inject.UninjectedPods(client, metrics, settings.namespaces(), settings.clock());
        SpendStatusLoop spend = settings.spendLoop() == null ? null : new SpendStatusLoop(client, settings.spendLoop().store(), metrics,
                settings.namespaces(), settings.clock(), settings.spendLoop().storeWait());
        java.util.concurrent.ScheduledExecutorService leaderTasks = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "leader-tasks");
            t.setDaemon(true);
            return t;
        });
        java.util.concurrent.atomic.AtomicReference<java.util.concurrent.ScheduledFuture<?>> certificates = new java.util.concurrent.atomic.AtomicReference<>();
        Runnable startLeading = () -> {
            if (uninjected != null) {
                uninjected.start(settings.uninjectedPodsScan());
            }
            if (spend != null) {
                spend.start(settings.spendLoop().interval());
            }
            if (settings.webhookCertificates() != null) {
                var manager = new ai.finops.operator.inject.WebhookCertificates(client, settings.webhookCertificates(), settings.clock());
                certificates.set(leaderTasks.scheduleWithFixedDelay(() -> {
                    try {
                        manager.reconcile();
                    } catch (Exception e) {
                        org.slf4j.LoggerFactory.getLogger(FinopsOperator.class).atWarn().setCause(e)
                                .log("cannot issue or renew the webhook certificate; trying again");
                    }
                }, 0, CERTIFICATE_CHECK.toSeconds(), java.util.concurrent.TimeUnit.SECONDS));
            }
        };
        Runnable stopLeading = () -> {
            if (uninjected != null) {
                uninjected.close();
            }
            if (spend != null) {
                spend.close();
            }
            var task = certificates.getAndSet(null);
            if (task != null) {
                task.cancel(false);
            }
        };
        Operator operator = new Operator(o -> {
            o.withKubernetesClient(client)
                    .withCloseClientOnStop(false)
                    .withMetrics(MicrometerMetrics.newMicrometerMetricsBuilder(metrics.registry()).build())
                    .withUseSSAToPatchPrimaryResource(false)   // it never patches its primary (the Namespace)
                    .withCacheSyncTimeout(Duration.ofMinutes(2));
            if (settings.leaderElection() != null) {
                o.withLeaderElectionConfiguration(settings.leaderElection().toJosdk(startLeading, stopLeading));
            }
        });
        BundleReconciler reconciler = new BundleReconciler(settings.namespaces(), settings.clock(), metrics, settings.tokens(),
                settings.sharedGatewayNamespace());
        operator.register(reconciler, o -> o.withName(CONTROLLER)
                .withGenericFilter((Namespace ns) -> reconciler.serves(ns.getMetadata().getName())));
        operator.start();
        if (settings.leaderElection() == null) {
            startLeading.run();   // a single replica is its own leader
        }
        return new FinopsOperator(operator, uninjected, () -> {
            stopLeading.run();
            leaderTasks.shutdownNow();
        });
    }

    public boolean started() {
        return operator.getRuntimeInfo().isStarted();
    }

    /** Informers connected and healthy. */
    public boolean healthy() {
        return operator.getRuntimeInfo().allEventSourcesAreHealthy();
    }

    @Override
    public void close() {
        stopLeaderTasks.run();
        operator.stop();
    }
}

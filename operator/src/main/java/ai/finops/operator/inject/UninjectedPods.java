package ai.finops.operator.inject;

import ai.finops.operator.OperatorMetrics;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.Gauge;
import java.time.Clock;
import java.time.Duration;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pods that should have the gateway sidecar but run without it. With {@code failurePolicy: Ignore}, a
 * webhook that was down admits pods unchanged and never hears of them, so the operator (the leader)
 * looks: every pod of a namespace labelled {@code finops.ai/inject=enabled}, or labelled
 * {@code finops.ai/inject=true}, that names a VirtualKey and is not opted out, yet has no
 * {@value SidecarInjector#CONTAINER} container. It counts them in {@value #METRIC} (per namespace) and
 * records one Warning Event on each such pod.
 */
public final class UninjectedPods implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UninjectedPods.class);
    public static final String METRIC = "finops.operator.uninjected.pods";
    public static final String REASON = "SidecarNotInjected";

    private final KubernetesClient client;
    private final OperatorMetrics metrics;
    private final Set<String> namespaces;
    private final Clock clock;
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private ScheduledExecutorService timer;

    /** @param namespaces the namespaces the operator serves; empty: all */
    public UninjectedPods(KubernetesClient client, OperatorMetrics metrics, Set<String> namespaces, Clock clock) {
        this.client = client;
        this.metrics = metrics;
        this.namespaces = Set.copyOf(namespaces);
        this.clock = clock;
    }

    public synchronized void start(Duration period) {
        if (timer != null) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "uninjected-pods");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            try {
                scan();
            } catch (RuntimeException e) {
                LOG.atWarn().setCause(e).log("looking for pods without the sidecar failed; trying again later");
            }
        }, 0, period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One look: updates the gauges and records Events for pods not reported yet; returns the pods found. */
    public List<Pod> scan() {
        Map<String, Pod> candidates = new LinkedHashMap<>();
        for (var ns : client.namespaces().withLabel(SidecarInjector.INJECT, "enabled").list().getItems()) {
            String name = ns.getMetadata().getName();
            if (serves(name)) {
                client.pods().inNamespace(name).list().getItems().forEach(p -> candidates.put(p.getMetadata().getUid(), p));
            }
        }
        for (Pod p : client.pods().inAnyNamespace().withLabel(SidecarInjector.INJECT, "true").list().getItems()) {
            if (serves(p.getMetadata().getNamespace())) {
                candidates.put(p.getMetadata().getUid(), p);
            }
        }
        List<Pod> missing = new ArrayList<>();
        Map<String, Integer> byNamespace = new HashMap<>();
        for (Pod pod : candidates.values()) {
            if (expectsSidecar(pod) && !hasSidecar(pod)) {
                missing.add(pod);
                byNamespace.merge(pod.getMetadata().getNamespace(), 1, Integer::sum);
                if (reported.add(pod.getMetadata().getUid())) {
                    event(pod);
                }
            }
        }
        for (String ns : new HashSet<>(counts.keySet())) {
            counts.get(ns).set(byNamespace.getOrDefault(ns, 0));
        }
        byNamespace.forEach((ns, n) -> gauge(ns).set(n));
        return missing;
    }

    private boolean serves(String namespace) {
        return namespaces.isEmpty() || namespaces.contains(namespace);
    }

    private static boolean expectsSidecar(Pod pod) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
            return false;
        }
        Map<String, String> labels = pod.getMetadata().getLabels();
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        boolean optedOut = labels != null && "false".equals(labels.get(SidecarInjector.INJECT))
                || annotations != null && "false".equals(annotations.get(SidecarInjector.INJECT));
        return !optedOut && annotations != null && annotations.get(SidecarInjector.VIRTUAL_KEY) != null;
    }

    private static boolean hasSidecar(Pod pod) {
        return pod.getSpec().getInitContainers() != null
                && pod.getSpec().getInitContainers().stream().anyMatch(c -> SidecarInjector.CONTAINER.equals(c.getName()));
    }

    private AtomicInteger gauge(String namespace) {
        return counts.computeIfAbsent(namespace, ns -> {
            AtomicInteger value = new AtomicInteger();
            Gauge.builder(METRIC, value, AtomicInteger::get).description("Pods labelled for injection but running without the gateway sidecar")
                    .tag("namespace", ns).register(metrics.registry());
            return value;
        });
    }

    private void event(Pod pod) {
        String now = DateTimeFormatter.ISO_INSTANT.format(clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        client.v1().events().inNamespace(pod.getMetadata().getNamespace()).resource(new EventBuilder()
                .withNewMetadata().withGenerateName(pod.getMetadata().getName() + "-finops-").withNamespace(pod.getMetadata().getNamespace()).endMetadata()
                .withNewInvolvedObject().withApiVersion("v1").withKind("Pod").withName(pod.getMetadata().getName())
                        .withNamespace(pod.getMetadata().getNamespace()).withUid(pod.getMetadata().getUid()).endInvolvedObject()
                .withType("Warning").withReason(REASON)
                .withMessage("Labelled for the FinOps gateway sidecar but running without it: the injection webhook was unavailable "
                        + "when the pod was created (failurePolicy Ignore). Recreate the pod to get the sidecar.")
                .withNewSource().withComponent("finops-operator").endSource()
                .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                .build()).create();
        LOG.atWarn().addKeyValue("namespace", pod.getMetadata().getNamespace()).addKeyValue("pod", pod.getMetadata().getName())
                .log("pod running without the gateway sidecar");
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }
}

package ai.finops.operator.inject;

import ai.finops.crds.SecretKeyRef;
import ai.finops.operator.bundle.Names;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HTTPGetActionBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Adds the gateway to a dev-environment pod as a native sidecar (an init container with
 * {@code restartPolicy: Always}, started and ready before the app) and points the pod's containers at
 * it. One code path for the admission webhook and {@code finops-operator inject}. Injecting twice
 * changes nothing; a variable the user set is never overwritten; {@code finops.ai/inject: "false"}
 * opts a pod out.
 *
 * <p>The sidecar binds its API port to 127.0.0.1 (only the pod's containers reach it) and its
 * operations port (probes, metrics) to the pod IP, and mounts the namespace's bundle ConfigMap and
 * credentials Secret as directories (no {@code subPath}), so it hot-reloads as the operator rewrites
 * them. Every app container gets {@code ANTHROPIC_BASE_URL}, {@code OPENAI_BASE_URL} and the
 * VirtualKey's token as {@code ANTHROPIC_AUTH_TOKEN} and {@code OPENAI_API_KEY} (from its Secret).
 */
public final class SidecarInjector {
    public static final String INJECT = "finops.ai/inject";
    public static final String VIRTUAL_KEY = "finops.ai/virtual-key";
    public static final String INJECTED = "finops.ai/injected";
    public static final String CONTAINER = "finops-gateway";
    static final String BUNDLE_VOLUME = "finops-bundle";
    static final String CREDENTIALS_VOLUME = "finops-credentials";
    static final String TMP_VOLUME = "finops-tmp";

    /** What happened: the pod spec was changed, or why it was left alone. */
    public record Outcome(boolean injected, String reason) {
        static Outcome skipped(String reason) {
            return new Outcome(false, reason);
        }
    }

    private final SidecarSettings settings;

    public SidecarInjector(SidecarSettings settings) {
        this.settings = settings;
    }

    /**
     * Injects into {@code spec} (changed in place) of a pod with {@code labels} and {@code annotations}
     * (the latter gain {@value #INJECTED}).
     *
     * @param virtualKeys the Secret key holding a VirtualKey's token, by VirtualKey name; null when unknown
     */
    public Outcome inject(PodSpec spec, Map<String, String> labels, Map<String, String> annotations,
            Function<String, SecretKeyRef> virtualKeys) {
        if ("false".equals(value(labels, annotations, INJECT))) {
            return Outcome.skipped("opted out (" + INJECT + ": \"false\")");
        }
        if (spec.getInitContainers() != null && spec.getInitContainers().stream().anyMatch(c -> CONTAINER.equals(c.getName()))) {
            return Outcome.skipped("already injected");
        }
        String keyName = annotations == null ? null : annotations.get(VIRTUAL_KEY);
        if (keyName == null || keyName.isBlank()) {
            return Outcome.skipped("no " + VIRTUAL_KEY + " annotation: which VirtualKey's token would the pod use?");
        }
        SecretKeyRef token = virtualKeys.apply(keyName);
        if (token == null) {
            return Outcome.skipped("VirtualKey '" + keyName + "' not found, or it has no secretRef");
        }
        SidecarSettings s = settings.forPod(annotations);
        List<Container> inits = new ArrayList<>();
        inits.add(sidecar(s));
        if (spec.getInitContainers() != null) {
            inits.addAll(spec.getInitContainers());
        }
        spec.setInitContainers(inits);
        List<Volume> volumes = spec.getVolumes() == null ? new ArrayList<>() : new ArrayList<>(spec.getVolumes());
        volumes.add(new VolumeBuilder().withName(BUNDLE_VOLUME).withNewConfigMap().withName(Names.BUNDLE_CONFIG_MAP).endConfigMap().build());
        volumes.add(new VolumeBuilder().withName(CREDENTIALS_VOLUME).withNewSecret().withSecretName(Names.CREDENTIALS_SECRET).endSecret().build());
        volumes.add(new VolumeBuilder().withName(TMP_VOLUME).withNewEmptyDir().endEmptyDir().build());
        spec.setVolumes(volumes);
        String base = "http://127.0.0.1:" + s.port();
        for (Container app : spec.getContainers()) {
            List<EnvVar> env = app.getEnv() == null ? new ArrayList<>() : new ArrayList<>(app.getEnv());
            addIfAbsent(env, new EnvVarBuilder().withName("ANTHROPIC_BASE_URL").withValue(base + "/anthropic").build());
            addIfAbsent(env, new EnvVarBuilder().withName("OPENAI_BASE_URL").withValue(base + "/openai/v1").build());
            addIfAbsent(env, secretEnv("ANTHROPIC_AUTH_TOKEN", token));
            addIfAbsent(env, secretEnv("OPENAI_API_KEY", token));
            app.setEnv(env);
        }
        if (annotations != null) {
            annotations.put(INJECTED, s.image());
        }
        return new Outcome(true, "injected " + s.image() + " with VirtualKey '" + keyName + "'");
    }

    private static Container sidecar(SidecarSettings s) {
        Probe ready = probe("/readyz", s.adminPort());
        return new ContainerBuilder()
                .withName(CONTAINER)
                .withImage(s.image())
                .withRestartPolicy("Always")
                .withArgs("--config", "/etc/finops/bundle", "--credentials", "/etc/finops/credentials",
                        "--bind", "127.0.0.1", "--port", String.valueOf(s.port()),
                        "--admin-bind", "0.0.0.0", "--admin-port", String.valueOf(s.adminPort()))
                .withEnv(new EnvVarBuilder().withName("FINOPS_LOG_LEVEL").withValue(s.logLevel()).build())
                .addNewPort().withName("finops-ops").withContainerPort(s.adminPort()).endPort()
                .withStartupProbe(new ProbeBuilder(ready).withPeriodSeconds(1).withFailureThreshold(60).build())
                .withReadinessProbe(ready)
                .withLivenessProbe(probe("/healthz", s.adminPort()))
                .withNewResources()
                    .addToRequests("cpu", new Quantity("50m")).addToRequests("memory", new Quantity("160Mi"))
                    .addToLimits("memory", new Quantity("512Mi"))
                .endResources()
                .withSecurityContext(new SecurityContextBuilder().withRunAsNonRoot(true).withReadOnlyRootFilesystem(true)
                        .withAllowPrivilegeEscalation(false).withNewCapabilities().withDrop("ALL").endCapabilities()
                        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile().build())
                .withVolumeMounts(
                        new VolumeMountBuilder().withName(BUNDLE_VOLUME).withMountPath("/etc/finops/bundle").withReadOnly(true).build(),
                        new VolumeMountBuilder().withName(CREDENTIALS_VOLUME).withMountPath("/etc/finops/credentials").withReadOnly(true).build(),
                        new VolumeMountBuilder().withName(TMP_VOLUME).withMountPath("/tmp").build())
                .build();
    }

    private static Probe probe(String path, int port) {
        return new ProbeBuilder().withHttpGet(new HTTPGetActionBuilder().withPath(path).withPort(new IntOrString(port)).build()).build();
    }

    private static EnvVar secretEnv(String name, SecretKeyRef token) {
        return new EnvVarBuilder().withName(name).withNewValueFrom().withNewSecretKeyRef()
                .withName(token.name).withKey(token.key != null ? token.key : "token").endSecretKeyRef().endValueFrom().build();
    }

    private static void addIfAbsent(List<EnvVar> env, EnvVar variable) {
        if (env.stream().noneMatch(e -> Objects.equals(e.getName(), variable.getName()))) {
            env.add(variable);
        }
    }

    private static String value(Map<String, String> labels, Map<String, String> annotations, String name) {
        Map<String, String> all = new HashMap<>();
        if (labels != null) {
            all.putAll(labels);
        }
        if (annotations != null) {
            all.putAll(annotations);
        }
        return all.get(name);
    }
}

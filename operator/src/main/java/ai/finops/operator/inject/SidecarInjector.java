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
 * A direct sidecar also gets its namespace ({@code FINOPS_NAMESPACE}, which names the counters it
 * charges) and, when configured, the shared counter store ({@code FINOPS_REDIS_URL}, and
 * {@code FINOPS_REDIS_PASSWORD} from a Secret of the pod's namespace); a relay charges nothing.
 * A relay to an {@code https} gateway with a configured CA gets that CA's PEM in {@value #RELAY_CA_ENV}
 * (a CA certificate is public; the env var needs no volume and no object in the pod's namespace), read
 * from the CA file at each injection: a rotated CA reaches the pods created after kubelet refreshes the
 * operator's mount, and a running pod keeps the CA it started with. With tracing configured, either
 * sidecar gets the standard {@code OTEL_*} variables, as service {@value #SERVICE_NAME}, its pod and
 * namespace as resource attributes from the downward API.
 */
public final class SidecarInjector {
    public static final String INJECT = "finops.ai/inject";
    public static final String VIRTUAL_KEY = "finops.ai/virtual-key";
    public static final String INJECTED = "finops.ai/injected";
    public static final String CONTAINER = "finops-gateway";
    static final String BUNDLE_VOLUME = "finops-bundle";
    static final String CREDENTIALS_VOLUME = "finops-credentials";
    static final String TMP_VOLUME = "finops-tmp";
    /** A direct sidecar's data folder: its settled spend and usage survive a restart of the container (not of the pod). */
    static final String DATA_VOLUME = "finops-data";
    static final String DATA_DIR = "/var/lib/finops";
    /**
     * The sidecar's user and group: distroless {@code nonroot}, as the image's {@code USER}. Numeric,
     * so that kubelet can verify {@code runAsNonRoot} whatever user the image names.
     */
    static final long USER = 65532;
    /** The shared gateway's CA, as PEM, in a relay's environment (the gateway's {@code --relay-ca}). */
    static final String RELAY_CA_ENV = "FINOPS_RELAY_CA";
    /** The {@code service.name} of injected sidecars' spans (the shared gateway's is {@code finops-gateway}). */
    static final String SERVICE_NAME = "finops-sidecar";

    /**
     * What happened: the pod spec was changed, or why it was left alone; {@code problem} when the pod
     * asked for the sidecar and cannot have it (the webhook warns the user who created it).
     */
    public record Outcome(boolean injected, String reason, boolean problem, SidecarSettings.Mode mode) {
        static Outcome skipped(String reason) {
            return new Outcome(false, reason, false, null);
        }

        static Outcome problem(String reason) {
            return new Outcome(false, reason, true, null);
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
            // not every pod of an injected namespace is a dev pod: only one that names its key asks for the sidecar
            return Outcome.skipped("no " + VIRTUAL_KEY + " annotation: which VirtualKey's token would the pod use?");
        }
        SidecarSettings s;
        try {
            s = settings.forPod(annotations);
        } catch (IllegalArgumentException e) {
            return Outcome.problem(e.getMessage());
        }
        if (s.mode() == SidecarSettings.Mode.VIA_GATEWAY && s.gatewayUrl() == null) {
            return Outcome.problem("via-gateway mode, but no shared gateway is configured to relay to "
                    + "(Helm values gateway.enabled or sidecar.gatewayUrl; operator flag --sidecar-gateway-url)");
        }
        SecretKeyRef token = virtualKeys.apply(keyName);
        if (token == null) {
            return Outcome.problem("VirtualKey '" + keyName + "' not found, or it has no secretRef");
        }
        String relayCa = null;
        if (s.mode() == SidecarSettings.Mode.VIA_GATEWAY && s.gatewayCaFile() != null) {
            try {
                relayCa = caPem(s.gatewayCaFile());
            } catch (IllegalArgumentException e) {
                return Outcome.problem(e.getMessage());
            }
        }
        List<Container> inits = new ArrayList<>();
        inits.add(sidecar(s, token, relayCa));
        if (spec.getInitContainers() != null) {
            inits.addAll(spec.getInitContainers());
        }
        spec.setInitContainers(inits);
        List<Volume> volumes = spec.getVolumes() == null ? new ArrayList<>() : new ArrayList<>(spec.getVolumes());
        if (s.mode() == SidecarSettings.Mode.DIRECT) {
            volumes.add(new VolumeBuilder().withName(BUNDLE_VOLUME).withNewConfigMap().withName(Names.BUNDLE_CONFIG_MAP).endConfigMap().build());
            volumes.add(new VolumeBuilder().withName(CREDENTIALS_VOLUME).withNewSecret().withSecretName(Names.CREDENTIALS_SECRET).endSecret().build());
            volumes.add(new VolumeBuilder().withName(DATA_VOLUME).withNewEmptyDir().endEmptyDir().build());
        }
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
        return new Outcome(true, "injected " + s.image() + " (" + s.mode().id() + ") with VirtualKey '" + keyName + "'", false, s.mode());
    }

    /**
     * The sidecar container. {@code direct}: it routes, from the namespace's bundle and credentials.
     * {@code via-gateway}: it relays to the shared gateway with the VirtualKey's token in {@code
     * FINOPS_VIRTUAL_KEY}, and the gateway's CA ({@code relayCa}, null: none) in {@value #RELAY_CA_ENV}, and mounts no
     * bundle and no provider credential.
     */
    private static Container sidecar(SidecarSettings s, SecretKeyRef token, String relayCa) {
        Probe ready = probe("/readyz", s.adminPort());
        boolean direct = s.mode() == SidecarSettings.Mode.DIRECT;
        List<String> args = new ArrayList<>(direct
                ? List.of("--config", "/etc/finops/bundle", "--credentials", "/etc/finops/credentials")
                : List.of("--relay-to", s.gatewayUrl()));
        args.addAll(List.of("--bind", "127.0.0.1", "--port", String.valueOf(s.port()),
                "--admin-bind", "0.0.0.0", "--admin-port", String.valueOf(s.adminPort())));
        List<EnvVar> env = new ArrayList<>();
        env.add(new EnvVarBuilder().withName("FINOPS_LOG_LEVEL").withValue(s.logLevel()).build());
        if (!direct) {
            env.add(secretEnv("FINOPS_VIRTUAL_KEY", token));
            if (relayCa != null) {
                env.add(new EnvVarBuilder().withName(RELAY_CA_ENV).withValue(relayCa).build());
            }
        } else {
            // what a direct sidecar charges: counters named after its namespace, in the shared store when there is one
            env.add(new EnvVarBuilder().withName("FINOPS_NAMESPACE").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.namespace")
                    .endFieldRef().endValueFrom().build());
            env.add(new EnvVarBuilder().withName("FINOPS_DATA_DIR").withValue(DATA_DIR).build());
            if (s.redis().url() != null) {
                env.add(new EnvVarBuilder().withName("FINOPS_REDIS_URL").withValue(s.redis().url()).build());
            }
            if (s.redis().passwordSecret() != null) {
                env.add(secretEnv("FINOPS_REDIS_PASSWORD", new SecretKeyRef(s.redis().passwordSecret(), s.redis().passwordKey())));
            }
        }
        if (s.tracing().on()) {
            env.addAll(tracingEnv(s.tracing()));
        }
        List<io.fabric8.kubernetes.api.model.VolumeMount> mounts = new ArrayList<>();
        if (direct) {
            mounts.add(new VolumeMountBuilder().withName(BUNDLE_VOLUME).withMountPath("/etc/finops/bundle").withReadOnly(true).build());
            mounts.add(new VolumeMountBuilder().withName(CREDENTIALS_VOLUME).withMountPath("/etc/finops/credentials").withReadOnly(true).build());
            mounts.add(new VolumeMountBuilder().withName(DATA_VOLUME).withMountPath(DATA_DIR).build());
        }
        mounts.add(new VolumeMountBuilder().withName(TMP_VOLUME).withMountPath("/tmp").build());
        return new ContainerBuilder()
                .withName(CONTAINER)
                .withImage(s.image())
                .withRestartPolicy("Always")
                .withArgs(args)
                .withEnv(env)
                .addNewPort().withName("finops-ops").withContainerPort(s.adminPort()).endPort()
                .withStartupProbe(new ProbeBuilder(ready).withPeriodSeconds(1).withFailureThreshold(60).build())
                .withReadinessProbe(ready)
                .withLivenessProbe(probe("/healthz", s.adminPort()))
                .withResources(resources(s.resources()))
                .withSecurityContext(new SecurityContextBuilder().withRunAsNonRoot(true).withRunAsUser(USER).withRunAsGroup(USER)
                        .withReadOnlyRootFilesystem(true)
                        .withAllowPrivilegeEscalation(false).withNewCapabilities().withDrop("ALL").endCapabilities()
                        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile().build())
                .withVolumeMounts(mounts)
                .build();
    }

    /**
     * The OpenTelemetry SDK's standard variables for {@code tracing}: exporter and sampler as configured, and a resource that
     * names the pod (kubelet expands {@code $(VAR)} from the variables before it, which the downward API fills).
     */
    private static List<EnvVar> tracingEnv(SidecarSettings.Tracing tracing) {
        List<EnvVar> env = new ArrayList<>();
        env.add(new EnvVarBuilder().withName("FINOPS_POD_NAME").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name")
                .endFieldRef().endValueFrom().build());
        env.add(new EnvVarBuilder().withName("FINOPS_POD_NAMESPACE").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.namespace")
                .endFieldRef().endValueFrom().build());
        env.add(new EnvVarBuilder().withName("OTEL_SERVICE_NAME").withValue(SERVICE_NAME).build());
        env.add(new EnvVarBuilder().withName("OTEL_RESOURCE_ATTRIBUTES")
                .withValue("k8s.namespace.name=$(FINOPS_POD_NAMESPACE),k8s.pod.name=$(FINOPS_POD_NAME),k8s.container.name=" + CONTAINER).build());
        env.add(new EnvVarBuilder().withName("OTEL_EXPORTER_OTLP_ENDPOINT").withValue(tracing.endpoint()).build());
        if (tracing.protocol() != null) {
            env.add(new EnvVarBuilder().withName("OTEL_EXPORTER_OTLP_PROTOCOL").withValue(tracing.protocol()).build());
        }
        if (tracing.sampler() != null) {
            env.add(new EnvVarBuilder().withName("OTEL_TRACES_SAMPLER").withValue(tracing.sampler()).build());
        }
        if (tracing.samplerArg() != null) {
            env.add(new EnvVarBuilder().withName("OTEL_TRACES_SAMPLER_ARG").withValue(tracing.samplerArg()).build());
        }
        return env;
    }

    /**
     * The certificates in the shared gateway's CA file, as PEM; an {@link IllegalArgumentException} saying why when it cannot
     * be read or holds none (an optional mount whose Secret cert-manager has not written yet, a wrong key).
     */
    static String caPem(java.nio.file.Path file) {
        byte[] bytes;
        try {
            bytes = java.nio.file.Files.readAllBytes(file);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("the shared gateway's CA file " + file + " cannot be read (" + e.getClass().getSimpleName()
                    + "): is its Secret or ConfigMap there, with that key?");
        }
        String pem = new String(bytes, java.nio.charset.StandardCharsets.US_ASCII).strip();
        int count;
        try {
            count = java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificates(new java.io.ByteArrayInputStream(bytes)).size();
        } catch (java.security.cert.CertificateException e) {
            count = 0;
        }
        if (count == 0 || !pem.contains("-----BEGIN CERTIFICATE-----")) {
            throw new IllegalArgumentException("the shared gateway's CA file " + file + " holds no PEM certificate");
        }
        return pem + "\n";
    }

    private static io.fabric8.kubernetes.api.model.ResourceRequirements resources(SidecarSettings.Resources r) {
        Map<String, Quantity> requests = new java.util.LinkedHashMap<>();
        Map<String, Quantity> limits = new java.util.LinkedHashMap<>();
        if (r.cpuRequest() != null) {
            requests.put("cpu", new Quantity(r.cpuRequest()));
        }
        if (r.memoryRequest() != null) {
            requests.put("memory", new Quantity(r.memoryRequest()));
        }
        if (r.cpuLimit() != null) {
            limits.put("cpu", new Quantity(r.cpuLimit()));
        }
        if (r.memoryLimit() != null) {
            limits.put("memory", new Quantity(r.memoryLimit()));
        }
        return new io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder().withRequests(requests.isEmpty() ? null : requests)
                .withLimits(limits.isEmpty() ? null : limits).build();
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

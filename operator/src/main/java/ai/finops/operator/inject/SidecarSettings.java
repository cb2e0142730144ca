package ai.finops.operator.inject;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The injected gateway sidecar: image, ports, log level, mode and resources, from the operator's
 * settings (the Helm chart's values), each overridable per pod by a documented annotation. An
 * annotation with a value that cannot be honoured is refused ({@link IllegalArgumentException}), and
 * the pod is left uninjected with that reason rather than injected with something it did not ask for.
 *
 * @param port the API port, bound to 127.0.0.1 only: nothing outside the pod reaches it
 * @param adminPort the operations port (probes, metrics), on the pod IP
 * @param gatewayUrl the shared gateway's base URL that {@link Mode#VIA_GATEWAY} sidecars relay to; null when there is none
 * @param redis the shared counter store {@link Mode#DIRECT} sidecars charge, or {@link Redis#NONE} (each counts in its own process)
 * @param gatewayCaFile PEM certificates an {@code https} {@code gatewayUrl}'s certificate must be issued by, read at each injection
 *                      (a mounted Secret or ConfigMap that kubelet refreshes); null: the sidecar's JVM trust store
 * @param tracing where sidecars send their spans, or {@link Tracing#OFF}
 */
public record SidecarSettings(String image, int port, int adminPort, String logLevel, Mode mode, String gatewayUrl, Resources resources,
        Redis redis, Path gatewayCaFile, Tracing tracing) {
    public static final String IMAGE_ANNOTATION = "finops.ai/sidecar-image";
    public static final String PORT_ANNOTATION = "finops.ai/sidecar-port";
    public static final String LOG_LEVEL_ANNOTATION = "finops.ai/sidecar-log-level";
    public static final String MODE_ANNOTATION = "finops.ai/sidecar-mode";
    public static final String CPU_ANNOTATION = "finops.ai/sidecar-cpu";
    public static final String MEMORY_ANNOTATION = "finops.ai/sidecar-memory";
    public static final String CPU_LIMIT_ANNOTATION = "finops.ai/sidecar-cpu-limit";
    public static final String MEMORY_LIMIT_ANNOTATION = "finops.ai/sidecar-memory-limit";

    private static final Pattern QUANTITY = Pattern.compile("[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?");
    private static final Pattern LOG_LEVEL = Pattern.compile("(?i)TRACE|DEBUG|INFO|WARN|ERROR|OFF");

    /**
     * {@code direct}: the sidecar routes, holding the namespace's bundle and provider credentials.
     * {@code via-gateway}: it relays to the shared gateway and holds no provider credential.
     */
    public enum Mode {
        DIRECT("direct"), VIA_GATEWAY("via-gateway");

        private final String id;

        Mode(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        public static Mode of(String id) {
            for (Mode m : values()) {
                if (m.id.equals(id)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown sidecar mode '" + id + "' (direct or via-gateway)");
        }
    }

    /**
     * The shared counter store: its URL, and the Secret (in the pod's own namespace: a pod can reference no
     * other) and key of its password; each null when not configured.
     */
    public record Redis(String url, String passwordSecret, String passwordKey) {
        public static final Redis NONE = new Redis(null, null, null);
        public static final String DEFAULT_PASSWORD_KEY = "password";

        public Redis {
            url = url == null || url.isBlank() ? null : url.strip();
            passwordSecret = passwordSecret == null || passwordSecret.isBlank() || url == null ? null : passwordSecret.strip();
            passwordKey = passwordSecret == null ? null : passwordKey == null || passwordKey.isBlank() ? DEFAULT_PASSWORD_KEY : passwordKey.strip();
        }
    }

    /**
     * The OpenTelemetry exporter the sidecars get as the standard {@code OTEL_*} variables: the collector's OTLP base URL
     * (null: tracing off, and the other fields are dropped), its protocol, the sampler and its argument (each null: the SDK's default).
     */
    public record Tracing(String endpoint, String protocol, String sampler, String samplerArg) {
        public static final Tracing OFF = new Tracing(null, null, null, null);

        public Tracing {
            endpoint = blankToNull(endpoint);
            if (endpoint != null) {
                String problem = ai.finops.crds.validation.ResourceValidator.checkEndpoint(endpoint);
                if (problem != null) {
                    throw new IllegalArgumentException("the sidecars' OTLP endpoint " + problem);
                }
            }
            protocol = endpoint == null ? null : blankToNull(protocol);
            sampler = endpoint == null ? null : blankToNull(sampler);
            samplerArg = endpoint == null ? null : blankToNull(samplerArg);
        }

        public boolean on() {
            return endpoint != null;
        }
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.strip();
    }

    /** Requests and limits as Kubernetes quantities; a null one is not set. */
    public record Resources(String cpuRequest, String memoryRequest, String cpuLimit, String memoryLimit) {
        public static Resources defaults() {
            return new Resources("50m", "160Mi", null, "512Mi");
        }

        public Resources {
            cpuRequest = quantity(cpuRequest, "cpu request");
            memoryRequest = quantity(memoryRequest, "memory request");
            cpuLimit = quantity(cpuLimit, "cpu limit");
            memoryLimit = quantity(memoryLimit, "memory limit");
            atMost(cpuRequest, cpuLimit, "cpu");
            atMost(memoryRequest, memoryLimit, "memory");
        }

        /** The API server refuses a pod whose request exceeds its limit: refuse it here, before the pod is changed. */
        private static void atMost(String request, String limit, String what) {
            if (request != null && limit != null && io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(new io.fabric8.kubernetes.api.model.Quantity(request))
                    .compareTo(io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(new io.fabric8.kubernetes.api.model.Quantity(limit))) > 0) {
                throw new IllegalArgumentException("the sidecar's " + what + " request " + request + " exceeds its limit " + limit);
            }
        }
    }

    public SidecarSettings {
        if (mode == null) {
            mode = Mode.DIRECT;
        }
        if (resources == null) {
            resources = Resources.defaults();
        }
        if (redis == null) {
            redis = Redis.NONE;
        }
        if (tracing == null) {
            tracing = Tracing.OFF;
        }
        if (gatewayUrl != null && gatewayUrl.isBlank()) {
            gatewayUrl = null;
        }
        if (gatewayUrl != null) {
            String problem = ai.finops.crds.validation.ResourceValidator.checkEndpoint(gatewayUrl);
            if (problem != null) {
                throw new IllegalArgumentException("the shared gateway URL " + problem);
            }
        }
        if (gatewayCaFile != null && (gatewayUrl == null || !gatewayUrl.regionMatches(true, 0, "https://", 0, 8))) {
            throw new IllegalArgumentException("a CA for the shared gateway is for an https:// gateway URL (it is "
                    + (gatewayUrl == null ? "not set" : gatewayUrl) + "): over http there is no certificate to verify");
        }
        if (!LOG_LEVEL.matcher(logLevel).matches()) {
            throw new IllegalArgumentException("unknown log level '" + logLevel + "' (TRACE, DEBUG, INFO, WARN, ERROR or OFF)");
        }
    }

    /** Direct mode, default resources, no shared counter store. */
    public SidecarSettings(String image, int port, int adminPort, String logLevel) {
        this(image, port, adminPort, logLevel, Mode.DIRECT, null, Resources.defaults(), Redis.NONE, null, Tracing.OFF);
    }

    public static SidecarSettings defaults() {
        return new SidecarSettings("finops-gateway:0.1.0", 4000, 4001, "INFO");
    }

    public SidecarSettings withMode(Mode mode, String gatewayUrl) {
        return new SidecarSettings(image, port, adminPort, logLevel, mode, gatewayUrl, resources, redis, gatewayCaFile, tracing);
    }

    public SidecarSettings withRedis(Redis value) {
        return new SidecarSettings(image, port, adminPort, logLevel, mode, gatewayUrl, resources, value, gatewayCaFile, tracing);
    }

    public SidecarSettings withGatewayCaFile(Path value) {
        return new SidecarSettings(image, port, adminPort, logLevel, mode, gatewayUrl, resources, redis, value, tracing);
    }

    public SidecarSettings withTracing(Tracing value) {
        return new SidecarSettings(image, port, adminPort, logLevel, mode, gatewayUrl, resources, redis, gatewayCaFile, value);
    }

    /** These settings with a pod's annotations applied; a value that cannot be used is an {@link IllegalArgumentException}. */
    public SidecarSettings forPod(Map<String, String> annotations) {
        if (annotations == null) {
            return this;
        }
        int p = port;
        String value = annotations.get(PORT_ANNOTATION);
        if (value != null) {
            if (!value.matches("[0-9]{2,5}") || Integer.parseInt(value) < 1024 || Integer.parseInt(value) > 65534) {
                throw new IllegalArgumentException(PORT_ANNOTATION + " '" + value + "' is not a port between 1024 and 65534");
            }
            p = Integer.parseInt(value);
        }
        String modeValue = annotations.get(MODE_ANNOTATION);
        Resources r = new Resources(override(annotations, CPU_ANNOTATION, resources.cpuRequest()),
                override(annotations, MEMORY_ANNOTATION, resources.memoryRequest()),
                override(annotations, CPU_LIMIT_ANNOTATION, resources.cpuLimit()),
                override(annotations, MEMORY_LIMIT_ANNOTATION, resources.memoryLimit()));
        return new SidecarSettings(annotations.getOrDefault(IMAGE_ANNOTATION, image), p, p == port ? adminPort : p + 1,
                annotations.getOrDefault(LOG_LEVEL_ANNOTATION, logLevel).toUpperCase(Locale.ROOT),
                modeValue == null ? mode : Mode.of(modeValue), gatewayUrl, r, redis, gatewayCaFile, tracing);
    }

    /** An annotation's value, {@code ""} meaning none (to drop a limit for one pod), or the default when absent. */
    private static String override(Map<String, String> annotations, String name, String fallback) {
        String value = annotations.get(name);
        return value == null ? fallback : value.isBlank() ? null : value.trim();
    }

    private static String quantity(String value, String what) {
        if (value != null && !QUANTITY.matcher(value).matches()) {
            throw new IllegalArgumentException("the sidecar's " + what + " '" + value + "' is not a Kubernetes quantity (such as 100m or 256Mi)");
        }
        return value;
    }
}

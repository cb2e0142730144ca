package ai.finops.operator.inject;

import java.util.Map;

/**
 * The injected gateway sidecar: image, ports and log level, from the operator's settings (the Helm
 * chart's values), each overridable per pod by an annotation ({@value #IMAGE_ANNOTATION},
 * {@value #PORT_ANNOTATION}, {@value #LOG_LEVEL_ANNOTATION}).
 *
 * @param port the API port, bound to 127.0.0.1 only: nothing outside the pod reaches it
 * @param adminPort the operations port (probes, metrics), on the pod IP
 */
public record SidecarSettings(String image, int port, int adminPort, String logLevel) {
    public static final String IMAGE_ANNOTATION = "finops.ai/sidecar-image";
    public static final String PORT_ANNOTATION = "finops.ai/sidecar-port";
    public static final String LOG_LEVEL_ANNOTATION = "finops.ai/sidecar-log-level";

    public static SidecarSettings defaults() {
        return new SidecarSettings("finops-gateway:0.1.0", 4000, 4001, "INFO");
    }

    /** These settings with a pod's annotations applied. */
    public SidecarSettings forPod(Map<String, String> annotations) {
        if (annotations == null) {
            return this;
        }
        int p = port;
        String value = annotations.get(PORT_ANNOTATION);
        if (value != null && value.matches("[0-9]{2,5}")) {
            p = Integer.parseInt(value);
        }
        return new SidecarSettings(annotations.getOrDefault(IMAGE_ANNOTATION, image), p, p == port ? adminPort : p + 1,
                annotations.getOrDefault(LOG_LEVEL_ANNOTATION, logLevel));
    }
}

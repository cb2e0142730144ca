package ai.finops.operator.inject;

import picocli.CommandLine.Option;

/**
 * The injected sidecar's settings on the command line, the same for the operator (its webhook) and
 * {@code finops-operator inject}; the Helm chart passes its {@code sidecar.*} values here.
 */
public final class SidecarOptions {
    @Option(names = "--sidecar-image", defaultValue = "${env:FINOPS_SIDECAR_IMAGE:-finops-gateway:0.1.0}",
            description = "Image of the injected gateway sidecar (env FINOPS_SIDECAR_IMAGE; default ${DEFAULT-VALUE}).")
    String image;

    @Option(names = "--sidecar-port", defaultValue = "4000",
            description = "The sidecar's API port on 127.0.0.1; its operations port is the next one (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--sidecar-log-level", defaultValue = "INFO", description = "The sidecar's log level (default ${DEFAULT-VALUE}).")
    String logLevel;

    @Option(names = "--sidecar-mode", defaultValue = "direct",
            description = "direct: the sidecar routes with the namespace's provider credentials; via-gateway: it relays to "
                    + "--sidecar-gateway-url and holds none (default ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--sidecar-gateway-url", description = "Base URL of the shared gateway Service that via-gateway sidecars relay to.")
    String gatewayUrl;

    @Option(names = "--sidecar-gateway-ca-file",
            description = "PEM certificates (one CA, or a bundle of the old and new during a rotation) that an https "
                    + "--sidecar-gateway-url's certificate must be issued by: read at each injection and handed to the via-gateway "
                    + "sidecar as FINOPS_RELAY_CA. Default: none, the sidecar's JVM trust store.")
    java.nio.file.Path gatewayCaFile;

    @Option(names = "--sidecar-cpu", defaultValue = "50m", description = "CPU request (default ${DEFAULT-VALUE}).")
    String cpu;

    @Option(names = "--sidecar-memory", defaultValue = "160Mi", description = "Memory request (default ${DEFAULT-VALUE}).")
    String memory;

    @Option(names = "--sidecar-cpu-limit", description = "CPU limit (default: none).")
    String cpuLimit;

    @Option(names = "--sidecar-memory-limit", defaultValue = "512Mi", description = "Memory limit (default ${DEFAULT-VALUE}).")
    String memoryLimit;

    @Option(names = "--sidecar-redis-url",
            description = "The shared counter store that direct-mode sidecars charge (their FINOPS_REDIS_URL); default: none, each "
                    + "sidecar counts in its own process.")
    String redisUrl;

    @Option(names = "--sidecar-redis-password-secret",
            description = "Secret, in each injected pod's own namespace, whose key --sidecar-redis-password-key holds the Redis "
                    + "password (the sidecar's FINOPS_REDIS_PASSWORD).")
    String redisPasswordSecret;

    @Option(names = "--sidecar-redis-password-key", defaultValue = SidecarSettings.Redis.DEFAULT_PASSWORD_KEY,
            description = "Key of that Secret (default ${DEFAULT-VALUE}).")
    String redisPasswordKey;

    @Option(names = "--sidecar-otlp-endpoint",
            description = "The OpenTelemetry collector's OTLP base URL injected sidecars export spans to (their "
                    + "OTEL_EXPORTER_OTLP_ENDPOINT); default: none, the sidecars do not trace.")
    String otlpEndpoint;

    @Option(names = "--sidecar-otlp-protocol", description = "http/protobuf or grpc (their OTEL_EXPORTER_OTLP_PROTOCOL; default: the SDK's, http/protobuf).")
    String otlpProtocol;

    @Option(names = "--sidecar-traces-sampler", description = "Their OTEL_TRACES_SAMPLER (default: the SDK's, parentbased_always_on).")
    String tracesSampler;

    @Option(names = "--sidecar-traces-sampler-arg", description = "Their OTEL_TRACES_SAMPLER_ARG (default: none).")
    String tracesSamplerArg;

    /** The settings; an impossible value is an {@link IllegalArgumentException} naming it. */
    public SidecarSettings settings() {
        return new SidecarSettings(image, port, port + 1, logLevel, SidecarSettings.Mode.of(mode), gatewayUrl,
                new SidecarSettings.Resources(unset(cpu), unset(memory), unset(cpuLimit), unset(memoryLimit)),
                new SidecarSettings.Redis(redisUrl, redisPasswordSecret, redisPasswordKey), gatewayCaFile,
                new SidecarSettings.Tracing(otlpEndpoint, otlpProtocol, tracesSampler, tracesSamplerArg));
    }

    /** An empty value (the chart's way to leave a request or limit out) is none. */
    private static String unset(String value) {
        return value == null || value.isBlank() ? null : value;
    }
}

package ai.finops.gateway.config;

import java.time.Duration;
import java.util.List;

/**
 * Gateway-wide settings: the {@code kind: GatewaySettings} document of the config folder (not a
 * custom resource), overridden by command-line flags and environment variables. Listening
 * addresses and CORS are read at start; body limit and default timeouts follow reloads.
 *
 * @param allowedOrigins CORS origins; {@code *} allows any; empty disables CORS
 * @param maxBodyBytes request body limit (413 above it)
 * @param connectTimeout default for deployments that set none
 * @param firstByteTimeout default time from request sent to response head
 * @param idleTimeout default longest silence inside a streaming response
 * @param shutdownGrace how long streams in flight may take to finish on shutdown
 */
public record GatewaySettings(
        String bindAddress,
        int port,
        int adminPort,
        List<String> allowedOrigins,
        List<String> allowedHeaders,
        long maxBodyBytes,
        Duration connectTimeout,
        Duration firstByteTimeout,
        Duration idleTimeout,
        Duration shutdownGrace) {

    public static final List<String> DEFAULT_ALLOWED_HEADERS =
            List.of("Content-Type", "Authorization", "X-Requested-With", "X-Stainless-Timeout", "X-Api-Key");

    public static GatewaySettings defaults() {
        return new GatewaySettings("0.0.0.0", 8080, 9090, List.of(), DEFAULT_ALLOWED_HEADERS, 32L << 20,
                Duration.ofSeconds(5), Duration.ofSeconds(600), Duration.ofSeconds(300), Duration.ofSeconds(30));
    }

    public GatewaySettings withListen(String bindAddress, Integer port, Integer adminPort) {
        return new GatewaySettings(bindAddress != null ? bindAddress : this.bindAddress,
                port != null ? port : this.port, adminPort != null ? adminPort : this.adminPort,
                allowedOrigins, allowedHeaders, maxBodyBytes, connectTimeout, firstByteTimeout, idleTimeout, shutdownGrace);
    }
}

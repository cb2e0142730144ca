package ai.finops.gateway.config;

import java.time.Duration;
import java.util.List;

/**
 * Gateway-wide settings: the {@code kind: GatewaySettings} document of the config folder (not a
 * custom resource), overridden by command-line flags and environment variables. Listening
 * addresses and CORS are read at start; body limit, read limits and default timeouts follow reloads.
 *
 * @param allowedOrigins CORS origins; {@code *} allows any; empty disables CORS
 * @param maxBodyBytes request body limit (413 above it)
 * @param connectTimeout default for deployments that set none
 * @param firstByteTimeout default time from request sent to response head
 * @param idleTimeout default longest silence inside a streaming response
 * @param shutdownGrace how long streams in flight may take to finish on shutdown
 * @param limits what a client connection may hold, and for how long, before it is closed
 * @param governance how budgets and rate limits are kept
 * @param tls the gateway's own serving certificate, or null to serve plain HTTP
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
        Duration shutdownGrace,
        Limits limits,
        Governance governance,
        Tls tls) {

    public static final List<String> DEFAULT_ALLOWED_HEADERS =
            List.of("Content-Type", "Authorization", "X-Requested-With", "X-Stainless-Timeout", "X-Api-Key");

    /** The settings without TLS. */
    public GatewaySettings(String bindAddress, int port, int adminPort, List<String> allowedOrigins, List<String> allowedHeaders,
            long maxBodyBytes, Duration connectTimeout, Duration firstByteTimeout, Duration idleTimeout, Duration shutdownGrace, Limits limits,
            Governance governance) {
        this(bindAddress, port, adminPort, allowedOrigins, allowedHeaders, maxBodyBytes, connectTimeout, firstByteTimeout, idleTimeout,
                shutdownGrace, limits, governance, null);
    }

    /** The settings with the default {@link Governance}. */
    public GatewaySettings(String bindAddress, int port, int adminPort, List<String> allowedOrigins, List<String> allowedHeaders,
            long maxBodyBytes, Duration connectTimeout, Duration firstByteTimeout, Duration idleTimeout, Duration shutdownGrace, Limits limits) {
        this(bindAddress, port, adminPort, allowedOrigins, allowedHeaders, maxBodyBytes, connectTimeout, firstByteTimeout, idleTimeout,
                shutdownGrace, limits, Governance.defaults());
    }

    /** The settings with the default {@link Limits}. */
    public GatewaySettings(String bindAddress, int port, int adminPort, List<String> allowedOrigins, List<String> allowedHeaders,
            long maxBodyBytes, Duration connectTimeout, Duration firstByteTimeout, Duration idleTimeout, Duration shutdownGrace) {
        this(bindAddress, port, adminPort, allowedOrigins, allowedHeaders, maxBodyBytes, connectTimeout, firstByteTimeout, idleTimeout,
                shutdownGrace, Limits.defaults());
    }

    public static GatewaySettings defaults() {
        return new GatewaySettings("0.0.0.0", 8080, 9090, List.of(), DEFAULT_ALLOWED_HEADERS, 32L << 20,
                Duration.ofSeconds(5), Duration.ofSeconds(600), Duration.ofSeconds(300), Duration.ofSeconds(30), Limits.defaults(),
                Governance.defaults(), null);
    }

    public GatewaySettings withListen(String bindAddress, Integer port, Integer adminPort) {
        return new GatewaySettings(bindAddress != null ? bindAddress : this.bindAddress,
                port != null ? port : this.port, adminPort != null ? adminPort : this.adminPort,
                allowedOrigins, allowedHeaders, maxBodyBytes, connectTimeout, firstByteTimeout, idleTimeout, shutdownGrace, limits, governance, tls);
    }

    /**
     * These settings serving {@code tls} instead of the settings' own ({@code --tls-cert-file} and
     * {@code --tls-key-file}); null keeps them. {@code tls.operations} stays as the settings say.
     */
    public GatewaySettings withTls(Tls tls) {
        if (tls == null) {
            return this;
        }
        Tls merged = new Tls(tls.certFile(), tls.keyFile(), this.tls != null && this.tls.operations());
        return new GatewaySettings(bindAddress, port, adminPort, allowedOrigins, allowedHeaders, maxBodyBytes, connectTimeout,
                firstByteTimeout, idleTimeout, shutdownGrace, limits, governance, merged);
    }

    /** These settings with other {@link Limits}. */
    public GatewaySettings withLimits(Limits limits) {
        return new GatewaySettings(bindAddress, port, adminPort, allowedOrigins, allowedHeaders, maxBodyBytes, connectTimeout,
                firstByteTimeout, idleTimeout, shutdownGrace, limits, governance, tls);
    }

    /** The most the gateway holds of one unfinished event of a provider's stream ({@code limits.maxEventSize}). */
    public int maxEventBytes() {
        return limits.maxEventBytes();
    }

    /**
     * The {@code limits} block: what a client connection may hold, and for how long. Each follows
     * reloads for connections opened after it.
     *
     * @param headerTimeout a request head (request line and headers) must arrive whole within this:
     *     for a connection's first request counted from the connection opening, for a later one from
     *     the read that brings its first byte
     * @param bodyTimeout once a request head is in, its whole body must arrive within this
     * @param maxConnections client connections open at once on the API port; one more is closed as
     *     soon as it is accepted
     * @param maxEventBytes the most the gateway holds of one unfinished event of a provider's stream
     */
    public record Limits(Duration headerTimeout, Duration bodyTimeout, int maxConnections, int maxEventBytes) {
        public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(30);
        public static final Duration DEFAULT_BODY_TIMEOUT = Duration.ofSeconds(60);
        public static final int DEFAULT_MAX_CONNECTIONS = 4096;
        public static final int DEFAULT_MAX_EVENT_BYTES = 4 << 20;

        public static Limits defaults() {
            return new Limits(DEFAULT_HEADER_TIMEOUT, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_EVENT_BYTES);
        }
    }

    /**
     * The {@code governance} and {@code redis} blocks: how budgets and rate limits are kept.
     * {@code onStoreFailure} and {@code reservationTtl} follow reloads; {@code redisUrl} and {@code leases} are read at start.
     *
     * @param denyOnStoreFailure {@code onStoreFailure: Deny}: refuse governed requests (503) while the shared
     *                           store does not answer; {@code Allow} (the default) admits them on this
     *                           gateway's own counters meanwhile
     * @param reservationTtl     how long a reservation holds when its request never settles (a gateway
     *                           that died): at least the longest request
     * @param redisUrl           {@code redis.url}: the shared store, or null for the embedded one (flag and
     *                           environment variable take precedence)
     * @param leases             {@code leases} (default true): with Redis, admit most requests on slices of each
     *                           counter's room taken from Redis ({@code LeasedCounterStore}), exact near a limit;
     *                           false: one Redis reservation per request
     */
    public record Governance(boolean denyOnStoreFailure, Duration reservationTtl, String redisUrl, boolean leases) {
        public static final Duration DEFAULT_RESERVATION_TTL = Duration.ofMinutes(15);

        public static Governance defaults() {
            return new Governance(false, DEFAULT_RESERVATION_TTL, null, true);
        }
    }

    /**
     * The {@code tls} block: the gateway's own serving certificate, read at start and again whenever
     * the files change (a renewal), for connections accepted after it.
     *
     * @param certFile   PEM certificate chain, serving certificate first ({@code tls.crt})
     * @param keyFile    its PKCS#8 PEM private key ({@code tls.key})
     * @param operations whether the operations port is served over TLS too; off by default, so that
     *                   probes and Prometheus scrapes stay plain HTTP on the pod network
     */
    public record Tls(java.nio.file.Path certFile, java.nio.file.Path keyFile, boolean operations) {}
}

package ai.finops.gateway.config;

import ai.finops.crds.validation.Durations;
import ai.finops.crds.validation.Problem;
import ai.finops.crds.validation.Quantities;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads the {@code kind: GatewaySettings} document:
 *
 * <pre>
 * apiVersion: finops.ai/v1alpha1
 * kind: GatewaySettings
 * metadata: {name: gateway}
 * bindAddress: 0.0.0.0
 * port: 8080
 * adminPort: 9090
 * cors: {allowedOrigins: ["*"], allowedHeaders: [Content-Type, Authorization, ...]}
 * maxBodySize: 32Mi
 * timeouts: {connect: 5s, firstByte: 600s, idle: 300s}
 * shutdownGracePeriod: 30s
 * limits: {headerTimeout: 30s, bodyTimeout: 60s, maxConnections: 4096, maxEventSize: 4Mi}
 * governance: {onStoreFailure: Allow, reservationTtl: 15m, leases: true}
 * redis: {url: redis://redis.finops-system.svc:6379}
 * tls: {certFile: /etc/finops/tls/tls.crt, keyFile: /etc/finops/tls/tls.key, operations: false}
 * </pre>
 */
final class SettingsDocument {
    static final String KIND = "GatewaySettings";
    private static final Set<String> FIELDS = Set.of("apiVersion", "kind", "metadata", "bindAddress", "port", "adminPort", "cors",
            "maxBodySize", "timeouts", "shutdownGracePeriod", "limits", "governance", "redis", "tls");
    private static final Set<String> LIMITS = Set.of("headerTimeout", "bodyTimeout", "maxConnections", "maxEventSize");
    private static final Set<String> GOVERNANCE = Set.of("onStoreFailure", "reservationTtl", "leases");
    private static final Set<String> REDIS = Set.of("url");
    private static final Set<String> TLS = Set.of("certFile", "keyFile", "operations");

    private SettingsDocument() {}

    static GatewaySettings parse(JsonNode doc, String source, List<Problem> problems) {
        GatewaySettings d = GatewaySettings.defaults();
        Reader r = new Reader(source, problems);
        for (Iterator<String> it = doc.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                r.problem(field, "unknown field; known: " + new java.util.TreeSet<>(FIELDS));
            }
        }
        JsonNode cors = doc.path("cors");
        JsonNode timeouts = doc.path("timeouts");
        JsonNode limits = doc.path("limits");
        return new GatewaySettings(
                r.text(doc, "bindAddress", d.bindAddress()),
                r.port(doc, "port", d.port()),
                r.port(doc, "adminPort", d.adminPort()),
                r.strings(cors, "cors.allowedOrigins", d.allowedOrigins()),
                r.strings(cors, "cors.allowedHeaders", d.allowedHeaders()),
                r.parse(doc.get("maxBodySize"), "maxBodySize", Quantities::parseBytes, d.maxBodyBytes()),
                r.parse(timeouts.get("connect"), "timeouts.connect", Durations::parse, d.connectTimeout()),
                r.parse(timeouts.get("firstByte"), "timeouts.firstByte", Durations::parse, d.firstByteTimeout()),
                r.parse(timeouts.get("idle"), "timeouts.idle", Durations::parse, d.idleTimeout()),
                r.parse(doc.get("shutdownGracePeriod"), "shutdownGracePeriod", Durations::parse, d.shutdownGrace()),
                limits(limits, d.limits(), r),
                governance(doc.path("governance"), doc.path("redis"), d.governance(), r),
                tls(doc.path("tls"), r));
    }

    /** The {@code tls} block: both files named, or no TLS. Whether they hold a usable pair is the validate command's and start's to say. */
    private static GatewaySettings.Tls tls(JsonNode tls, Reader r) {
        if (!r.block(tls, "tls", TLS, "")) {
            return null;
        }
        String cert = r.text(tls, "certFile", null);
        String key = r.text(tls, "keyFile", null);
        JsonNode operations = tls.get("operations");
        if (operations != null && !operations.isNull() && !operations.isBoolean()) {
            r.problem("tls.operations", "must be true or false");
        }
        if (cert == null || cert.isBlank() || key == null || key.isBlank()) {
            r.problem("tls", "needs both certFile and keyFile (PEM files, e.g. a cert-manager Secret's tls.crt and tls.key)");
            return null;
        }
        return new GatewaySettings.Tls(java.nio.file.Path.of(cert), java.nio.file.Path.of(key), operations != null && operations.asBoolean());
    }

    private static GatewaySettings.Governance governance(JsonNode governance, JsonNode redis, GatewaySettings.Governance d, Reader r) {
        boolean deny = d.denyOnStoreFailure();
        java.time.Duration ttl = d.reservationTtl();
        String url = d.redisUrl();
        boolean leases = d.leases();
        if (r.block(governance, "governance", GOVERNANCE, "")) {
            JsonNode leasing = governance.get("leases");
            if (leasing != null && !leasing.isNull()) {
                if (leasing.isBoolean()) {
                    leases = leasing.asBoolean();
                } else {
                    r.problem("governance.leases", "must be true or false");
                }
            }
            JsonNode policy = governance.get("onStoreFailure");
            if (policy != null && !policy.isNull()) {
                if ("Deny".equals(policy.asText())) {
                    deny = true;
                } else if ("Allow".equals(policy.asText())) {
                    deny = false;
                } else {
                    r.problem("governance.onStoreFailure", "must be Allow or Deny");
                }
            }
            ttl = r.positive(r.parse(governance.get("reservationTtl"), "governance.reservationTtl", Durations::parse, ttl),
                    "governance.reservationTtl", ttl);
        }
        if (r.block(redis, "redis", REDIS, " (the password comes from FINOPS_REDIS_PASSWORD or --redis-password-file)")) {
            String value = r.text(redis, "url", url);
            if (value != null && !value.startsWith("redis://") && !value.startsWith("rediss://")) {
                r.problem("redis.url", "must be a redis:// or rediss:// URL");
            } else if (value != null && value.contains("@") && value.substring(value.indexOf("://") + 3, value.indexOf('@')).contains(":")) {
                r.problem("redis.url", "must not hold a password: give it in FINOPS_REDIS_PASSWORD or --redis-password-file");
            } else {
                url = value;
            }
        }
        return new GatewaySettings.Governance(deny, ttl, url, leases);
    }

    private static GatewaySettings.Limits limits(JsonNode limits, GatewaySettings.Limits d, Reader r) {
        if (!r.block(limits, "limits", LIMITS, "")) {
            return d;
        }
        return new GatewaySettings.Limits(
                r.positive(r.parse(limits.get("headerTimeout"), "limits.headerTimeout", Durations::parse, d.headerTimeout()),
                        "limits.headerTimeout", d.headerTimeout()),
                r.positive(r.parse(limits.get("bodyTimeout"), "limits.bodyTimeout", Durations::parse, d.bodyTimeout()),
                        "limits.bodyTimeout", d.bodyTimeout()),
                r.count(limits, "maxConnections", d.maxConnections()),
                r.eventSize(limits.get("maxEventSize"), d.maxEventBytes()));
    }

    private record Reader(String source, List<Problem> problems) {
        void problem(String field, String message) {
            problems.add(new Problem(KIND, source, field, message));
        }

        String text(JsonNode doc, String field, String fallback) {
            JsonNode n = doc.get(field);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isTextual()) {
                problem(field, "must be a string");
                return fallback;
            }
            return n.asText();
        }

        int port(JsonNode doc, String field, int fallback) {
            JsonNode n = doc.get(field);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.canConvertToInt() || n.asInt() < 0 || n.asInt() > 65535) {
                problem(field, "must be a port number 0..65535");
                return fallback;
            }
            return n.asInt();
        }

        List<String> strings(JsonNode parent, String path, List<String> fallback) {
            JsonNode n = parent.get(path.substring(path.indexOf('.') + 1));
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isArray()) {
                problem(path, "must be a list of strings");
                return fallback;
            }
            List<String> out = new ArrayList<>();
            n.forEach(e -> out.add(e.asText()));
            return List.copyOf(out);
        }

        /**
         * Whether {@code node} is a block to read: false when absent, or (with a problem) not a mapping; a
         * field it has beyond {@code known} is a problem ({@code hint} follows the list).
         */
        boolean block(JsonNode node, String path, Set<String> known, String hint) {
            if (node.isMissingNode() || node.isNull()) {
                return false;
            }
            if (!node.isObject()) {
                problem(path, "must be a mapping of " + new java.util.TreeSet<>(known));
                return false;
            }
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String field = it.next();
                if (!known.contains(field)) {
                    problem(path + "." + field, "unknown field; known: " + new java.util.TreeSet<>(known) + hint);
                }
            }
            return true;
        }

        /** A deadline: zero would close every connection at once. */
        java.time.Duration positive(java.time.Duration value, String field, java.time.Duration fallback) {
            if (value.isZero()) {
                problem(field, "must be longer than zero");
                return fallback;
            }
            return value;
        }

        int count(JsonNode limits, String name, int fallback) {
            JsonNode n = limits.get(name);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 1) {
                problem("limits." + name, "must be a whole number of at least 1");
                return fallback;
            }
            return n.asInt();
        }

        /** The held-event cap: a byte quantity from 1Ki to 1Gi (the gateway holds it in one buffer). */
        int eventSize(JsonNode n, int fallback) {
            long bytes = parse(n, "limits.maxEventSize", Quantities::parseBytes, (long) fallback);
            if (bytes < 1024 || bytes > 1L << 30) {
                problem("limits.maxEventSize", "must be between 1Ki and 1Gi");
                return fallback;
            }
            return (int) bytes;
        }

        <T> T parse(JsonNode n, String field, Function<String, T> parser, T fallback) {
            if (n == null || n.isNull()) {
                return fallback;
            }
            try {
                return parser.apply(n.asText());
            } catch (IllegalArgumentException e) {
                problem(field, e.getMessage());
                return fallback;
            }
        }
    }
}

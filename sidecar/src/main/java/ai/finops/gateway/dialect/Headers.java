package ai.finops.gateway.dialect;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.Map;
import java.util.Set;

/** Header names the gateway adds, and what it never forwards. */
public final class Headers {
    /** The gateway's own id for a request, returned to the client and logged. */
    public static final AsciiString GATEWAY_REQUEST_ID = AsciiString.cached("x-finops-request-id");
    /** The provider's id for a request, returned to the client as the provider sent it. */
    public static final AsciiString UPSTREAM_REQUEST_ID = AsciiString.cached("request-id");

    /** Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the gateway computes itself. */
    private static final Set<String> HOP_BY_HOP = Set.of(
            "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
            "proxy-authorization", "proxy-authenticate", "content-length", "host", "expect");

    /**
     * Client credentials, whatever provider they are meant for: a virtual key never reaches a provider,
     * nor a key a client sends in another provider's header ({@code api-key}: Foundry and Azure OpenAI;
     * {@code x-goog-api-key}: Google; {@code x-amz-security-token}: AWS). The provider's own credential is
     * added by its adapter.
     */
    private static final Set<String> CLIENT_CREDENTIALS = Set.of("authorization", "x-api-key", "x-bf-vk", "cookie",
            "api-key", "x-goog-api-key", "x-amz-security-token");

    private Headers() {}

    /** True for headers that carry a client credential (lower-case name). */
    public static boolean isCredential(String lowerCaseName) {
        return CLIENT_CREDENTIALS.contains(lowerCaseName);
    }

    /** Copies client request headers that may go to a provider. */
    public static void copyRequestHeaders(HttpHeaders from, HttpHeaders to) {
        Set<String> listed = connectionListed(from);
        for (Map.Entry<String, String> e : from) {
            String name = e.getKey().toLowerCase(java.util.Locale.ROOT);
            if (!hopByHop(name, listed) && !CLIENT_CREDENTIALS.contains(name) && !name.equals("accept-encoding")) {
                to.add(e.getKey(), e.getValue());
            }
        }
    }

    /**
     * Copies client request headers for the shared gateway (a {@code via-gateway} sidecar's relay):
     * everything end to end, credentials included, so the shared gateway sees the request as the
     * client sent it.
     */
    public static void copyRelayedRequestHeaders(HttpHeaders from, HttpHeaders to) {
        Set<String> listed = connectionListed(from);
        for (Map.Entry<String, String> e : from) {
            if (!hopByHop(e.getKey().toLowerCase(java.util.Locale.ROOT), listed)) {
                to.add(e.getKey(), e.getValue());
            }
        }
    }

    /** Copies provider response headers that may go to the client. */
    public static void copyResponseHeaders(HttpHeaders from, HttpHeaders to, boolean keepContentLength) {
        Set<String> listed = connectionListed(from);
        for (Map.Entry<String, String> e : from) {
            String name = e.getKey().toLowerCase(java.util.Locale.ROOT);
            if (name.equals("content-length") ? keepContentLength : !hopByHop(name, listed) && !name.equals("set-cookie")) {
                to.add(e.getKey(), e.getValue());
            }
        }
    }

    private static boolean hopByHop(String lowerCaseName, Set<String> connectionListed) {
        return HOP_BY_HOP.contains(lowerCaseName) || connectionListed.contains(lowerCaseName);
    }

    /** The headers a message's {@code Connection} header names: hop-by-hop too (RFC 9110 §7.6.1). */
    private static Set<String> connectionListed(HttpHeaders headers) {
        java.util.List<String> values = headers.getAll("connection");
        if (values.isEmpty()) {
            return Set.of();
        }
        if (values.size() == 1 && (values.get(0).equalsIgnoreCase("keep-alive") || values.get(0).equalsIgnoreCase("close"))) {
            return Set.of();    // the common case: nothing beyond the hop-by-hop headers every proxy drops
        }
        Set<String> names = new java.util.HashSet<>();
        for (String value : values) {
            for (String token : value.split(",")) {
                names.add(token.trim().toLowerCase(java.util.Locale.ROOT));
            }
        }
        return names;
    }
}

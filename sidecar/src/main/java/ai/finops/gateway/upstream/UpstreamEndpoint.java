package ai.finops.gateway.upstream;

import io.netty.handler.ssl.SslContext;
import java.net.URI;

/**
 * Where a deployment's requests go: scheme, host, port and base path, all from configuration. A
 * request only ever appends a fixed API path (such as {@code /v1/messages}) to {@link #basePath()}.
 *
 * @param ssl the client TLS context for https endpoints, else null
 */
public record UpstreamEndpoint(String scheme, String host, int port, String basePath, SslContext ssl) {

    public static UpstreamEndpoint of(URI uri, SslContext ssl) {
        boolean https = "https".equalsIgnoreCase(uri.getScheme());
        int port = uri.getPort() > 0 ? uri.getPort() : https ? 443 : 80;
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return new UpstreamEndpoint(https ? "https" : "http", uri.getHost(), port, path, https ? ssl : null);
    }

    /** The Host header value. */
    public String authority() {
        boolean defaultPort = ssl != null ? port == 443 : port == 80;
        String h = host.contains(":") ? "[" + host + "]" : host;
        return defaultPort ? h : h + ":" + port;
    }

    /** The request target for an API path such as {@code /v1/messages}. */
    public String target(String apiPath) {
        return basePath + apiPath;
    }

    /** Connections are pooled by this key: same host, port and TLS context. */
    public PoolKey poolKey() {
        return new PoolKey(host, port, ssl);
    }

    public record PoolKey(String host, int port, SslContext ssl) {}

    @Override
    public String toString() {
        return scheme + "://" + authority() + basePath;
    }
}

package ai.finops.gateway.mcp;

import ai.finops.crds.McpTransport;
import com.fasterxml.jackson.databind.JsonNode;
import io.modelcontextprotocol.client.transport.HttpClientSseClientTransport;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One upstream session per McpServer, shared by every client session this gateway serves: the
 * upstream sees the gateway, authenticated with the server's own credentials, never a client's key.
 * A session is built on first use over the SDK's transport and initializes itself on its first
 * request ({@link UpstreamSession}). A reload that changes a server (its URL, credential, timeouts...)
 * replaces its session and closes the old one; nothing here blocks: requests are {@code Mono}s
 * answered on the JDK HTTP client's threads.
 */
final class UpstreamClients implements AutoCloseable {
    private static final McpJsonMapper JSON = new JacksonMcpJsonMapper(JsonRpc.MAPPER);
    private final Map<String, Entry> clients = new ConcurrentHashMap<>();
    private final McpSchema.Implementation self;
    private final Listener listener;

    /** Hears what every server tells the gateway unasked. */
    interface Listener {
        /** A server's {@code notifications/progress} (its params). */
        void progress(JsonNode params);

        /** McpServer {@code server}'s tools changed. */
        void toolsChanged(String server);
    }

    private record Entry(McpUpstream upstream, UpstreamSession session) {}

    UpstreamClients(String version, Listener listener) {
        this.self = new McpSchema.Implementation("finops-gateway", version);
        this.listener = listener;
    }

    /** The session of {@code upstream}, built the first time and again after its settings changed. */
    UpstreamSession session(McpUpstream upstream) {
        Entry entry = clients.compute(upstream.name(), (name, current) -> {
            if (current != null && current.upstream().equals(upstream)) {
                return current;
            }
            if (current != null) {
                current.session().close();
            }
            return new Entry(upstream, build(upstream));
        });
        return entry.session();
    }

    private UpstreamSession build(McpUpstream upstream) {
        URI url = upstream.url();
        String base = url.getScheme() + "://" + url.getRawAuthority();
        String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
        HttpRequest.Builder requests = HttpRequest.newBuilder();
        if (upstream.authHeader() != null) {
            requests.header(upstream.authHeader(), upstream.authValue());
        }
        McpClientTransport transport = upstream.transport() == McpTransport.SSE
                ? HttpClientSseClientTransport.builder(base).sseEndpoint(path).requestBuilder(requests).jsonMapper(JSON)
                        .connectTimeout(upstream.connectTimeout()).build()
                : HttpClientStreamableHttpTransport.builder(base).endpoint(path).requestBuilder(requests).jsonMapper(JSON)
                        .connectTimeout(upstream.connectTimeout()).build();
        return new UpstreamSession(transport, self, upstream.callTimeout(), upstream.connectTimeout(), new UpstreamSession.Events() {
            @Override
            public void progress(JsonNode params) {
                listener.progress(params);
            }

            @Override
            public void toolsChanged() {
                listener.toolsChanged(upstream.name());
            }
        });
    }

    @Override
    public void close() {
        clients.values().forEach(entry -> entry.session().close());
        clients.clear();
    }
}

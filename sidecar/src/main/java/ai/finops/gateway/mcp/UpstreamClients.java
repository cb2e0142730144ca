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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One upstream session per McpServer, shared by every client session this gateway serves: the
 * upstream sees the gateway, authenticated with the server's own credentials, never a client's key.
 * A session is built on first use over the SDK's transport and initializes itself on its first
 * request ({@link UpstreamSession}). A reload ({@link #reconfigured}) closes the sessions of servers it
 * removed or whose connection it changed (URL, transport, credential, timeouts: {@link McpUpstream#connection()}),
 * which ends each one upstream ({@code DELETE} of its session) and gives up its requests in flight; the next
 * request builds a session of the new settings. A change of what the gateway does around the connection
 * (prefix, tool globs, price) keeps the session. Nothing here blocks: requests are {@code Mono}s answered on
 * the JDK HTTP client's threads.
 */
final class UpstreamClients implements AutoCloseable {
    private static final McpJsonMapper JSON = new JacksonMcpJsonMapper(JsonRpc.MAPPER);
    private final Map<String, Entry> clients = new ConcurrentHashMap<>();
    private final McpSchema.Implementation self;
    private final Listener listener;
    /** The connections of the McpServers configured now, by name; null until told ({@link #reconfigured}): any is served. */
    private volatile Map<String, McpUpstream.Connection> configured;

    /** Hears what every server tells the gateway unasked. */
    interface Listener {
        /** A server's {@code notifications/progress} (its params). */
        void progress(JsonNode params);

        /** McpServer {@code server}'s tools changed. */
        void toolsChanged(String server);
    }

    private record Entry(McpUpstream.Connection connection, UpstreamSession session) {}

    UpstreamClients(String version, Listener listener) {
        this.self = new McpSchema.Implementation("finops-gateway", version);
        this.listener = listener;
    }

    /**
     * The session of {@code upstream}, built the first time and again after its connection changed.
     *
     * @throws IllegalStateException when a reload changed or removed the server since the request read its config
     *         (the request may try again)
     */
    UpstreamSession session(McpUpstream upstream) {
        McpUpstream.Connection connection = upstream.connection();
        Entry entry = clients.compute(upstream.name(), (name, current) -> {
            if (current != null && current.connection().equals(connection)) {
                return current;
            }
            if (stale(upstream)) {
                return current;
            }
            if (current != null) {
                current.session().close();
            }
            return new Entry(connection, build(upstream));
        });
        if (entry == null || !entry.connection().equals(connection)) {
            throw new IllegalStateException("McpServer '" + upstream.name() + "' was changed by a configuration reload; try again");
        }
        return entry.session();
    }

    /** Whether a reload changed or removed {@code upstream} since the request that asks for it read its config. */
    private boolean stale(McpUpstream upstream) {
        Map<String, McpUpstream.Connection> now = configured;
        return now != null && !upstream.connection().equals(now.get(upstream.name()));
    }

    /**
     * The McpServers configured now (a reload was accepted, or the gateway started): the sessions of servers no
     * longer there, or whose connection changed, are closed.
     */
    void reconfigured(List<McpUpstream> servers) {
        Map<String, McpUpstream.Connection> now = new HashMap<>();
        servers.forEach(server -> now.put(server.name(), server.connection()));
        configured = now;      // first: a session asked for from now on is of these settings (see session)
        clients.forEach((name, entry) -> {
            if (!entry.connection().equals(now.get(name)) && clients.remove(name, entry)) {
                entry.session().close();
            }
        });
    }

    private UpstreamSession build(McpUpstream upstream) {
        URI url = upstream.url();
        String base = url.getScheme() + "://" + url.getRawAuthority();
        String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
        HttpRequest.Builder requests = HttpRequest.newBuilder();
        if (upstream.authHeader() != null) {
            requests.header(upstream.authHeader(), upstream.authValue());
        }
        McpClientTransport sdk = upstream.transport() == McpTransport.SSE
                ? HttpClientSseClientTransport.builder(base).sseEndpoint(path).requestBuilder(requests).jsonMapper(JSON)
                        .connectTimeout(upstream.connectTimeout()).build()
                : HttpClientStreamableHttpTransport.builder(base).endpoint(path).requestBuilder(requests).jsonMapper(JSON)
                        .connectTimeout(upstream.connectTimeout()).build();
        McpClientTransport transport = new RequestIdTransport(sdk);     // a cancellation names the upstream id
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

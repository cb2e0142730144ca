package ai.finops.gateway.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelcontextprotocol.client.McpAsyncClient;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpClientSession;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpTransportSessionNotFoundException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/**
 * A JSON-RPC session with one MCP server over the SDK's transport (streamable HTTP or HTTP+SSE),
 * answering results as the JSON trees the server sent. The SDK's client would hand them over as its
 * schema records, which drop every field they do not know ({@code _meta} inside a content block, a
 * newer version's additions) and check {@code structuredContent} against the tool's output schema;
 * the gateway passes results on untouched, so it speaks JSON-RPC here and does MCP's lifecycle itself:
 * {@code initialize} and {@code notifications/initialized} before the first request (concurrent
 * requests wait for the same one), and again once the server forgot the session, when the request that
 * found out is sent once more.
 */
final class UpstreamSession implements AutoCloseable {
    private static final TypeRef<JsonNode> TREE = new TypeRef<>() {};
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(UpstreamSession.class);
    static final String METHOD_NOTIFICATION_CANCELLED = "notifications/cancelled";

    private final McpClientTransport transport;
    private final McpSchema.Implementation self;
    private final Duration requestTimeout;
    private final Duration initializeTimeout;
    private final AtomicReference<Mono<Ready>> ready = new AtomicReference<>();
    /** The last session initialized: what {@link #close} ends, with its requests in flight. */
    private final AtomicReference<McpClientSession> latest = new AtomicReference<>();
    private final Map<String, McpClientSession.NotificationHandler> notifications;

    /** What the server tells the gateway unasked. */
    interface Events {
        /** A {@code notifications/progress} (its params), for a call whose progress token is the gateway's. */
        void progress(JsonNode params);

        /** A {@code notifications/tools/list_changed}. */
        void toolsChanged();
    }

    /** An initialized session and the protocol version it speaks (the transport's header). */
    private record Ready(McpClientSession session, String version) {}

    UpstreamSession(McpClientTransport transport, McpSchema.Implementation self, Duration requestTimeout, Duration initializeTimeout,
            Events events) {
        this.transport = transport;
        this.notifications = Map.of(
                McpSchema.METHOD_NOTIFICATION_PROGRESS, params -> Mono.fromRunnable(() -> events.progress(JsonRpc.MAPPER.valueToTree(params))),
                McpSchema.METHOD_NOTIFICATION_TOOLS_LIST_CHANGED, params -> Mono.fromRunnable(events::toolsChanged));
        this.self = self;
        this.requestTimeout = requestTimeout;
        this.initializeTimeout = initializeTimeout;
        transport.setExceptionHandler(this::failed);
    }

    /** The result of {@code method}, as the server sent it; its JSON-RPC error as an {@code McpError}. */
    Mono<JsonNode> request(String method, Object params) {
        return send(method, params).onErrorResume(UpstreamSession::sessionLost, e -> send(method, params));
    }

    /** {@link #request(String, Object)}, telling {@code sent} the JSON-RPC id the request goes upstream under (each time it is sent). */
    Mono<JsonNode> request(String method, Object params, java.util.function.Consumer<Object> sent) {
        return request(method, params).contextWrite(c -> c.put(RequestIdTransport.SENT, sent));
    }

    /**
     * Tells the server that the request it knows as {@code upstreamId} is cancelled ({@code notifications/cancelled}),
     * on the session open now; nothing when none is (the request died with its session). Does not wait.
     */
    void cancel(Object upstreamId, String reason) {
        Mono<Ready> current = ready.get();
        if (current == null) {
            return;
        }
        Map<String, Object> params = Map.of("requestId", upstreamId, "reason", reason);
        current.flatMap(r -> r.session().sendNotification(METHOD_NOTIFICATION_CANCELLED, params)
                        .contextWrite(c -> c.put(McpAsyncClient.NEGOTIATED_PROTOCOL_VERSION, r.version())))
                .subscribe(ok -> {}, e -> LOG.atDebug().addKeyValue("error", String.valueOf(e.getMessage())).log("cancellation not sent upstream"));
    }

    private Mono<JsonNode> send(String method, Object params) {
        return ready().flatMap(r -> r.session().sendRequest(method, params, TREE)
                .contextWrite(c -> c.put(McpAsyncClient.NEGOTIATED_PROTOCOL_VERSION, r.version())));
    }

    private Mono<Ready> ready() {
        return Mono.defer(() -> {
            Mono<Ready> current = ready.get();
            if (current != null) {
                return current;
            }
            Mono<Ready> started = Mono.defer(this::initialize).cache(r -> Duration.ofMillis(Long.MAX_VALUE), e -> Duration.ZERO, () -> Duration.ZERO);
            Mono<Ready> raced = ready.compareAndExchange(null, started);
            return raced != null ? raced : started.doOnError(e -> ready.compareAndSet(started, null));
        });
    }

    /**
     * A new session over the transport, which from then on hands its messages to that session alone:
     * built only when the winner of {@link #ready()} is subscribed, never for a request that lost the race.
     */
    private Mono<Ready> initialize() {
        McpClientSession session = new McpClientSession(requestTimeout, transport, Map.of(), notifications, Function.identity());
        latest.set(session);
        List<String> versions = transport.protocolVersions();
        McpSchema.InitializeRequest request = new McpSchema.InitializeRequest(versions.get(versions.size() - 1),
                McpSchema.ClientCapabilities.builder().build(), self);
        return session.sendRequest(McpSchema.METHOD_INITIALIZE, request, TREE)
                .flatMap(result -> {
                    String version = result.path("protocolVersion").asText("");
                    return session.sendNotification(McpSchema.METHOD_NOTIFICATION_INITIALIZED, null)
                            .contextWrite(c -> c.put(McpAsyncClient.NEGOTIATED_PROTOCOL_VERSION, version))
                            .thenReturn(new Ready(session, version));
                })
                .timeout(initializeTimeout)
                .doOnError(e -> session.close());
    }

    /**
     * The transport's word that the server forgot the session: the next request initializes a new one.
     * The old session is left to its requests in flight, which fail with that word and are sent again.
     */
    private void failed(Throwable e) {
        if (e instanceof McpTransportSessionNotFoundException) {
            ready.set(null);
        }
    }

    private static boolean sessionLost(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof McpTransportSessionNotFoundException) {
                return true;
            }
        }
        return false;
    }

    /** Ends the session: its requests in flight fail at once, and the transport ends it upstream ({@code DELETE}). */
    @Override
    public void close() {
        ready.set(null);
        McpClientSession session = latest.getAndSet(null);
        if (session != null) {
            session.close();
        }
        transport.close();
    }
}

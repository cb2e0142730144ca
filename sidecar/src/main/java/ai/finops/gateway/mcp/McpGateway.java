package ai.finops.gateway.mcp;

import ai.finops.gateway.governance.Admission;
import ai.finops.gateway.usage.UsageLedger;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import io.modelcontextprotocol.spec.McpSchema;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * {@code /mcp}, MCP's streamable HTTP transport (specification 2025-11-25; 2025-06-18 and 2025-03-26
 * clients get their own version): one JSON-RPC message per {@code POST}, answered as JSON or, for a
 * client that accepts only that, as a one-event SSE stream; a {@code tools/call} whose progress the
 * client asked for becomes an SSE stream of its progress and then its answer. {@code GET} is the
 * session's server-to-client stream ({@code notifications/tools/list_changed} of the key's servers);
 * {@code DELETE} ends a session.
 *
 * <p>Requests: {@code initialize} (which starts a session: {@code Mcp-Session-Id}), {@code ping},
 * {@code tools/list} and {@code tools/call} ({@link ToolCatalog}); any other method is "method not
 * found". Notifications and responses are accepted (202) and go nowhere, but for a {@code notifications/cancelled}
 * of a {@code tools/call} in flight here, which is given up and cancelled upstream ({@link CancellableCall}). A batch (a JSON array) is
 * refused: 2025-06-18 removed them, and no client of an older version this gateway knows sends them.
 *
 * <p>Runs on the connection's event loop up to the first upstream call; answers come back on the
 * SDK's threads through {@code reply}, which the caller moves to its event loop.
 */
public final class McpGateway implements AutoCloseable {
    /** The protocol versions answered, newest first: a client asking for another one gets the newest. */
    static final List<String> VERSIONS = List.of("2025-11-25", "2025-06-18", "2025-03-26");
    static final String SESSION_HEADER = "Mcp-Session-Id";
    static final String VERSION_HEADER = "MCP-Protocol-Version";
    private static final String VERSION = Optional.ofNullable(McpGateway.class.getPackage().getImplementationVersion()).orElse("dev");

    private final SessionTokens sessions;
    private final EndedSessions ended = new EndedSessions();
    private final ProgressRoutes progress = new ProgressRoutes();
    private final ClientStreams streams = new ClientStreams();
    private final ClientCalls calls = new ClientCalls();
    private final UpstreamClients clients = new UpstreamClients(VERSION, new UpstreamClients.Listener() {
        @Override
        public void progress(JsonNode params) {
            progress.progress(params);
        }

        @Override
        public void toolsChanged(String server) {
            streams.toolsChanged(server);
        }
    });
    private final ToolCatalog catalog;
    private final ToolCharges charges;
    private final Clock clock;

    /**
     * @param admission admits each tool call ({@code requestsPerMinute}, and a priced server's price in the key's budgets)
     * @param usage     the usage ledger tool calls are written to, or null
     */
    public McpGateway(SessionTokens sessions, MeterRegistry registry, Clock clock, Admission admission, UsageLedger usage) {
        this.sessions = sessions;
        McpMetrics metrics = new McpMetrics(registry);
        this.catalog = new ToolCatalog(clients, metrics);
        this.charges = new ToolCharges(admission, usage, metrics);
        this.clock = clock;
    }

    /**
     * What the connection tells a request being served: the client left (a call in flight is given up,
     * a stream forgotten), or the gateway is stopping (a stream ends; a call in flight may finish).
     */
    public interface Served {
        Served NONE = new Served() {};

        default void clientClosed() {}

        default void shutdown() {}
    }

    /** Serves {@code call}, answering through {@code reply} (from any thread). */
    public Served serve(McpCall call, McpReply reply) {
        Answers answers = new Answers(call, reply);
        FullHttpRequest request = call.request();
        if (!originAllowed(request.headers().get("origin"), call.allowedOrigins())) {
            answers.error(HttpResponseStatus.FORBIDDEN, null, JsonRpc.INVALID_REQUEST, "origin not allowed");
            return Served.NONE;
        }
        if (HttpMethod.DELETE.equals(request.method())) {
            end(call, answers);
            return Served.NONE;
        }
        if (HttpMethod.GET.equals(request.method())) {
            return stream(call, answers);
        }
        JsonNode message;
        try (ByteBufInputStream in = new ByteBufInputStream(request.content().duplicate())) {
            message = JsonRpc.MAPPER.readTree((java.io.InputStream) in);
        } catch (JsonProcessingException e) {
            answers.error(HttpResponseStatus.BAD_REQUEST, null, JsonRpc.PARSE_ERROR, "parse error: the body is not JSON");
            return Served.NONE;
        } catch (IOException e) {
            answers.error(HttpResponseStatus.BAD_REQUEST, null, JsonRpc.PARSE_ERROR, "parse error: " + e.getClass().getSimpleName());
            return Served.NONE;
        }
        if (message == null || message.isMissingNode()) {
            answers.error(HttpResponseStatus.BAD_REQUEST, null, JsonRpc.PARSE_ERROR, "parse error: the body is empty");
            return Served.NONE;
        }
        if (message.isArray()) {
            answers.error(HttpResponseStatus.BAD_REQUEST, null, JsonRpc.INVALID_REQUEST,
                    "batches are not supported: send one JSON-RPC message per POST");
            return Served.NONE;
        }
        switch (JsonRpc.kind(message)) {
            case INVALID -> answers.error(HttpResponseStatus.BAD_REQUEST, message.get("id"), JsonRpc.INVALID_REQUEST,
                    "invalid request: expected a JSON-RPC 2.0 request, notification or response");
            case NOTIFICATION -> {
                if (message.get("method").asText().equals(UpstreamSession.METHOD_NOTIFICATION_CANCELLED)) {
                    cancelled(call, message.path("params"));
                }
                answers.accepted();
            }
            case RESPONSE -> answers.accepted();
            case REQUEST -> {
                Disposable inFlight = request(call, message, answers);
                return inFlight == null ? Served.NONE : new Served() {
                    @Override
                    public void clientClosed() {
                        // given up upstream; the answer nobody reads ends the request
                        inFlight.dispose();
                        answers.json(JsonRpc.error(message.get("id"), JsonRpc.INTERNAL_ERROR, "the client left"), null);
                    }
                };
            }
        }
        return Served.NONE;
    }

    /** Answers a request; what is still to come of it (a call upstream), or null once answered. */
    private Disposable request(McpCall call, JsonNode message, Answers answers) {
        JsonNode id = message.get("id");
        String method = message.get("method").asText();
        JsonNode params = message.path("params");
        if (method.equals("initialize")) {
            String version = negotiate(params.path("protocolVersion").asText(null));
            String token = sessions.seal(version, clock.instant(), call.key().tokenSha256());
            answers.json(JsonRpc.result(id, initializeResult(version)), token);
            return null;
        }
        String version = call.request().headers().get(VERSION_HEADER);
        if (version != null && !VERSIONS.contains(version)) {
            answers.error(HttpResponseStatus.BAD_REQUEST, id, JsonRpc.INVALID_REQUEST, "unsupported " + VERSION_HEADER + " "
                    + version.substring(0, Math.min(version.length(), 40)) + " (supported: " + VERSIONS + ")");
            return null;
        }
        if (session(call, id, answers) == null) {
            return null;
        }
        switch (method) {
            case "ping" -> answers.json(JsonRpc.result(id, JsonRpc.MAPPER.createObjectNode()), null);
            case "tools/list" -> {
                return answers.later(id, catalog.list(call.key(), call.servers(), params.path("cursor").asText(null)));
            }
            case "tools/call" -> {
                CancellableCall cancellable = new CancellableCall();
                String where = calls.add(call.key().name(), call.request().headers().get(SESSION_HEADER), id, cancellable);
                Disposable inFlight = answers.later(id, Mono.defer(() -> {
                    ToolCatalog.Target target = catalog.resolve(call.key(), call.servers(), params);
                    return charges.charged(call.key(), call.budgets(), target,
                            () -> callWithProgress(call, target, params, answers, cancellable));
                }).doFinally(signal -> calls.remove(where, cancellable)));
                cancellable.started(() -> {
                    // given up here (a call in flight settles as not charged); the answer, which the client ignores, ends its request
                    inFlight.dispose();
                    calls.remove(where, cancellable);
                    answers.json(JsonRpc.error(id, JsonRpc.REQUEST_CANCELLED, "request cancelled"), null);
                });
                return inFlight;
            }
            default -> answers.json(JsonRpc.error(id, JsonRpc.METHOD_NOT_FOUND, "method not found: "
                    + method.substring(0, Math.min(method.length(), 100))), null);
        }
        return null;
    }

    /**
     * The call, its progress (when the client asked for it with {@code _meta.progressToken} and takes an
     * event stream) forwarded to the client as {@code notifications/progress} events before the answer,
     * under a token of the gateway's upstream ({@link ProgressRoutes}); a token for a client that takes no
     * stream is not sent on.
     */
    private Mono<JsonNode> callWithProgress(McpCall call, ToolCatalog.Target target, JsonNode params, Answers answers,
            CancellableCall cancellable) {
        JsonNode clientToken = params.path("_meta").get("progressToken");
        if (clientToken == null || !params.isObject()) {
            return catalog.call(call.key(), target, params, cancellable);
        }
        ObjectNode upstream = ((ObjectNode) params).deepCopy();
        ObjectNode meta = (ObjectNode) upstream.get("_meta");
        if (!answers.acceptsEvents()) {
            meta.remove("progressToken");
            return catalog.call(call.key(), target, upstream, cancellable);
        }
        String token = progress.add(clientToken, p -> answers.event(JsonRpc.notification(McpSchema.METHOD_NOTIFICATION_PROGRESS, p)));
        meta.put("progressToken", token);
        return catalog.call(call.key(), target, upstream, cancellable).doFinally(signal -> progress.remove(token));
    }

    /**
     * {@code GET}: the session's server-to-client stream, which tells of changed tool lists until the
     * client leaves or the gateway stops.
     */
    private Served stream(McpCall call, Answers answers) {
        if (!answers.acceptsEvents()) {
            answers.error(HttpResponseStatus.NOT_ACCEPTABLE, null, JsonRpc.INVALID_REQUEST, "GET /mcp is an event stream: accept text/event-stream");
            return Served.NONE;
        }
        if (session(call, null, answers) == null) {
            return Served.NONE;
        }
        ClientStreams.Stream stream = new ClientStreams.Stream(call.key(), answers);
        answers.open();
        streams.add(stream);
        return new Served() {
            @Override
            public void clientClosed() {
                streams.remove(stream);
                answers.end();
            }

            @Override
            public void shutdown() {
                streams.remove(stream);
                answers.end();
            }
        };
    }

    /**
     * A client's {@code notifications/cancelled}: the call it names ({@code requestId}), when it is a {@code tools/call}
     * of this key's session in flight on this gateway, is given up here and cancelled upstream ({@link CancellableCall});
     * anything else is ignored, as the specification lets a receiver do.
     */
    private void cancelled(McpCall call, JsonNode params) {
        String session = call.request().headers().get(SESSION_HEADER);
        CancellableCall cancellable = calls.find(call.key().name(), session, params.get("requestId"));
        if (cancellable != null && sessions.open(session, call.key().tokenSha256(), clock.instant()).isPresent()) {
            String reason = params.path("reason").asText("");
            cancellable.cancel(reason.length() > 200 ? reason.substring(0, 200) : reason.isEmpty() ? "cancelled by the client" : reason);
        }
    }

    /** The request's session, or null once it was answered: 400 without one, 404 for one that does not open. */
    private SessionTokens.Session session(McpCall call, JsonNode id, Answers answers) {
        String token = call.request().headers().get(SESSION_HEADER);
        if (token == null || token.isBlank()) {
            answers.error(HttpResponseStatus.BAD_REQUEST, id, JsonRpc.INVALID_REQUEST, "missing " + SESSION_HEADER + ": initialize first");
            return null;
        }
        Optional<SessionTokens.Session> session = ended.ended(token) ? Optional.empty()
                : sessions.open(token, call.key().tokenSha256(), clock.instant());
        if (session.isEmpty()) {
            answers.error(HttpResponseStatus.NOT_FOUND, id, JsonRpc.SESSION_NOT_FOUND, "session not found: initialize again");
            return null;
        }
        return session.get();
    }

    private void end(McpCall call, Answers answers) {
        SessionTokens.Session session = session(call, null, answers);
        if (session != null) {
            Instant now = clock.instant();
            ended.end(call.request().headers().get(SESSION_HEADER), session.started().plus(SessionTokens.LIFETIME), now);
            answers.empty(HttpResponseStatus.NO_CONTENT);
        }
    }

    /**
     * The McpServers configured now, after the gateway started or a reload was accepted: the upstream sessions of
     * servers removed or whose connection changed are closed (see {@link UpstreamClients}).
     */
    public void reconfigured(List<McpUpstream> servers) {
        clients.reconfigured(servers);
    }

    static String negotiate(String requested) {
        return requested != null && VERSIONS.contains(requested) ? requested : VERSIONS.get(0);
    }

    private static ObjectNode initializeResult(String version) {
        ObjectNode result = JsonRpc.MAPPER.createObjectNode().put("protocolVersion", version);
        result.putObject("capabilities").putObject("tools").put("listChanged", true);
        result.putObject("serverInfo").put("name", "finops-gateway").put("version", VERSION);
        result.put("instructions", "Tools of the MCP servers this virtual key may use, named <server prefix>__<tool>.");
        return result;
    }

    /**
     * A request without {@code Origin} comes from no browser; one with it must be the gateway's CORS
     * origin, or any origin when CORS allows {@code *}, or a page on this machine (a local tool).
     */
    static boolean originAllowed(String origin, List<String> allowed) {
        if (origin == null || allowed.contains("*") || allowed.contains(origin)) {
            return true;
        }
        try {
            String host = URI.create(origin).getHost();
            return host != null && (host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]") || host.equals("::1"));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public void close() {
        streams.endAll();
        clients.close();
    }
}

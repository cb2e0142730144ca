package ai.finops.gateway.mcp;

import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.governance.Admission;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import reactor.core.publisher.Mono;

/**
 * {@code /mcp}, MCP's streamable HTTP transport (specification 2025-11-25; 2025-06-18 and 2025-03-26
 * clients get their own version): one JSON-RPC message per {@code POST}, answered as JSON or, for a
 * client that accepts only that, as a one-event SSE stream; {@code DELETE} ends a session. There is no
 * server-to-client stream yet, so {@code GET} is 405 (which the specification allows).
 *
 * <p>Requests: {@code initialize} (which starts a session: {@code Mcp-Session-Id}), {@code ping},
 * {@code tools/list} and {@code tools/call} ({@link ToolCatalog}); any other method is "method not
 * found". Notifications and responses are accepted (202) and go nowhere. A batch (a JSON array) is
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
    private final UpstreamClients clients = new UpstreamClients(VERSION);
    private final ToolCatalog catalog;
    private final McpMetrics metrics;
    private final Admission admission;
    private final Clock clock;

    /** @param admission counts each tool call against its key's {@code requestsPerMinute} */
    public McpGateway(SessionTokens sessions, MeterRegistry registry, Clock clock, Admission admission) {
        this.sessions = sessions;
        this.metrics = new McpMetrics(registry);
        this.catalog = new ToolCatalog(clients, metrics);
        this.admission = admission;
        this.clock = clock;
    }

    /** Serves {@code call}; {@code reply} gets its answer exactly once, on any thread. */
    public void serve(McpCall call, Consumer<FullHttpResponse> reply) {
        Answers answers = new Answers(call, reply);
        FullHttpRequest request = call.request();
        if (!originAllowed(request.headers().get("origin"), call.allowedOrigins())) {
            answers.error(HttpResponseStatus.FORBIDDEN, null, JsonRpc.INVALID_REQUEST, "origin not allowed");
            return;
        }
        if (HttpMethod.DELETE.equals(request.method())) {
            end(call, answers);
            return;
        }
        JsonNode message;
        try (ByteBufInputStream in = new ByteBufInputStream(request.content().duplicate())) {
            message = JsonRpc.MAPPER.readTree((java.io.InputStream) in);
        } catch (JsonProcessingException e) {
            answers.error(HttpResponseStatus.BAD_REQUEST, null, JsonRpc.PARSE_ERROR, "parse error: the body is not JSON");
            return;
        } catch (IOException e) {
            answers.error(HttpResponseStatus.BAD_REQUEST, null, JsonRpc.PARSE_ERROR, "parse error: " + e.getClass().getSimpleName());
            return;
        }
        if (message == null || message.isMissingNode()) {
            answers.error(HttpResponseStatus.BAD_REQUEST, null, JsonRpc.PARSE_ERROR, "parse error: the body is empty");
            return;
        }
        if (message.isArray()) {
            answers.error(HttpResponseStatus.BAD_REQUEST, null, JsonRpc.INVALID_REQUEST,
                    "batches are not supported: send one JSON-RPC message per POST");
            return;
        }
        switch (JsonRpc.kind(message)) {
            case INVALID -> answers.error(HttpResponseStatus.BAD_REQUEST, message.get("id"), JsonRpc.INVALID_REQUEST,
                    "invalid request: expected a JSON-RPC 2.0 request, notification or response");
            case NOTIFICATION, RESPONSE -> answers.accepted();
            case REQUEST -> request(call, message, answers);
        }
    }

    private void request(McpCall call, JsonNode message, Answers answers) {
        JsonNode id = message.get("id");
        String method = message.get("method").asText();
        JsonNode params = message.path("params");
        if (method.equals("initialize")) {
            String version = negotiate(params.path("protocolVersion").asText(null));
            String token = sessions.seal(version, clock.instant(), call.key().tokenSha256());
            answers.json(JsonRpc.result(id, initializeResult(version)), token);
            return;
        }
        String version = call.request().headers().get(VERSION_HEADER);
        if (version != null && !VERSIONS.contains(version)) {
            answers.error(HttpResponseStatus.BAD_REQUEST, id, JsonRpc.INVALID_REQUEST, "unsupported " + VERSION_HEADER + " "
                    + version.substring(0, Math.min(version.length(), 40)) + " (supported: " + VERSIONS + ")");
            return;
        }
        if (session(call, id, answers) == null) {
            return;
        }
        switch (method) {
            case "ping" -> answers.json(JsonRpc.result(id, JsonRpc.MAPPER.createObjectNode()), null);
            case "tools/list" -> answers.later(id, catalog.list(call.key(), call.servers(), params.path("cursor").asText(null)));
            case "tools/call" -> answers.later(id, admitted(call.key(), params).then(Mono.defer(() -> catalog.call(call.key(), call.servers(), params))));
            default -> answers.json(JsonRpc.error(id, JsonRpc.METHOD_NOT_FOUND, "method not found: "
                    + method.substring(0, Math.min(method.length(), 100))), null);
        }
    }

    /**
     * Empty once the key's rate limit admits the call; else the JSON-RPC error the client gets (a tool call
     * refused for the key's {@code requestsPerMinute}, or because the store cannot count it), never forwarded.
     */
    private Mono<Void> admitted(KeyEntry key, JsonNode params) {
        return Mono.fromCompletionStage(admission.admitCall(key)).flatMap(verdict -> {
            if (!(verdict instanceof Admission.Refused refused)) {
                return Mono.empty();
            }
            metrics.toolCall(McpMetrics.NONE, McpMetrics.NONE, key.name(), McpMetrics.Outcome.RATE_LIMITED, Duration.ZERO);
            ObjectNode data = JsonRpc.MAPPER.createObjectNode().put("type", refused.type()).put("status", refused.status());
            if (refused.retryAfter() != null) {
                data.put("retryAfterSeconds", refused.retryAfter().toSeconds());
            }
            return Mono.error(new RpcError(JsonRpc.SERVER_ERROR, refused.message(), data));
        });
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

    static String negotiate(String requested) {
        return requested != null && VERSIONS.contains(requested) ? requested : VERSIONS.get(0);
    }

    private static ObjectNode initializeResult(String version) {
        ObjectNode result = JsonRpc.MAPPER.createObjectNode().put("protocolVersion", version);
        result.putObject("capabilities").putObject("tools").put("listChanged", false);
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
        clients.close();
    }
}

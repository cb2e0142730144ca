package ai.finops.gateway.mcp;

import ai.finops.crds.validation.ResourceValidator;
import ai.finops.gateway.auth.KeyEntry;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.stream.StreamSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The tools a key sees on {@code /mcp} and the calls it makes to them. {@code tools/list} asks every
 * server the key may use at once, each within its own connect timeout: a server that fails or is late
 * is left out of that answer (logged and counted), never an error; a server's own pages are all read
 * within that time. Tool definitions and call results are passed on as the server sent them (only a
 * tool's name gains its prefix), never through the SDK's schema records. {@code tools/call} finds the server
 * ({@link #resolve}) by the name's prefix (a name with no known prefix: the server without one, if any) and forwards the call only when the server offers the tool and the key may use
 * it; anything else is the same "unknown tool" error, so a key learns nothing of tools it may not use.
 */
final class ToolCatalog {
    /** Tools per {@code tools/list} page. */
    static final int PAGE = 100;
    /** Pages of a server's own {@code tools/list} followed at most: a server whose cursors never end is cut there. */
    static final int MAX_UPSTREAM_PAGES = 100;
    private static final Logger LOG = LoggerFactory.getLogger(ToolCatalog.class);
    private static final String CURSOR_PREFIX = "offset:";

    private final UpstreamClients clients;
    private final McpMetrics metrics;

    ToolCatalog(UpstreamClients clients, McpMetrics metrics) {
        this.clients = clients;
        this.metrics = metrics;
    }

    /** One page of the key's tools, sorted by name, starting at {@code cursor} (null: the first). */
    Mono<JsonNode> list(KeyEntry key, List<McpUpstream> servers, String cursor) {
        return Mono.defer(() -> page(key, servers, cursor, offset(cursor)));
    }

    private Mono<JsonNode> page(KeyEntry key, List<McpUpstream> servers, String cursor, int offset) {
        return Flux.fromIterable(servers)
                .filter(server -> key.allowsMcpServer(server.name()))
                .flatMap(server -> toolsOf(server, key))
                .collectList()
                .map(tools -> {
                    tools.sort(Comparator.comparing(tool -> tool.path("name").asText()));
                    ObjectNode result = JsonRpc.MAPPER.createObjectNode();
                    ArrayNode page = result.putArray("tools");
                    tools.stream().skip(offset).limit(PAGE).forEach(page::add);
                    if (offset + PAGE < tools.size()) {
                        result.put("nextCursor", cursor(offset + PAGE));
                    }
                    return (JsonNode) result;
                });
    }

    private Flux<ObjectNode> toolsOf(McpUpstream server, KeyEntry key) {
        return Mono.fromSupplier(() -> clients.session(server))
                .flatMapMany(session -> session.request(McpSchema.METHOD_TOOLS_LIST, new McpSchema.PaginatedRequest(null))
                        .expand(page -> page.hasNonNull("nextCursor")
                                ? session.request(McpSchema.METHOD_TOOLS_LIST, new McpSchema.PaginatedRequest(page.get("nextCursor").asText()))
                                : Mono.empty()))
                .take(MAX_UPSTREAM_PAGES)
                .collectList()
                .timeout(server.connectTimeout())
                .flatMapIterable(pages -> pages.stream().flatMap(page -> StreamSupport.stream(page.path("tools").spliterator(), false)).toList())
                .filter(JsonNode::isObject)
                .filter(tool -> server.offers(tool.path("name").asText()) && key.allowsMcpTool(server.prefixed(tool.path("name").asText())))
                .map(tool -> ((ObjectNode) tool.deepCopy()).put("name", server.prefixed(tool.path("name").asText())))
                .onErrorResume(e -> {
                    LOG.atWarn().addKeyValue("mcp_server", server.name()).addKeyValue("error", describe(e, server.connectTimeout()))
                            .log("MCP server left out of tools/list");
                    metrics.serverMissing(server.name());
                    return Flux.empty();
                });
    }

    /**
     * A tool a key may call: its server, its own name there, and the name the client called it by.
     */
    record Target(McpUpstream server, String tool, String name) {}

    /**
     * The server and tool {@code params.name} names, when the key may call it; else the JSON-RPC error to answer
     * ("unknown tool", counted as refused), thrown.
     */
    Target resolve(KeyEntry key, List<McpUpstream> servers, JsonNode params) {
        String name = params.path("name").asText("");
        int separator = name.indexOf(ResourceValidator.MCP_TOOL_SEPARATOR);
        McpUpstream prefixed = separator <= 0 ? null : servers.stream()
                .filter(s -> s.prefix().equals(name.substring(0, separator))).findFirst().orElse(null);
        // a name without a known prefix: the tool of the server without one, if there is one
        McpUpstream server = prefixed != null ? prefixed : servers.stream().filter(s -> s.prefix().isEmpty()).findFirst().orElse(null);
        String tool = prefixed == null ? name : name.substring(separator + ResourceValidator.MCP_TOOL_SEPARATOR.length());
        if (server == null || !key.allowsMcpServer(server.name()) || !server.offers(tool) || !key.allowsMcpTool(name)) {
            metrics.toolCall(server == null ? McpMetrics.NONE : server.name(), McpMetrics.NONE, key.name(), McpMetrics.Outcome.REFUSED,
                    Duration.ZERO);
            throw new RpcError(JsonRpc.INVALID_PARAMS, "unknown tool: " + name);
        }
        return new Target(server, tool, name);
    }

    /**
     * Calls {@code target} ({@link #resolve}) with {@code params}, or fails with the JSON-RPC error to answer;
     * {@code cancellable} learns where the call went, so that the client can cancel it.
     */
    Mono<JsonNode> call(KeyEntry key, Target target, JsonNode params, CancellableCall cancellable) {
        long start = System.nanoTime();
        McpUpstream server = target.server();
        String tool = target.tool();
        ObjectNode upstreamParams = ((ObjectNode) params.deepCopy()).put("name", tool);
        return Mono.defer(() -> {
                    UpstreamSession session = clients.session(server);
                    return session.request(McpSchema.METHOD_TOOLS_CALL, upstreamParams, id -> cancellable.sent(session, id));
                })
                .timeout(server.callTimeout())
                .map(result -> {
                    boolean failed = result.path("isError").asBoolean(false);
                    metrics.toolCall(server.name(), tool, key.name(), failed ? McpMetrics.Outcome.TOOL_ERROR : McpMetrics.Outcome.OK,
                            Duration.ofNanos(System.nanoTime() - start));
                    return result;
                })
                .onErrorMap(e -> !(e instanceof RpcError), e -> {
                    metrics.toolCall(server.name(), McpMetrics.NONE, key.name(), e instanceof TimeoutException
                            ? McpMetrics.Outcome.TIMEOUT : McpMetrics.Outcome.UPSTREAM_ERROR, Duration.ofNanos(System.nanoTime() - start));
                    return upstreamError(server, e);
                });
    }

    /** An upstream's own JSON-RPC error as it sent it; any other failure as an internal error naming the server. */
    private static RpcError upstreamError(McpUpstream server, Throwable e) {
        if (e instanceof McpError mcp && mcp.getJsonRpcError() != null) {
            McpSchema.JSONRPCResponse.JSONRPCError error = mcp.getJsonRpcError();
            return new RpcError(error.code(), error.message(), error.data() == null ? null : JsonRpc.MAPPER.valueToTree(error.data()));
        }
        LOG.atWarn().addKeyValue("mcp_server", server.name()).addKeyValue("error", describe(e, server.callTimeout())).log("MCP tool call failed");
        return new RpcError(JsonRpc.INTERNAL_ERROR, "MCP server '" + server.name() + "' failed: " + describe(e, server.callTimeout()));
    }

    private static String describe(Throwable e, Duration timeout) {
        if (e instanceof TimeoutException) {
            return "no answer within " + timeout.toMillis() + " ms";
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    private static String cursor(int offset) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString((CURSOR_PREFIX + offset).getBytes(StandardCharsets.US_ASCII));
    }

    private static int offset(String cursor) {
        if (cursor == null) {
            return 0;
        }
        try {
            String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII);
            if (text.startsWith(CURSOR_PREFIX)) {
                int offset = Integer.parseInt(text.substring(CURSOR_PREFIX.length()));
                if (offset >= 0) {
                    return offset;
                }
            }
        } catch (IllegalArgumentException e) {
            // below
        }
        throw new RpcError(JsonRpc.INVALID_PARAMS, "invalid cursor");
    }
}

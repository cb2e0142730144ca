package ai.finops.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * An MCP server for tests, by hand on the JDK's HTTP server (the SDK's server side needs servlets):
 * streamable HTTP with JSON answers, sessions, {@code tools/list} and {@code tools/call} of the tools
 * given to it, each answering text (optionally after a delay: a slow tool) or a whole result, listed
 * in pages when asked to. It records every request's headers and the tools called, so a test sees
 * what reached it (credentials, a client's key).
 */
public final class McpTestServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A tool: its name, and the result it answers to the call's arguments, after {@code delay}. */
    public record Tool(String name, Function<JsonNode, ObjectNode> result, Duration delay) {
        /** A tool that answers {@code answer}'s text at once. */
        public static Tool of(String name, Function<JsonNode, String> answer) {
            return slow(name, answer, Duration.ZERO);
        }

        /** A tool that answers {@code answer}'s text after {@code delay}. */
        public static Tool slow(String name, Function<JsonNode, String> answer, Duration delay) {
            return new Tool(name, arguments -> {
                ObjectNode result = JSON.createObjectNode();
                result.putArray("content").addObject().put("type", "text").put("text", answer.apply(arguments));
                return result.put("isError", false);
            }, delay);
        }

        /** A tool that answers the whole {@code result} it is given at once (fields a client may not know included). */
        public static Tool answering(String name, ObjectNode result) {
            return new Tool(name, arguments -> result.deepCopy(), Duration.ZERO);
        }
    }

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Map<String, Tool> tools = new ConcurrentHashMap<>();
    private final Set<String> sessions = ConcurrentHashMap.newKeySet();
    private final List<Map<String, List<String>>> requestHeaders = new CopyOnWriteArrayList<>();
    private final List<String> called = new CopyOnWriteArrayList<>();
    private final Duration listDelay;
    private final int pageSize;

    private McpTestServer(int port, Duration listDelay, int pageSize, List<Tool> tools) throws IOException {
        this.listDelay = listDelay;
        this.pageSize = pageSize;
        tools.forEach(t -> this.tools.put(t.name(), t));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        server.setExecutor(threads);
        server.createContext("/mcp", this::handle);
        server.start();
    }

    /** Starts a server of {@code tools} on a free loopback port. */
    public static McpTestServer start(Tool... tools) throws IOException {
        return new McpTestServer(0, Duration.ZERO, Integer.MAX_VALUE, List.of(tools));
    }

    /**
     * {@code java -cp finops-testkit.jar ai.finops.testkit.McpTestServer [port]}: a server on loopback
     * (default port 9998) with one tool, {@code greet}, answering "hello, NAME from the test MCP server"
     * ({@code name} argument, default "you"), for trying {@code /mcp} by hand. Runs until killed.
     */
    public static void main(String[] args) throws Exception {
        McpTestServer server = new McpTestServer(args.length > 0 ? Integer.parseInt(args[0]) : 9998, Duration.ZERO, Integer.MAX_VALUE,
                List.of(Tool.of("greet", arguments -> "hello, " + arguments.path("name").asText("you") + " from the test MCP server")));
        System.out.println("test MCP server listening on " + server.url());
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        Thread.currentThread().join();
    }

    /** Starts a server that answers {@code tools/list} only after {@code listDelay} (one a client must not wait for). */
    public static McpTestServer slowToList(Duration listDelay, Tool... tools) throws IOException {
        return new McpTestServer(0, listDelay, Integer.MAX_VALUE, List.of(tools));
    }

    /** Starts a server that lists its tools {@code pageSize} at a time, with a {@code nextCursor} to the next page. */
    public static McpTestServer paged(int pageSize, Tool... tools) throws IOException {
        return new McpTestServer(0, Duration.ZERO, pageSize, List.of(tools));
    }

    /** Its MCP endpoint. */
    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/mcp";
    }

    /** The headers of every request received, in order (names as the JDK gives them: first letter upper-case). */
    public List<Map<String, List<String>>> requestHeaders() {
        return List.copyOf(requestHeaders);
    }

    /** The tools called, by their own names, in order. */
    public List<String> called() {
        return List.copyOf(called);
    }

    /** Forgets every session, as a restarted server would: the next request of one is 404. */
    public void forgetSessions() {
        sessions.clear();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            requestHeaders.add(Map.copyOf(exchange.getRequestHeaders()));
            String session = exchange.getRequestHeaders().getFirst("Mcp-Session-Id");
            switch (exchange.getRequestMethod()) {
                case "POST" -> post(exchange, session);
                case "DELETE" -> {
                    sessions.remove(session);
                    exchange.sendResponseHeaders(204, -1);
                }
                default -> exchange.sendResponseHeaders(405, -1);
            }
        }
    }

    private void post(HttpExchange exchange, String session) throws IOException {
        JsonNode message = JSON.readTree(exchange.getRequestBody().readAllBytes());
        String method = message.path("method").asText();
        if (!message.has("id")) {
            exchange.sendResponseHeaders(202, -1);
            return;
        }
        if (method.equals("initialize")) {
            String id = UUID.randomUUID().toString();
            sessions.add(id);
            ObjectNode result = JSON.createObjectNode().put("protocolVersion", message.path("params").path("protocolVersion").asText());
            result.putObject("capabilities").putObject("tools");
            result.putObject("serverInfo").put("name", "test-mcp").put("version", "1");
            exchange.getResponseHeaders().set("Mcp-Session-Id", id);
            answer(exchange, 200, message.get("id"), result);
            return;
        }
        if (session == null || !sessions.contains(session)) {
            answer(exchange, 404, message.get("id"), null);
            return;
        }
        switch (method) {
            case "tools/list" -> {
                pause(listDelay);
                int offset = Integer.parseInt(message.path("params").path("cursor").asText("0"));
                List<String> names = tools.keySet().stream().sorted().toList();
                ObjectNode result = JSON.createObjectNode();
                var list = result.putArray("tools");
                names.stream().skip(offset).limit(pageSize).forEach(name -> list.addObject().put("name", name)
                        .put("description", "test tool " + name).putObject("inputSchema").put("type", "object"));
                if (offset + pageSize < names.size()) {
                    result.put("nextCursor", String.valueOf(offset + pageSize));
                }
                answer(exchange, 200, message.get("id"), result);
            }
            case "tools/call" -> call(exchange, message);
            case "ping" -> answer(exchange, 200, message.get("id"), JSON.createObjectNode());
            default -> answer(exchange, 200, message.get("id"), null);
        }
    }

    private void call(HttpExchange exchange, JsonNode message) throws IOException {
        String name = message.path("params").path("name").asText();
        Tool tool = tools.get(name);
        if (tool == null) {
            answer(exchange, 200, message.get("id"), null);
            return;
        }
        called.add(name);
        pause(tool.delay());
        answer(exchange, 200, message.get("id"), tool.result().apply(message.path("params").path("arguments")));
    }

    private static void pause(Duration delay) {
        try {
            Thread.sleep(delay.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A result, or (when it is null) the JSON-RPC error of an unknown method, tool or session. */
    private static void answer(HttpExchange exchange, int status, JsonNode id, JsonNode result) throws IOException {
        ObjectNode response = JSON.createObjectNode().put("jsonrpc", "2.0");
        response.set("id", id);
        if (result != null) {
            response.set("result", result);
        } else {
            response.putObject("error").put("code", status == 404 ? -32001 : -32602).put("message", status == 404 ? "session not found" : "unknown");
        }
        byte[] body = JSON.writeValueAsBytes(response);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}

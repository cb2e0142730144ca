package ai.finops.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
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
 * streamable HTTP with JSON answers (SSE for a call whose tool sends progress), sessions, a
 * server-to-client stream ({@code GET}) that hears of tools added ({@code notifications/tools/list_changed}),
 * {@code tools/list} and {@code tools/call} of the tools given to it, each answering text (optionally
 * after a delay: a slow tool) or a whole result, listed in pages when asked to. It records every
 * request's headers, the tools called, the notifications received and the sessions ended, so a test
 * sees what reached it (credentials, a client's key, a cancellation, a client that closed).
 */
public final class McpTestServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A tool: its name, its input schema (null: an empty object schema) and what a call of it does: the
     * result it answers to the call's {@code params}, after sending {@code events} if it wants to (which
     * turns the answer into an SSE stream).
     */
    public record Tool(String name, ObjectNode inputSchema, Behaviour behaviour) {
        /** What a call does. */
        @FunctionalInterface
        public interface Behaviour {
            ObjectNode call(JsonNode params, Events events) throws IOException;
        }

        /** A tool that answers {@code answer}'s text at once. */
        public static Tool of(String name, Function<JsonNode, String> answer) {
            return slow(name, answer, Duration.ZERO);
        }

        /** A tool that answers {@code answer}'s text after {@code delay}. */
        public static Tool slow(String name, Function<JsonNode, String> answer, Duration delay) {
            return new Tool(name, null, (params, events) -> {
                pause(delay);
                return text(answer.apply(params.path("arguments")));
            });
        }

        /** A tool that answers the whole {@code result} it is given at once (fields a client may not know included). */
        public static Tool answering(String name, ObjectNode result) {
            return new Tool(name, null, (params, events) -> result.deepCopy());
        }

        /**
         * A tool that, when the call asks for progress ({@code _meta.progressToken}), sends {@code steps}
         * {@code notifications/progress} (1 to steps of steps), {@code interval} apart, then answers "done".
         */
        public static Tool withProgress(String name, int steps, Duration interval) {
            return new Tool(name, null, (params, events) -> {
                JsonNode token = params.path("_meta").get("progressToken");
                for (int i = 1; i <= steps; i++) {
                    pause(interval);
                    if (token != null) {
                        ObjectNode progress = JSON.createObjectNode().put("progress", i).put("total", steps)
                                .put("message", "step " + i + " of " + steps);
                        progress.set("progressToken", token);
                        events.send("notifications/progress", progress);
                    }
                }
                return text("done");
            });
        }
    }

    /** The messages a tool sends while it runs, on the stream of its call's answer. */
    public interface Events {
        void send(String method, ObjectNode params) throws IOException;
    }

    /** Text content, not an error: the result of most tools. */
    static ObjectNode text(String text) {
        ObjectNode result = JSON.createObjectNode();
        result.putArray("content").addObject().put("type", "text").put("text", text);
        return result.put("isError", false);
    }

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Map<String, Tool> tools = new ConcurrentHashMap<>();
    private final Set<String> sessions = ConcurrentHashMap.newKeySet();
    private final List<Map<String, List<String>>> requestHeaders = new CopyOnWriteArrayList<>();
    private final List<String> called = new CopyOnWriteArrayList<>();
    private final List<JsonNode> callIds = new CopyOnWriteArrayList<>();
    private final List<JsonNode> notifications = new CopyOnWriteArrayList<>();
    private final List<String> ended = new CopyOnWriteArrayList<>();
    private final Map<HttpExchange, OutputStream> streams = new ConcurrentHashMap<>();
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
     * (default port 9998) with the tool {@code greet}, answering "hello, NAME from the test MCP server"
     * ({@code name} argument, default "you"), and the tools of the MCP conformance suite's server scenarios
     * ({@link #conformanceTools()}), for trying {@code /mcp} by hand or with the suite. Runs until killed.
     */
    public static void main(String[] args) throws Exception {
        List<Tool> tools = new java.util.ArrayList<>(List.of(conformanceTools()));
        tools.add(Tool.of("greet", arguments -> "hello, " + arguments.path("name").asText("you") + " from the test MCP server"));
        McpTestServer server = new McpTestServer(args.length > 0 ? Integer.parseInt(args[0]) : 9998, Duration.ZERO, Integer.MAX_VALUE, tools);
        System.out.println("test MCP server listening on " + server.url());
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        Thread.currentThread().join();
    }

    /**
     * The tools the server scenarios of the MCP conformance suite ({@code @modelcontextprotocol/conformance})
     * call, answering what each scenario expects: text, image, audio, an embedded resource, mixed
     * content, a tool error, progress, and a JSON Schema 2020-12 input schema.
     */
    public static Tool[] conformanceTools() {
        String png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
        String wav = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=";
        ObjectNode image = JSON.createObjectNode().put("type", "image").put("data", png).put("mimeType", "image/png");
        ObjectNode resource = JSON.createObjectNode().put("type", "resource");
        resource.putObject("resource").put("uri", "test://embedded-resource").put("mimeType", "text/plain")
                .put("text", "This is an embedded resource content.");
        ObjectNode mixedResource = JSON.createObjectNode().put("type", "resource");
        mixedResource.putObject("resource").put("uri", "test://mixed-content-resource").put("mimeType", "application/json")
                .put("text", "{\"test\":\"data\",\"value\":123}");
        ObjectNode mixed = content(JSON.createObjectNode().put("type", "text").put("text", "Multiple content types test:"), image, mixedResource);
        ObjectNode error = content(JSON.createObjectNode().put("type", "text").put("text", "This tool intentionally returns an error for testing"))
                .put("isError", true);
        ObjectNode schema;
        try {
            schema = (ObjectNode) JSON.readTree("""
                    {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                     "$defs": {"address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
                     "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
                     "additionalProperties": false}""");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return new Tool[] {
            Tool.of("test_simple_text", arguments -> "This is a simple text response for testing."),
            Tool.answering("test_image_content", content(image)),
            Tool.answering("test_audio_content", content(JSON.createObjectNode().put("type", "audio").put("data", wav).put("mimeType", "audio/wav"))),
            Tool.answering("test_embedded_resource", content(resource)),
            Tool.answering("test_multiple_content_types", mixed),
            Tool.answering("test_error_handling", error),
            Tool.withProgress("test_tool_with_progress", 3, Duration.ofMillis(50)),
            new Tool("json_schema_2020_12_tool", schema, (params, events) -> text("ok")),
        };
    }

    private static ObjectNode content(ObjectNode... blocks) {
        ObjectNode result = JSON.createObjectNode();
        var content = result.putArray("content");
        for (ObjectNode block : blocks) {
            content.add(block);
        }
        return result;
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

    /** The JSON-RPC ids of the {@code tools/call} requests received, in order. */
    public List<JsonNode> callIds() {
        return List.copyOf(callIds);
    }

    /** The notifications received (whole messages), in order; {@code notifications/initialized} included. */
    public List<JsonNode> notifications() {
        return List.copyOf(notifications);
    }

    /** The sessions their clients ended with {@code DELETE}, in order. */
    public List<String> endedSessions() {
        return List.copyOf(ended);
    }

    /** The sessions open now (initialized, and neither ended nor forgotten). */
    public int openSessions() {
        return sessions.size();
    }

    /** The server-to-client streams ({@code GET}) open now. */
    public int openStreams() {
        return streams.size();
    }

    /** Forgets every session, as a restarted server would: the next request of one is 404. */
    public void forgetSessions() {
        sessions.clear();
    }

    /** Adds {@code tool} and tells every open server-to-client stream with {@code notifications/tools/list_changed}. */
    public void addTool(Tool tool) {
        tools.put(tool.name(), tool);
        byte[] event = event(JSON.createObjectNode().put("jsonrpc", "2.0").put("method", "notifications/tools/list_changed"));
        streams.forEach((exchange, out) -> {
            try {
                synchronized (out) {
                    out.write(event);
                    out.flush();
                }
            } catch (IOException e) {
                streams.remove(exchange);
                exchange.close();
            }
        });
    }

    private void handle(HttpExchange exchange) throws IOException {
        requestHeaders.add(Map.copyOf(exchange.getRequestHeaders()));
        String session = exchange.getRequestHeaders().getFirst("Mcp-Session-Id");
        if (exchange.getRequestMethod().equals("GET") && session != null && sessions.contains(session)) {
            // the server-to-client stream: open until the client or close() ends it
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            out.write(": open\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            streams.put(exchange, out);
            return;
        }
        try (exchange) {
            switch (exchange.getRequestMethod()) {
                case "POST" -> post(exchange, session);
                case "DELETE" -> {
                    if (session != null && sessions.remove(session)) {
                        ended.add(session);
                    }
                    exchange.sendResponseHeaders(204, -1);
                }
                case "GET" -> exchange.sendResponseHeaders(session == null ? 400 : 404, -1);
                default -> exchange.sendResponseHeaders(405, -1);
            }
        }
    }

    private void post(HttpExchange exchange, String session) throws IOException {
        JsonNode message = JSON.readTree(exchange.getRequestBody().readAllBytes());
        String method = message.path("method").asText();
        if (!message.has("id")) {
            if (message.has("method")) {
                notifications.add(message);
            }
            exchange.sendResponseHeaders(202, -1);
            return;
        }
        if (method.equals("initialize")) {
            String id = UUID.randomUUID().toString();
            sessions.add(id);
            ObjectNode result = JSON.createObjectNode().put("protocolVersion", message.path("params").path("protocolVersion").asText());
            result.putObject("capabilities").putObject("tools").put("listChanged", true);
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
                names.stream().skip(offset).limit(pageSize).forEach(name -> {
                    Tool tool = tools.get(name);
                    ObjectNode entry = list.addObject().put("name", name).put("description", "test tool " + name);
                    entry.set("inputSchema", tool.inputSchema() != null ? tool.inputSchema() : JSON.createObjectNode().put("type", "object"));
                });
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
        callIds.add(message.get("id"));
        boolean[] streaming = {false};
        Events events = (method, params) -> {
            if (!streaming[0]) {
                streaming[0] = true;
                exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
                exchange.sendResponseHeaders(200, 0);
            }
            ObjectNode notification = JSON.createObjectNode().put("jsonrpc", "2.0").put("method", method);
            notification.set("params", params);
            exchange.getResponseBody().write(event(notification));
            exchange.getResponseBody().flush();
        };
        ObjectNode result = tool.behaviour().call(message.path("params"), events);
        if (streaming[0]) {
            exchange.getResponseBody().write(event(response(message.get("id"), result)));
        } else {
            answer(exchange, 200, message.get("id"), result);
        }
    }

    static void pause(Duration delay) {
        try {
            Thread.sleep(delay.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static byte[] event(JsonNode message) {
        try {
            return ("event: message\ndata: " + JSON.writeValueAsString(message) + "\n\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A result, or (when it is null) the JSON-RPC error of an unknown method, tool or session. */
    private static ObjectNode response(JsonNode id, JsonNode result) {
        ObjectNode response = JSON.createObjectNode().put("jsonrpc", "2.0");
        response.set("id", id);
        if (result != null) {
            response.set("result", result);
        } else {
            response.putObject("error").put("code", -32602).put("message", "unknown");
        }
        return response;
    }

    private static void answer(HttpExchange exchange, int status, JsonNode id, JsonNode result) throws IOException {
        ObjectNode response = response(id, result);
        if (status == 404) {
            response.putObject("error").put("code", -32001).put("message", "session not found");
        }
        byte[] body = JSON.writeValueAsBytes(response);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void close() {
        streams.keySet().forEach(HttpExchange::close);
        streams.clear();
        server.stop(0);
        threads.shutdownNow();
    }
}

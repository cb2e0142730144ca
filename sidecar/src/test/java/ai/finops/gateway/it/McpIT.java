package ai.finops.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.testkit.McpTestServer;
import ai.finops.testkit.McpTestServer.Tool;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /mcp} with the official MCP Java SDK client: the tools of two MCP servers under their
 * prefixes, calls routed with each server's own credential, a key's allow-lists, a dead and a slow
 * server that never hold up the list, sessions that a second gateway with the same key resumes, and
 * the answers to bad input.
 */
class McpIT {
    static final String GITHUB_TOKEN = "ghp-upstream-credential-1";
    static final String DOCS_ONLY_KEY = "vk-docs-only-0123456789abcdef";
    static final String LIMITED_KEY = "vk-mcp-limited-0123456789";
    static final String SESSION_KEY = Base64.getEncoder().encodeToString(new byte[32]);
    static final ObjectMapper JSON = new ObjectMapper();

    static McpTestServer github;
    static McpTestServer docs;
    static McpTestServer slow;
    static GatewayHarness gateway;
    static GatewayHarness second;

    @BeforeAll
    static void start() throws Exception {
        github = McpTestServer.start(Tool.of("search", args -> "found " + args.path("q").asText()),
                Tool.of("list_issues", args -> "no issues"), Tool.of("delete_repo", args -> "deleted"));
        docs = McpTestServer.start(Tool.of("lookup", args -> "the docs say " + args.path("topic").asText()),
                Tool.slow("slow_lookup", args -> "slowly", Duration.ofMillis(300)));
        slow = McpTestServer.slowToList(Duration.ofSeconds(20), Tool.of("never_listed", args -> ""));
        gateway = configured(new GatewayHarness()).start();
        second = configured(new GatewayHarness()).start();
    }

    static GatewayHarness configured(GatewayHarness harness) throws Exception {
        harness.env.put("FINOPS_MCP_SESSION_KEY", SESSION_KEY);
        harness.settings("maxBodySize: 1Mi");
        int deadPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            deadPort = socket.getLocalPort();
        }
        return harness.write("keys.yaml", GatewayHarness.keyAndSecrets() + """
                ---
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: docs-only}
                spec:
                  secretRef: {name: vk-docs-only}
                  allow: {mcpServers: [docs], mcpTools: ["kb__lookup"]}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: vk-docs-only}
                stringData: {token: "%s"}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: limited}
                spec:
                  secretRef: {name: vk-limited}
                  rateLimits: {requestsPerMinute: 2}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: vk-limited}
                stringData: {token: "%s"}
                """.formatted(DOCS_ONLY_KEY, LIMITED_KEY))
                .write("mcp.yaml", """
                        apiVersion: finops.ai/v1alpha1
                        kind: McpServer
                        metadata: {name: github}
                        spec:
                          url: %s
                          auth: {secretRef: {name: gh-mcp}}
                          tools: {deny: ["delete_*"]}
                        ---
                        apiVersion: v1
                        kind: Secret
                        metadata: {name: gh-mcp}
                        stringData: {token: "%s"}
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: McpServer
                        metadata: {name: docs}
                        spec: {url: "%s", toolPrefix: kb}
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: McpServer
                        metadata: {name: slow}
                        spec: {url: "%s", timeouts: {connect: 1s}}
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: McpServer
                        metadata: {name: dead}
                        spec: {url: "http://127.0.0.1:%d/mcp", timeouts: {connect: 1s}}
                        """.formatted(github.url(), GITHUB_TOKEN, docs.url(), slow.url(), deadPort));
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {gateway, second, github, docs, slow}) {
            if (c != null) {
                c.close();
            }
        }
    }

    static McpSyncClient client(GatewayHarness harness, String key) {
        HttpRequest.Builder requests = HttpRequest.newBuilder().header("Authorization", "Bearer " + key);
        McpSyncClient client = McpClient.sync(HttpClientStreamableHttpTransport.builder(harness.baseUrl()).endpoint("/mcp")
                .requestBuilder(requests).build()).requestTimeout(Duration.ofSeconds(10)).build();
        client.initialize();
        return client;
    }

    @Test
    void listsTheToolsOfEveryServerUnderItsPrefixWithoutWaitingForDeadOrSlowServers() throws Exception {
        try (McpSyncClient client = client(gateway, GatewayHarness.KEY)) {
            long start = System.nanoTime();
            List<String> names = client.listTools().tools().stream().map(McpSchema.Tool::name).toList();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            assertThat(names).containsExactly("github__list_issues", "github__search", "kb__lookup", "kb__slow_lookup");
        }
        String metrics = gateway.http.send(HttpRequest.newBuilder(URI.create(gateway.adminUrl() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("finops_mcp_servers_missing_total{server=\"slow\"}", "finops_mcp_servers_missing_total{server=\"dead\"}");
    }

    @Test
    void aCallReachesItsServerWithThatServersCredentialAndNeverTheClientsKey() throws Exception {
        int before = github.requestHeaders().size();
        try (McpSyncClient client = client(gateway, GatewayHarness.KEY)) {
            McpSchema.CallToolResult result = client.callTool(new McpSchema.CallToolRequest("github__search", Map.of("q", "netty")));
            assertThat(((McpSchema.TextContent) result.content().get(0)).text()).isEqualTo("found netty");
            McpSchema.CallToolResult slowOne = client.callTool(new McpSchema.CallToolRequest("kb__slow_lookup", Map.of()));
            assertThat(((McpSchema.TextContent) slowOne.content().get(0)).text()).isEqualTo("slowly");
        }
        List<Map<String, List<String>>> seen = github.requestHeaders().subList(before, github.requestHeaders().size());
        assertThat(seen).isNotEmpty().allSatisfy(headers -> {
            assertThat(headers.get("Authorization")).containsExactly("Bearer " + GITHUB_TOKEN);
            assertThat(headers.toString()).doesNotContain(GatewayHarness.KEY);
        });
        String metrics = gateway.http.send(HttpRequest.newBuilder(URI.create(gateway.adminUrl() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("finops_mcp_tool_calls_total{outcome=\"ok\",server=\"github\",tool=\"search\",virtual_key=\"dev\"} 1.0");
    }

    @Test
    void aKeySeesOnlyWhatItsAllowListsGrantAndAForbiddenCallIsNeverForwarded() {
        try (McpSyncClient client = client(gateway, DOCS_ONLY_KEY)) {
            assertThat(client.listTools().tools()).extracting(McpSchema.Tool::name).containsExactly("kb__lookup");
            assertThat(((McpSchema.TextContent) client.callTool(new McpSchema.CallToolRequest("kb__lookup", Map.of("topic", "mcp")))
                    .content().get(0)).text()).isEqualTo("the docs say mcp");
            int calls = github.called().size();
            assertThatThrownBy(() -> client.callTool(new McpSchema.CallToolRequest("github__search", Map.of("q", "x"))))
                    .isInstanceOf(McpError.class).hasMessageContaining("unknown tool: github__search");
            assertThatThrownBy(() -> client.callTool(new McpSchema.CallToolRequest("kb__slow_lookup", Map.of())))
                    .isInstanceOf(McpError.class);
            assertThat(github.called()).hasSize(calls);
        }
        try (McpSyncClient client = client(gateway, GatewayHarness.KEY)) {
            int calls = github.called().size();
            assertThatThrownBy(() -> client.callTool(new McpSchema.CallToolRequest("github__delete_repo", Map.of())))
                    .isInstanceOf(McpError.class).hasMessageContaining("unknown tool");
            assertThat(github.called()).hasSize(calls);
        }
    }

    @Test
    void toolCallsCountAgainstTheKeysRequestsPerMinuteAndARefusedOneIsNeverForwarded() throws Exception {
        try (AccessLines access = new AccessLines(); McpSyncClient client = client(gateway, LIMITED_KEY)) {
            int calls = docs.called().size();
            for (int i = 0; i < 2; i++) {
                assertThat(((McpSchema.TextContent) client.callTool(new McpSchema.CallToolRequest("kb__lookup", Map.of("topic", "t")))
                        .content().get(0)).text()).isEqualTo("the docs say t");
            }
            assertThatThrownBy(() -> client.callTool(new McpSchema.CallToolRequest("kb__lookup", Map.of("topic", "t"))))
                    .isInstanceOf(McpError.class).hasMessageContaining("virtual key \"limited\" may use 2 requests per minute; try again in");
            assertThat(client.listTools().tools()).as("listing is not a call").isNotEmpty();
            assertThat(docs.called()).hasSize(calls + 2);
            assertThat(access.lines()).filteredOn(line -> "limited".equals(line.get("virtual_key")) && line.containsKey("mcp_tool"))
                    .extracting(line -> line.get("mcp_server") + " " + line.get("mcp_tool") + " " + line.get("outcome"))
                    .containsExactly("docs lookup ok", "docs lookup ok", "docs none rate_limited");
        }
        assertThat(gateway.metrics()).contains("finops_mcp_tool_calls_total{outcome=\"rate_limited\",server=\"docs\",tool=\"none\","
                + "virtual_key=\"limited\"} 1.0");
    }

    @Test
    void aSessionStartedOnOneGatewayIsServedByAnotherWithTheSameKey() throws Exception {
        HttpResponse<String> init = post(gateway, GatewayHarness.KEY, null, initialize("2025-06-18"));
        assertThat(init.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(init.body()).path("result").path("protocolVersion").asText()).isEqualTo("2025-06-18");
        String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
        HttpResponse<String> list = post(second, GatewayHarness.KEY, session, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(list.body()).path("result").path("tools")).hasSize(4);
        // the session belongs to its key: another key's requests do not find it
        assertThat(post(second, DOCS_ONLY_KEY, session, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}").statusCode()).isEqualTo(404);
        // ended with DELETE: gone on that gateway
        HttpResponse<String> delete = gateway.http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/mcp"))
                .header("Authorization", "Bearer " + GatewayHarness.KEY).header("Mcp-Session-Id", session).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(delete.statusCode()).isEqualTo(204);
        HttpResponse<String> after = post(gateway, GatewayHarness.KEY, session, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}");
        assertThat(after.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(after.body()).path("error").path("code").asInt()).isEqualTo(-32001);
    }

    @Test
    void badInputGetsTheAnswersOfTheSpecification() throws Exception {
        assertThat(post(gateway, null, null, initialize("2025-11-25")).statusCode()).isEqualTo(401);
        assertThat(post(gateway, "vk-wrong-0123456789abcdef", null, initialize("2025-11-25")).statusCode()).isEqualTo(401);
        String session = post(gateway, GatewayHarness.KEY, null, initialize("2026-07-28")).headers().firstValue("Mcp-Session-Id").orElseThrow();
        assertThat(error(post(gateway, GatewayHarness.KEY, session, "{not json"))).isEqualTo("400 -32700");
        assertThat(error(post(gateway, GatewayHarness.KEY, session, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]")))
                .isEqualTo("400 -32600");
        assertThat(error(post(gateway, GatewayHarness.KEY, session, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}")))
                .isEqualTo("400 -32600");
        assertThat(error(post(gateway, GatewayHarness.KEY, session, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\"}")))
                .isEqualTo("200 -32601");
        assertThat(error(post(gateway, GatewayHarness.KEY, null, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}"))).isEqualTo("400 -32600");
        assertThat(error(post(gateway, GatewayHarness.KEY, "not-a-session", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}")))
                .isEqualTo("404 -32001");
        assertThat(error(post(gateway, GatewayHarness.KEY, session, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
                + "\"params\":{\"cursor\":\"bogus\"}}"))).isEqualTo("200 -32602");
        assertThat(post(gateway, GatewayHarness.KEY, session, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}").statusCode())
                .isEqualTo(202);
        HttpResponse<String> ping = post(gateway, GatewayHarness.KEY, session, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
        assertThat(ping.body()).isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"result\":{}}");
        HttpResponse<String> huge = post(gateway, GatewayHarness.KEY, session, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
                + "\"params\":{\"name\":\"kb__lookup\",\"arguments\":{\"topic\":\"" + "x".repeat(2 * 1024 * 1024) + "\"}}}");
        assertThat(huge.statusCode()).isEqualTo(413);
        HttpResponse<String> get = gateway.http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/mcp"))
                .header("Authorization", "Bearer " + GatewayHarness.KEY).header("Accept", "text/event-stream").GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(get.statusCode()).as("a server-to-client stream needs a session").isEqualTo(400);
        assertThat(post(gateway, GatewayHarness.KEY, null, initialize("2025-11-25"), "Origin", "https://evil.example").statusCode())
                .isEqualTo(403);
    }

    @Test
    void aClientThatAcceptsOnlyEventStreamsGetsTheAnswerAsOneEvent() throws Exception {
        HttpResponse<String> init = post(gateway, GatewayHarness.KEY, null, initialize("2025-03-26"), "Accept", "text/event-stream");
        assertThat(init.headers().firstValue("content-type")).hasValue("text/event-stream");
        assertThat(init.body()).startsWith("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":\"2025-03-26\"")
                .endsWith("}\n\n");
    }

    static String initialize(String version) {
        return "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"" + version
                + "\",\"capabilities\":{},\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}}";
    }

    static HttpResponse<String> post(GatewayHarness harness, String key, String session, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(harness.baseUrl() + "/mcp")).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        b.header("Accept", headers.length > 0 && headers[0].equals("Accept") ? headers[1] : "application/json, text/event-stream");
        if (headers.length > 0 && !headers[0].equals("Accept")) {
            b.header(headers[0], headers[1]);
        }
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        if (session != null) {
            b.header("Mcp-Session-Id", session);
        }
        return harness.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** "status code" of a JSON-RPC error answer. */
    static String error(HttpResponse<String> response) throws Exception {
        JsonNode body = JSON.readTree(response.body());
        return response.statusCode() + " " + body.path("error").path("code").asInt();
    }
}

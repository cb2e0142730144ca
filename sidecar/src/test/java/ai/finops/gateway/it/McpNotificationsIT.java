package ai.finops.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.testkit.McpTestServer;
import ai.finops.testkit.McpTestServer.Tool;
import com.fasterxml.jackson.databind.JsonNode;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What MCP servers tell clients through {@code /mcp} unasked, with the official MCP Java SDK client:
 * a call's progress, as SSE events before its answer, under the client's own token; and a changed tool
 * list, on the session's server-to-client stream ({@code GET /mcp}), to a key that may use the server
 * and to no other.
 */
class McpNotificationsIT {
    static final String DOCS_ONLY_KEY = "vk-docs-only-0123456789abcdef";
    static McpTestServer tools;
    static McpTestServer docs;
    static GatewayHarness gateway;

    @BeforeAll
    static void start() throws Exception {
        tools = McpTestServer.start(Tool.withProgress("build", 3, Duration.ofMillis(20)), Tool.of("first", args -> "1"),
                Tool.slow("sleep", args -> "slept", Duration.ofSeconds(30)));
        docs = McpTestServer.start(Tool.of("lookup", args -> "looked up"));
        gateway = new GatewayHarness().write("keys.yaml", GatewayHarness.keyAndSecrets() + """
                ---
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: docs-only}
                spec:
                  secretRef: {name: vk-docs-only}
                  allow: {mcpServers: [docs]}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: vk-docs-only}
                stringData: {token: "%s"}
                """.formatted(DOCS_ONLY_KEY)).write("mcp.yaml", """
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: tools}
                spec: {url: "%s"}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: docs}
                spec: {url: "%s"}
                """.formatted(tools.url(), docs.url())).start();
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {gateway, tools, docs}) {
            if (c != null) {
                c.close();
            }
        }
    }

    static McpClient.SyncSpec spec(String key) {
        HttpRequest.Builder requests = HttpRequest.newBuilder().header("Authorization", "Bearer " + key);
        return McpClient.sync(HttpClientStreamableHttpTransport.builder(gateway.baseUrl()).endpoint("/mcp").requestBuilder(requests).build())
                .requestTimeout(Duration.ofSeconds(10));
    }

    @Test
    void aCallsProgressReachesTheClientUnderItsOwnTokenBeforeTheAnswer() {
        List<McpSchema.ProgressNotification> progress = new CopyOnWriteArrayList<>();
        try (McpSyncClient client = spec(GatewayHarness.KEY).progressConsumer(progress::add).build()) {
            client.initialize();
            McpSchema.CallToolResult result = client.callTool(new McpSchema.CallToolRequest("tools__build", Map.of(),
                    Map.of("progressToken", "my-build-1")));
            assertThat(((McpSchema.TextContent) result.content().get(0)).text()).isEqualTo("done");
            // the events came before the answer on the same stream, so they are all here once it is
            assertThat(progress).extracting(McpSchema.ProgressNotification::progress).containsExactly(1.0, 2.0, 3.0);
            assertThat(progress).extracting(McpSchema.ProgressNotification::progressToken).containsOnly("my-build-1");
            assertThat(progress.get(0).message()).isEqualTo("step 1 of 3");
        }
    }

    @Test
    void aClientThatTakesNoEventStreamGetsTheAnswerAloneAndTheServerNoTokenOfItsOwn() throws Exception {
        String session = McpIT.post(gateway, GatewayHarness.KEY, null, McpIT.initialize("2025-11-25")).headers()
                .firstValue("Mcp-Session-Id").orElseThrow();
        HttpResponse<String> call = gateway.http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/mcp"))
                .header("Authorization", "Bearer " + GatewayHarness.KEY).header("Mcp-Session-Id", session)
                .header("Content-Type", "application/json").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"tools__build","arguments":{},
                         "_meta":{"progressToken":"mine"}}}""")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(call.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(McpIT.JSON.readTree(call.body()).path("result").path("content").path(0).path("text").asText()).isEqualTo("done");
    }

    @Test
    void aCancelledCallIsGivenUpHereAndCancelledUpstreamUnderTheIdItWentThereWith() throws Exception {
        String session = McpIT.post(gateway, GatewayHarness.KEY, null, McpIT.initialize("2025-11-25")).headers()
                .firstValue("Mcp-Session-Id").orElseThrow();
        CompletableFuture<HttpResponse<String>> call = gateway.http.sendAsync(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/mcp"))
                .header("Authorization", "Bearer " + GatewayHarness.KEY).header("Mcp-Session-Id", session)
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"jsonrpc\":\"2.0\",\"id\":\"call-9\",\"method\":\"tools/call\",\"params\":{\"name\":\"tools__sleep\",\"arguments\":{}}}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        // the server records the name, then the id: both are there once the lists are as long
        await().atMost(Duration.ofSeconds(10)).until(() -> tools.called().contains("sleep") && tools.callIds().size() == tools.called().size());
        JsonNode upstreamId = tools.callIds().get(tools.called().indexOf("sleep"));

        HttpResponse<String> cancel = McpIT.post(gateway, GatewayHarness.KEY, session, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                + "\"params\":{\"requestId\":\"call-9\",\"reason\":\"the user gave up\"}}");
        assertThat(cancel.statusCode()).isEqualTo(202);
        HttpResponse<String> answer = call.get(10, TimeUnit.SECONDS);
        assertThat(McpIT.JSON.readTree(answer.body()).path("error").path("code").asInt()).as("the answer the client ignores").isEqualTo(-32800);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(tools.notifications())
                .filteredOn(n -> n.path("method").asText().equals("notifications/cancelled"))
                .extracting(n -> n.path("params"))
                .containsExactly(McpIT.JSON.createObjectNode().put("reason", "the user gave up").set("requestId", upstreamId)));
    }

    @Test
    void aChangedToolListReachesTheStreamsOfTheKeysThatMayUseTheServer() {
        List<List<McpSchema.Tool>> seen = new CopyOnWriteArrayList<>();
        List<List<McpSchema.Tool>> seenByDocsOnly = new CopyOnWriteArrayList<>();
        try (McpSyncClient client = spec(GatewayHarness.KEY).toolsChangeConsumer(seen::add).build();
                McpSyncClient docsOnly = spec(DOCS_ONLY_KEY).toolsChangeConsumer(seenByDocsOnly::add).build()) {
            client.initialize();
            docsOnly.initialize();
            assertThat(client.listTools().tools()).extracting(McpSchema.Tool::name).doesNotContain("tools__added");
            docsOnly.listTools();
            // the gateway's upstream session has its own server-to-client stream open before the change
            await().atMost(Duration.ofSeconds(10)).until(() -> tools.openStreams() > 0);
            tools.addTool(Tool.of("added", args -> "new"));
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(seen).isNotEmpty()
                    .last().satisfies(list -> assertThat(list).extracting(McpSchema.Tool::name).contains("tools__added", "docs__lookup")));
            // the other key's stream heard nothing: a change of docs' tools reaches it, and that is all it saw
            await().atMost(Duration.ofSeconds(10)).until(() -> docs.openStreams() > 0);
            docs.addTool(Tool.of("lookup2", args -> "again"));
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(seenByDocsOnly).hasSize(1)
                    .last().satisfies(list -> assertThat(list).extracting(McpSchema.Tool::name).containsExactly("docs__lookup", "docs__lookup2")));
        }
    }
}

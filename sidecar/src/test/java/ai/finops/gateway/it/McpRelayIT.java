package ai.finops.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import ai.finops.gateway.Gateway;
import ai.finops.testkit.McpTestServer;
import ai.finops.testkit.McpTestServer.Tool;
import ai.finops.testkit.NettyLeakDetector;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code /mcp} in via-gateway mode: the official MCP Java SDK client talks to the injected sidecar's relay
 * ({@code --relay-to}) with no credential, as a pod's Claude Code does against {@code http://127.0.0.1:4000/mcp};
 * the relay adds the pod's virtual key and the shared gateway behind it lists and calls the tools that key may
 * use, counted under it, while the MCP server sees the server's own credential only.
 */
@ExtendWith(NettyLeakDetector.class)
class McpRelayIT {
    /** The pod's own VirtualKey ("pod" at the shared gateway), which the relay adds to requests without a credential. */
    static final String POD_KEY = "vk-pod-mcp-fedcba9876543210";
    static final String SERVER_TOKEN = "docs-upstream-credential";

    static McpTestServer docs;
    static GatewayHarness shared;
    static Gateway relay;

    @BeforeAll
    static void start() throws Exception {
        docs = McpTestServer.start(Tool.of("lookup", args -> "the docs say " + args.path("topic").asText()),
                Tool.withProgress("index", 2, Duration.ofMillis(20)));
        shared = new GatewayHarness().write("keys.yaml", GatewayHarness.keyAndSecrets() + """
                ---
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: pod}
                spec: {secretRef: {name: vk-pod}}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: vk-pod}
                stringData: {token: "%s"}
                """.formatted(POD_KEY)).write("mcp.yaml", """
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: docs}
                spec: {url: "%s", auth: {secretRef: {name: docs-mcp}}}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: docs-mcp}
                stringData: {token: "%s"}
                """.formatted(docs.url(), SERVER_TOKEN)).start();
        relay = Gateway.relay(URI.create(shared.baseUrl()), POD_KEY, "127.0.0.1", null, 0, 0);
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {relay, shared, docs}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void theSdkClientListsAndCallsToolsThroughTheRelayWithThePodsKey() throws Exception {
        List<McpSchema.ProgressNotification> progress = new CopyOnWriteArrayList<>();
        // no credential of its own: the relay adds the pod's key, as the injected sidecar does
        McpSyncClient client = McpClient.sync(HttpClientStreamableHttpTransport.builder("http://127.0.0.1:" + relay.apiPort())
                .endpoint("/mcp").build()).requestTimeout(Duration.ofSeconds(10)).progressConsumer(progress::add).build();
        try (client) {
            client.initialize();
            assertThat(client.listTools().tools()).extracting(McpSchema.Tool::name).containsExactly("docs__index", "docs__lookup");
            McpSchema.CallToolResult result = client.callTool(new McpSchema.CallToolRequest("docs__lookup", Map.of("topic", "relays")));
            assertThat(((McpSchema.TextContent) result.content().get(0)).text()).isEqualTo("the docs say relays");
            // an answer streamed as SSE (the call's progress, then its result) passes the relay too
            McpSchema.CallToolResult streamed = client.callTool(McpSchema.CallToolRequest.builder().name("docs__index")
                    .arguments(Map.of()).progressToken("p-1").build());
            assertThat(((McpSchema.TextContent) streamed.content().get(0)).text()).isEqualTo("done");
            assertThat(progress).extracting(McpSchema.ProgressNotification::progressToken, McpSchema.ProgressNotification::progress)
                    .containsExactly(tuple("p-1", 1.0), tuple("p-1", 2.0));
        }
        assertThat(docs.called()).containsExactly("lookup", "index");
        assertThat(docs.requestHeaders()).isNotEmpty().allSatisfy(headers -> {
            assertThat(headers.get("Authorization")).containsExactly("Bearer " + SERVER_TOKEN);
            assertThat(headers.toString()).doesNotContain(POD_KEY);
        });
        assertThat(shared.metrics()).contains(
                "finops_mcp_tool_calls_total{outcome=\"ok\",server=\"docs\",tool=\"lookup\",virtual_key=\"pod\"} 1.0",
                "finops_mcp_tool_calls_total{outcome=\"ok\",server=\"docs\",tool=\"index\",virtual_key=\"pod\"} 1.0");
    }
}

package ai.finops.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ai.finops.testkit.McpTestServer;
import ai.finops.testkit.McpTestServer.Tool;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A reload of the McpServers: the upstream session of a server removed, or whose URL changed, is ended
 * ({@code DELETE}) and a call in flight to it fails at once, and the new URL serves the next requests; a change of what the gateway does around a
 * connection (tool globs, price) keeps the server's session.
 */
class McpReloadIT {
    static McpTestServer first;
    static McpTestServer second;
    static McpTestServer removed;
    static GatewayHarness gateway;

    @BeforeAll
    static void start() throws Exception {
        first = McpTestServer.start(Tool.of("where", args -> "first"));
        second = McpTestServer.start(Tool.of("where", args -> "second"), Tool.of("hidden", args -> "hidden"));
        removed = McpTestServer.start(Tool.of("bye", args -> "bye"), Tool.slow("wait", args -> "waited", Duration.ofSeconds(30)));
        gateway = new GatewayHarness().write("keys.yaml", GatewayHarness.keyAndSecrets()).write("mcp.yaml", servers(first.url(), "[]") + """
                ---
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: removed}
                spec: {url: "%s"}
                """.formatted(removed.url())).start();
    }

    static String servers(String url, String deny) {
        return """
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: moving}
                spec: {url: "%s", tools: {deny: %s}}
                """.formatted(url, deny);
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {gateway, first, second, removed}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void aRemovedOrMovedServersSessionIsEndedAndTheNewSettingsServe() throws Exception {
        try (McpSyncClient client = McpIT.client(gateway, GatewayHarness.KEY)) {
            assertThat(text(client.callTool(new McpSchema.CallToolRequest("moving__where", Map.of())))).isEqualTo("first");
            assertThat(text(client.callTool(new McpSchema.CallToolRequest("removed__bye", Map.of())))).isEqualTo("bye");
            assertThat(first.openSessions()).isEqualTo(1);
            assertThat(removed.openSessions()).isEqualTo(1);
            McpSyncClient waiting = McpIT.client(gateway, GatewayHarness.KEY);
            CompletableFuture<McpSchema.CallToolResult> inFlight = CompletableFuture.supplyAsync(() ->
                    waiting.callTool(new McpSchema.CallToolRequest("removed__wait", Map.of())));
            await().atMost(Duration.ofSeconds(10)).until(() -> removed.called().contains("wait"));

            gateway.write("mcp.yaml", servers(second.url(), "[]"));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertThat(client.listTools().tools()).extracting(McpSchema.Tool::name).containsExactly("moving__hidden", "moving__where");
                assertThat(first.endedSessions()).as("the old URL's session ended").hasSize(1);
                assertThat(removed.endedSessions()).as("the removed server's session ended").hasSize(1);
            });
            assertThat(first.openSessions()).isZero();
            assertThat(removed.openSessions()).isZero();
            assertThatThrownBy(() -> inFlight.get(10, TimeUnit.SECONDS)).as("a call in flight to the removed server ends with it")
                    .hasCauseInstanceOf(McpError.class).hasMessageContaining("MCP server 'removed' failed");
            waiting.close();
            assertThat(text(client.callTool(new McpSchema.CallToolRequest("moving__where", Map.of())))).isEqualTo("second");
            int initialized = initializations(second);

            // the same connection, other tool globs and a price: the session stays
            gateway.write("mcp.yaml", servers(second.url(), "[hidden]").replace("spec: {", "spec: {pricing: {perCallUsd: \"0.01\"}, "));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(client.listTools().tools()).extracting(McpSchema.Tool::name).containsExactly("moving__where"));
            assertThat(text(client.callTool(new McpSchema.CallToolRequest("moving__where", Map.of())))).isEqualTo("second");
            assertThat(second.endedSessions()).isEmpty();
            assertThat(initializations(second)).isEqualTo(initialized);
        }
    }

    static int initializations(McpTestServer server) {
        return (int) server.notifications().stream().filter(n -> n.path("method").asText().equals("notifications/initialized")).count();
    }

    static String text(McpSchema.CallToolResult result) {
        return ((McpSchema.TextContent) result.content().get(0)).text();
    }
}

package ai.finops.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.testkit.McpTestServer;
import ai.finops.testkit.McpTestServer.Tool;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What {@code /mcp} passes on from its servers: a tool result with fields the SDK's schema does not
 * know, exactly as the server sent it; every page of a server's own tool list, served again in the
 * gateway's pages of 100; the tools of a server without a prefix under their own names; and a server that forgot its session, initialized again under the call.
 */
class McpPassThroughIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static ObjectNode richResult;
    static McpTestServer rich;
    static McpTestServer many;
    static McpTestServer plain;
    static GatewayHarness gateway;

    @BeforeAll
    static void start() throws Exception {
        richResult = (ObjectNode) JSON.readTree("""
                {"content":[{"type":"text","text":"42","_meta":{"vendor/trace":"t-1"},"annotations":{"audience":["user"]},"futureField":7}],
                 "structuredContent":{"answer":42,"unit":"widgets"},"isError":false,"_meta":{"vendor/cost":"0.01"},"futureTopLevel":{"x":[1,2]}}""");
        rich = McpTestServer.start(Tool.answering("answer", richResult));
        plain = McpTestServer.start(Tool.of("echo", args -> "echo " + args.path("text").asText()));
        many = McpTestServer.paged(40, IntStream.range(0, 150).mapToObj(i -> Tool.of("t%03d".formatted(i), args -> "ok")).toArray(Tool[]::new));
        gateway = new GatewayHarness().write("keys.yaml", GatewayHarness.keyAndSecrets()).write("mcp.yaml", """
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: rich}
                spec: {url: "%s"}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: many}
                spec: {url: "%s"}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: plain}
                spec: {url: "%s", toolPrefix: ""}
                """.formatted(rich.url(), many.url(), plain.url())).start();
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {gateway, rich, many, plain}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void aToolResultReachesTheClientAsTheServerSentIt() throws Exception {
        String session = McpIT.post(gateway, GatewayHarness.KEY, null, McpIT.initialize("2025-11-25")).headers()
                .firstValue("Mcp-Session-Id").orElseThrow();
        HttpResponse<String> call = McpIT.post(gateway, GatewayHarness.KEY, session,
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"rich__answer\",\"arguments\":{}}}");
        assertThat(JSON.readTree(call.body()).path("result")).isEqualTo(richResult);
    }

    @Test
    void everyPageOfAServersListIsServedInPagesOfAHundred() {
        try (McpSyncClient client = McpIT.client(gateway, GatewayHarness.KEY)) {
            List<String> names = new ArrayList<>();
            McpSchema.ListToolsResult page = client.listTools(null);
            names.addAll(page.tools().stream().map(McpSchema.Tool::name).toList());
            assertThat(page.tools()).hasSize(100);
            page = client.listTools(page.nextCursor());
            names.addAll(page.tools().stream().map(McpSchema.Tool::name).toList());
            assertThat(page.nextCursor()).isNull();
            assertThat(names).hasSize(152).contains("many__t000", "many__t149", "rich__answer", "echo").doesNotHaveDuplicates();
        }
    }

    @Test
    void aServerWithoutAPrefixIsCalledUnderItsToolsOwnNames() {
        try (McpSyncClient client = McpIT.client(gateway, GatewayHarness.KEY)) {
            McpSchema.CallToolResult result = client.callTool(new McpSchema.CallToolRequest("echo", Map.of("text", "hi")));
            assertThat(((McpSchema.TextContent) result.content().get(0)).text()).isEqualTo("echo hi");
            assertThat(plain.called()).containsExactly("echo");
        }
    }

    @Test
    void aServerThatForgotTheSessionIsInitializedAgainUnderTheCall() {
        try (McpSyncClient client = McpIT.client(gateway, GatewayHarness.KEY)) {
            client.callTool(new McpSchema.CallToolRequest("many__t001", Map.of()));
            many.forgetSessions();
            McpSchema.CallToolResult result = client.callTool(new McpSchema.CallToolRequest("many__t002", Map.of()));
            assertThat(((McpSchema.TextContent) result.content().get(0)).text()).isEqualTo("ok");
        }
    }
}

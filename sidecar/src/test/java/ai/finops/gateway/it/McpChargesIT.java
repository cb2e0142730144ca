package ai.finops.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ai.finops.crds.BudgetPeriod;
import ai.finops.governance.CounterKeys;
import ai.finops.governance.CounterStore.Counter;
import ai.finops.testkit.McpTestServer;
import ai.finops.testkit.McpTestServer.Tool;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A priced McpServer ({@code pricing.perCallUsd}): each call it answers with a result is charged to the key's
 * spend and to every Budget that covers the key and the tool's name; a tool error and a free server's call cost
 * nothing; a call the key's budget has no room for is a JSON-RPC error like the API's 402, never forwarded; and
 * every call that reached its server is a row of {@code GET /usage} (the charged ones also of its FOCUS export).
 */
class McpChargesIT {
    static final String METERED_KEY = "vk-mcp-metered-0123456789";
    static final ObjectMapper JSON = new ObjectMapper();

    static McpTestServer paid;
    static McpTestServer free;
    static GatewayHarness gateway;

    @BeforeAll
    static void start() throws Exception {
        ObjectNode failed = (ObjectNode) JSON.readTree("{\"content\":[{\"type\":\"text\",\"text\":\"no such repo\"}],\"isError\":true}");
        paid = McpTestServer.start(Tool.of("answer", args -> "42"), Tool.answering("broken", failed));
        free = McpTestServer.start(Tool.of("echo", args -> "echo " + args.path("text").asText()));
        gateway = new GatewayHarness().write("keys.yaml", GatewayHarness.keyAndSecrets() + """
                ---
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: metered}
                spec:
                  secretRef: {name: vk-metered}
                  budget: {limitUsd: "0.005"}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: vk-metered}
                stringData: {token: "%s"}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: Budget
                metadata: {name: paid-tools}
                spec:
                  scope: {virtualKeys: [metered], models: ["paid__*"]}
                  limitUsd: "100"
                  period: Monthly
                  action: Warn
                """.formatted(METERED_KEY)).write("mcp.yaml", """
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: paid}
                spec:
                  url: "%s"
                  pricing: {perCallUsd: "0.002"}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: free}
                spec: {url: "%s"}
                """.formatted(paid.url(), free.url())).start();
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {gateway, paid, free}) {
            if (c != null) {
                c.close();
            }
        }
    }

    static long used(Counter c) {
        return gateway.gateway.counters().used(List.of(c), Instant.now()).toCompletableFuture().join().getOrDefault(c.key(), 0L);
    }

    static Counter spend(String kind, String name) {
        return CounterKeys.spend(gateway.governance.namespace(), kind, name, 1, BudgetPeriod.MONTHLY, ZoneOffset.UTC, Instant.now());
    }

    @Test
    void aPricedServersAnsweredCallsAreChargedToTheKeysBudgetsUntilItIsSpent() throws Exception {
        try (McpSyncClient client = McpIT.client(gateway, METERED_KEY)) {
            assertThat(text(client.callTool(new McpSchema.CallToolRequest("paid__answer", Map.of())))).isEqualTo("42");
            assertThat(client.callTool(new McpSchema.CallToolRequest("paid__broken", Map.of())).isError()).as("a tool error").isTrue();
            assertThat(text(client.callTool(new McpSchema.CallToolRequest("free__echo", Map.of("text", "hi"))))).isEqualTo("echo hi");
            assertThat(text(client.callTool(new McpSchema.CallToolRequest("paid__answer", Map.of())))).isEqualTo("42");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(used(spend(CounterKeys.VIRTUAL_KEY, "metered"))).as("two answered calls of $0.002").isEqualTo(4_000);
                assertThat(used(spend(CounterKeys.BUDGET, "paid-tools"))).as("a Budget over the paid tools' names").isEqualTo(4_000);
            });

            // $0.004 spent of $0.005: a third call of $0.002 does not fit, and is never forwarded
            int calls = paid.called().size();
            assertThatThrownBy(() -> client.callTool(new McpSchema.CallToolRequest("paid__answer", Map.of())))
                    .isInstanceOfSatisfying(McpError.class, e -> {
                        assertThat(e.getJsonRpcError().code()).isEqualTo(-32000);
                        assertThat(e.getMessage()).startsWith("the budget of virtual key \"metered\" is exhausted: $0.004 of its $0.005"
                                + " Monthly limit (Z) is spent or reserved, and this tool call costs $0.002; it resets at ");
                        assertThat(JSON.valueToTree(e.getJsonRpcError().data()).toString())
                                .isEqualTo("{\"type\":\"billing_error\",\"status\":402}");
                    });
            assertThat(paid.called()).hasSize(calls);
            assertThat(text(client.callTool(new McpSchema.CallToolRequest("free__echo", Map.of("text", "still"))))).as("a free tool")
                    .isEqualTo("echo still");
        }
        assertThat(used(spend(CounterKeys.VIRTUAL_KEY, "metered"))).as("the refusal charged nothing").isEqualTo(4_000);
        assertThat(gateway.metrics()).contains(
                "finops_mcp_tool_calls_total{outcome=\"over_budget\",server=\"paid\",tool=\"none\",virtual_key=\"metered\"} 1.0");

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode usage = JSON.readTree(gateway.get(gateway.adminUrl() + "/usage?since=1d&virtualKey=metered").body());
            assertThat(StreamSupport.stream(usage.get("rows").spliterator(), false)
                    .map(row -> row.get("provider").asText() + " " + row.get("deployment").asText() + " " + row.get("model").asText()
                            + " " + row.get("requests").asLong() + " " + row.get("costUsd").asText()))
                    .containsExactlyInAnyOrder("mcp paid paid__answer 2 0.004000", "mcp paid paid__broken 1 0.000000",
                            "mcp free free__echo 2 0.000000");
            assertThat(usage.get("totals").get("costUsd").asText()).isEqualTo("0.004000");
        });
        // FOCUS: the charged calls, one row, in requests at the server's price
        List<String> focus = gateway.get(gateway.adminUrl() + "/usage?since=1d&virtualKey=metered&format=focus").body().lines().toList();
        assertThat(focus).hasSize(2);
        List<String> header = List.of(focus.get(0).split(","));
        List<String> row = List.of(focus.get(1).split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", -1));
        assertThat(List.of("BilledCost", "ConsumedQuantity", "ConsumedUnit", "ListUnitPrice", "ResourceId", "ResourceType", "SkuId", "SkuMeter")
                .stream().map(column -> column + "=" + row.get(header.indexOf(column))).toList())
                .containsExactly("BilledCost=0.004000", "ConsumedQuantity=2", "ConsumedUnit=Requests", "ListUnitPrice=0.002", "ResourceId=paid",
                        "ResourceType=McpServer", "SkuId=paid__answer", "SkuMeter=Tool Calls");
    }

    static String text(McpSchema.CallToolResult result) {
        return ((McpSchema.TextContent) result.content().get(0)).text();
    }
}

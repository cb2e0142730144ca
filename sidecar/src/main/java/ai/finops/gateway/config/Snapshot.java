package ai.finops.gateway.config;

import ai.finops.gateway.auth.CompiledBudget;
import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.mcp.McpUpstream;
import ai.finops.gateway.routing.RoutingTable;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Everything a request reads from configuration, compiled once and immutable. A request reads the
 * current snapshot once and keeps it to its end, so a reload never changes a request in flight.
 *
 * @param generation increases with every accepted reload
 * @param keys virtual keys by lower-case hex SHA-256 of their token; each carries its own budget and rate limits
 * @param budgets the Budget resources, by name (a VirtualKey's own budget is on its {@link KeyEntry#budget()})
 * @param mcpServers the McpServers that {@code /mcp} aggregates, by name
 */
public record Snapshot(long generation, Instant loadedAt, GatewaySettings settings, Map<String, KeyEntry> keys, RoutingTable routing,
        List<CompiledBudget> budgets, List<McpUpstream> mcpServers) {

    public Snapshot {
        budgets = List.copyOf(budgets);
        mcpServers = List.copyOf(mcpServers);
    }

    /** A snapshot without Budgets. */
    public Snapshot(long generation, Instant loadedAt, GatewaySettings settings, Map<String, KeyEntry> keys, RoutingTable routing) {
        this(generation, loadedAt, settings, keys, routing, List.of(), List.of());
    }
}

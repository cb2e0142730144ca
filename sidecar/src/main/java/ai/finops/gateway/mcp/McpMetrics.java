package ai.finops.gateway.mcp;

import ai.finops.gateway.observability.AccessLog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * The meters of {@code /mcp}. Tags are bounded: server names come from config, a tool is named only
 * once its server answered for it (else {@value #NONE}), and virtual keys are names from config.
 */
public final class McpMetrics {
    static final String TOOL_CALLS = "finops_mcp_tool_calls";
    static final String TOOL_CALL_DURATION = "finops_mcp_tool_call_duration";
    static final String SERVERS_MISSING = "finops_mcp_servers_missing";
    static final String NONE = "none";

    /** How a tool call ended. */
    enum Outcome {
        /** The server answered a result. */
        OK("ok"),
        /** The server answered a result flagged {@code isError}: the tool failed, the call did not. */
        TOOL_ERROR("tool_error"),
        /** The server answered a JSON-RPC error, or garbage, or the connection failed. */
        UPSTREAM_ERROR("upstream_error"),
        /** The server did not answer within the call timeout. */
        TIMEOUT("timeout"),
        /** Never forwarded: no such tool, or the key may not use it. */
        REFUSED("refused"),
        /** Never forwarded: the key's requestsPerMinute is spent (or the store could not count the call). */
        RATE_LIMITED("rate_limited"),
        /** Never forwarded: a budget that covers the key and the tool has no room for the server's price. */
        OVER_BUDGET("over_budget");

        final String tag;

        Outcome(String tag) {
            this.tag = tag;
        }
    }

    private final MeterRegistry registry;

    public McpMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** A tools/call ended: counted, timed, and written to the access log. */
    void toolCall(String server, String tool, String virtualKey, Outcome outcome, Duration duration) {
        AccessLog.toolCall(virtualKey, server, tool, outcome.tag, duration);
        Counter.builder(TOOL_CALLS).description("MCP tools/call requests through /mcp, by server, tool, virtual key and outcome")
                .tag("server", server).tag("tool", tool).tag("virtual_key", virtualKey).tag("outcome", outcome.tag)
                .register(registry).increment();
        Timer.builder(TOOL_CALL_DURATION).description("MCP tools/call round trips through /mcp, by server and outcome")
                .tag("server", server).tag("outcome", outcome.tag).register(registry).record(duration);
    }

    /** A server left out of a tools/list answer because it failed or did not answer in time. */
    void serverMissing(String server) {
        Counter.builder(SERVERS_MISSING).description("Times an MCP server was left out of a tools/list answer (failed or too slow)")
                .tag("server", server).register(registry).increment();
    }
}

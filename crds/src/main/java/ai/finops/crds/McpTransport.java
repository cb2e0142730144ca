package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * How a gateway talks to an upstream MCP server: streamable HTTP (the default, MCP 2025-03-26 and
 * later) or the legacy HTTP+SSE transport of MCP 2024-11-05.
 */
public enum McpTransport {
    STREAMABLE_HTTP("streamable-http"),
    SSE("sse");

    private final String id;

    McpTransport(String id) {
        this.id = id;
    }

    /** As written in a spec. */
    @JsonValue
    public String id() {
        return id;
    }

    /** The transport spelled exactly {@code id}. */
    public static Optional<McpTransport> fromId(String id) {
        return Arrays.stream(values()).filter(t -> t.id.equals(id)).findFirst();
    }

    /** Every id, in declaration order. */
    public static List<String> ids() {
        return Arrays.stream(values()).map(McpTransport::id).toList();
    }
}

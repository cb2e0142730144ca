package ai.finops.gateway.mcp;

import ai.finops.crds.McpServer;
import ai.finops.crds.McpServerSpec;
import ai.finops.crds.McpTransport;
import ai.finops.crds.validation.Durations;
import ai.finops.crds.validation.Globs;
import ai.finops.crds.validation.Money;
import ai.finops.crds.validation.ResourceValidator;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * An McpServer as a snapshot holds it: validated, defaults filled in, its credential resolved. Two
 * snapshots' upstreams are equal when nothing a connection depends on changed, so a reload that leaves
 * a server alone keeps its connection ({@link UpstreamClients}).
 *
 * @param name the McpServer's name
 * @param prefix what its tools are called behind the gateway: {@code <prefix>__<tool>}; empty: their own names
 * @param url its MCP endpoint
 * @param transport streamable HTTP or the legacy HTTP+SSE
 * @param authHeader the header that carries the credential, or null when it has none
 * @param authValue the header's value (scheme and secret); never printed
 * @param allow globs over its own tool names; empty = every tool
 * @param deny globs over its own tool names never offered
 * @param connectTimeout connecting and initializing; also how long tools/list waits for it
 * @param callTimeout one tool call
 * @param priceMicros what a tool call the server answers with a result costs, in micro-dollars; 0 = free
 */
public record McpUpstream(String name, String prefix, URI url, McpTransport transport, String authHeader, String authValue,
        List<String> allow, List<String> deny, Duration connectTimeout, Duration callTimeout, long priceMicros) {

    public McpUpstream {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
    }

    /** Compiles a validated McpServer; {@code secrets} are Secret name, then key, then value. */
    public static McpUpstream of(McpServer server, Map<String, Map<String, String>> secrets) {
        McpServerSpec spec = server.getSpec();
        String header = null;
        String value = null;
        if (spec.auth != null) {
            header = spec.auth.header != null ? spec.auth.header : ResourceValidator.DEFAULT_MCP_AUTH_HEADER;
            String scheme = spec.auth.scheme != null ? spec.auth.scheme : ResourceValidator.DEFAULT_MCP_AUTH_SCHEME;
            String secret = secrets.getOrDefault(spec.auth.secretRef.name, Map.of()).get(ResourceValidator.mcpCredentialKey(spec.auth));
            value = scheme.isEmpty() ? secret : scheme + " " + secret;
        }
        McpServerSpec.Tools tools = spec.tools != null ? spec.tools : new McpServerSpec.Tools();
        McpServerSpec.Timeouts timeouts = spec.timeouts != null ? spec.timeouts : new McpServerSpec.Timeouts();
        return new McpUpstream(server.getMetadata().getName(), ResourceValidator.toolPrefix(server), URI.create(spec.url),
                spec.transport == null ? McpTransport.STREAMABLE_HTTP : McpTransport.fromId(spec.transport).orElseThrow(),
                header, value, tools.allow == null ? List.of() : tools.allow, tools.deny == null ? List.of() : tools.deny,
                Durations.parse(timeouts.connect != null ? timeouts.connect : ResourceValidator.DEFAULT_MCP_CONNECT_TIMEOUT),
                Durations.parse(timeouts.call != null ? timeouts.call : ResourceValidator.DEFAULT_MCP_CALL_TIMEOUT),
                spec.pricing == null || spec.pricing.perCallUsd == null ? 0 : Money.toMicros(spec.pricing.perCallUsd));
    }

    /**
     * What an upstream session with the server depends on: where it is, how it is reached, its credential, and the
     * timeouts the session applies. Two upstreams of the same connection can share a session.
     */
    record Connection(URI url, McpTransport transport, String authHeader, String authValue, Duration connectTimeout, Duration callTimeout) {
        @Override
        public String toString() {
            // never the credential
            return "Connection[" + url + ", " + transport + "]";
        }
    }

    Connection connection() {
        return new Connection(url, transport, authHeader, authValue, connectTimeout, callTimeout);
    }

    /** Whether the server's tool {@code tool} (its own name) is offered: allowed by a glob (or no globs), denied by none. */
    public boolean offers(String tool) {
        boolean allowed = allow.isEmpty() || allow.stream().anyMatch(glob -> Globs.matches(glob, tool));
        return allowed && deny.stream().noneMatch(glob -> Globs.matches(glob, tool));
    }

    /** The name {@code /mcp} lists the server's tool {@code tool} under. */
    public String prefixed(String tool) {
        return prefix.isEmpty() ? tool : prefix + ResourceValidator.MCP_TOOL_SEPARATOR + tool;
    }

    @Override
    public String toString() {
        // never the credential
        return "McpServer[" + name + ", " + url + "]";
    }
}

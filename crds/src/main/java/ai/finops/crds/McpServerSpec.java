package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;

/**
 * An upstream MCP server. The schema here is what {@code kubectl apply} checks; the full validation
 * (a unique tool prefix per namespace, the Secret's key, durations) is {@link
 * ai.finops.crds.validation.ResourceValidator}. The Secret value named by {@code auth} travels in the
 * gateway's credentials Secret, never in the bundle.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class McpServerSpec {
    /**
     * A tool prefix: letters, digits, '-', '.' and '_' (what MCP allows in a tool name), without "__";
     * or empty, for a server whose tools keep their own names.
     */
    static final String PREFIX = "^([A-Za-z0-9]([-._A-Za-z0-9]*[A-Za-z0-9])?)?$";

    @JsonPropertyDescription("The server's MCP endpoint, such as https://mcp.example.com/mcp.")
    @Required
    @Pattern("^https?://")
    public String url;

    @JsonPropertyDescription("streamable-http (default) | sse (the legacy HTTP+SSE transport).")
    @SchemaFrom(type = McpTransport.class)
    public String transport;

    @JsonPropertyDescription("What the server's tools are called behind the gateway: <toolPrefix>__<tool>; default metadata.name;"
            + " \"\" lists them under their own names (one such server per namespace; a prefixed server's name wins a clash).")
    @Size(max = 63)
    @Pattern(PREFIX)
    public String toolPrefix;

    @JsonPropertyDescription("A Secret value the gateway sends on every request to the server; omitted = none.")
    public Auth auth;

    @JsonPropertyDescription("Which of the server's tools gateways offer, by glob over the server's own tool names.")
    public Tools tools;

    public Timeouts timeouts;

    @JsonPropertyDescription("What a tool call of this server costs, charged to the key's spend and budgets; omitted = free.")
    public Pricing pricing;

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Auth {
        @JsonPropertyDescription("The Secret and its key (default token).")
        @Required
        public SecretKeyRef secretRef;

        @JsonPropertyDescription("The request header that carries it (default Authorization).")
        @Pattern("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
        public String header;

        @JsonPropertyDescription("Written before the value with a space (default Bearer); \"\" sends the value alone.")
        @Pattern("^[!#$%&'*+.^_`|~0-9A-Za-z-]*$")
        public String scheme;
    }

    /** A tool is offered when it matches an {@code allow} glob (empty = every tool) and no {@code deny} glob. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Tools {
        @JsonPropertyDescription("Glob patterns (`*`) over the server's tool names; empty = every tool.")
        public List<String> allow = new ArrayList<>();
        @JsonPropertyDescription("Glob patterns (`*`) of tools never offered, even when allowed.")
        public List<String> deny = new ArrayList<>();
    }

    /** A price per tool call, in US dollars as a decimal string (like a Budget's {@code limitUsd}). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Pricing {
        @JsonPropertyDescription("US dollars per tools/call the server answers with a result, a decimal string such as \"0.002\""
                + " (at most six fractional digits).")
        @Pattern(BudgetSpec.MONEY)
        public String perCallUsd;
    }

    /** Durations such as {@code 5s}, {@code 2m}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Timeouts {
        @JsonPropertyDescription("Connecting and initializing a session with the server; also how long tools/list waits for it (default 5s).")
        public String connect;
        @JsonPropertyDescription("One tools/call (default 120s).")
        public String call;
    }
}

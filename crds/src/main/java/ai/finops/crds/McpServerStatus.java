package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * An McpServer's status: the conditions of {@link ResourceStatus} (the bundle reconciler's) and the
 * number of tools the server listed when last asked, for {@code kubectl get mcps}. The operator never
 * connects to MCP servers, so {@code tools} stays empty until a writer that lists them exists.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
public class McpServerStatus extends ResourceStatus {
    @JsonPropertyDescription("Tools the server listed when last asked, after its allow and deny globs.")
    public Integer tools;
}

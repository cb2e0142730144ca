package ai.finops.crds;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * An upstream MCP server that gateways aggregate on their {@code /mcp} endpoint, its tools named
 * {@code <toolPrefix>__<tool>}. TOOLS is the count of tools last seen ({@link McpServerStatus#tools}).
 */
@Group(Resources.GROUP)
@Version(Resources.VERSION)
@Kind("McpServer")
@AdditionalPrinterColumn(name = "URL", jsonPath = ".spec.url", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Tools", jsonPath = ".status.tools", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@ShortNames("mcps")
public class McpServer extends CustomResource<McpServerSpec, McpServerStatus> implements Namespaced {
    @Override
    protected McpServerStatus initStatus() {
        return new McpServerStatus();
    }
}

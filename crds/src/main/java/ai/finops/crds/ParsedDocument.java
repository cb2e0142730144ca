package ai.finops.crds;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;

/**
 * One YAML document read by {@link ResourceYaml}.
 *
 * <p>{@link #resource()} is a {@link ProviderDeployment}, {@link RoutingRule}, {@link VirtualKey},
 * {@link Budget} or {@link McpServer} for the resources of {@code finops.ai/v1alpha1}; a {@link ResourceYaml.SecretValues} for a
 * {@code v1 Secret}; and the document's {@link JsonNode} for any other kind (such as {@code
 * GatewaySettings}, which the gateway reads itself).
 *
 * @param source the file name (or other source name) given to the reader
 * @param index the document's position in its source, from 0, counting empty documents
 * @param line the 1-based line where the document's content starts
 * @param apiVersion the document's {@code apiVersion}, or null
 * @param kind the document's {@code kind}
 * @param name the document's {@code metadata.name}, or null
 * @param resource the typed value, see above
 * @param tree the document as a tree (for every kind)
 */
public record ParsedDocument(
        String source, int index, int line, String apiVersion, String kind, String name, Object resource, JsonNode tree) {

    /** The resource as {@code type}, when it is one. */
    public <T> Optional<T> as(Class<T> type) {
        return type.isInstance(resource) ? Optional.of(type.cast(resource)) : Optional.empty();
    }

    /** {@code source:line}, for messages. */
    public String location() {
        return source + ":" + line;
    }

    @Override
    public String toString() {
        // the tree of a Secret holds its values: never print it
        return "ParsedDocument[" + location() + " " + kind + "/" + name + "]";
    }
}

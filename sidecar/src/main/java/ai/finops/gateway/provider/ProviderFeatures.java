package ai.finops.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Which Anthropic features a non-native provider accepts, version {@value #VERSION}: the
 * {@code anthropic-beta} values it takes, and for each beta it lacks, the body fields that belong to
 * it and are removed with it (header and fields together, so a request never carries a field whose
 * beta was dropped). Anthropic-native upstreams (Anthropic, Foundry) get everything verbatim and never
 * come here. A provider that still answers "invalid beta flag" gets the request once more without
 * any beta (see {@link #isInvalidBeta}).
 */
public final class ProviderFeatures {
    public static final String VERSION = "2026-11";

    /** Betas Bedrock's InvokeModel accepts for Claude models. */
    public static final Set<String> BEDROCK_BETAS = Set.of(
            "interleaved-thinking-2025-05-14", "context-management-2025-06-27", "effort-2025-11-24",
            "token-efficient-tools-2025-02-19", "fine-grained-tool-streaming-2025-05-14", "output-128k-2025-02-19",
            "context-1m-2025-08-07", "computer-use-2025-01-24", "computer-use-2025-11-24", "tool-search-tool-2025-10-19",
            "tool-examples-2025-10-29");

    /** Body fields that exist only with a beta: removed when the beta is not passed on. */
    static final Map<String, List<String>> FIELDS_OF_BETA = Map.of(
            "context-management-2025-06-27", List.of("context_management"),
            "effort-2025-11-24", List.of("output_config.effort"),
            "advanced-tool-use-2025-11-20", List.of("tools[].defer_loading", "tools[].input_examples", "tools[].allowed_callers"));

    private ProviderFeatures() {}

    /** The client's betas (comma-separated header values, in order, duplicates dropped). */
    public static List<String> betas(List<String> headerValues) {
        Set<String> betas = new LinkedHashSet<>();
        for (String value : headerValues) {
            for (String beta : value.split(",")) {
                if (!beta.isBlank()) {
                    betas.add(beta.trim());
                }
            }
        }
        return List.copyOf(betas);
    }

    /**
     * Keeps the betas {@code accepted} lists and removes from {@code body} the fields of the others;
     * returns the kept betas.
     */
    public static List<String> filter(List<String> betas, Set<String> accepted, ObjectNode body) {
        List<String> kept = betas.stream().filter(accepted::contains).toList();
        // the fields of every beta not passed on go, whether the client sent that beta or only its field
        FIELDS_OF_BETA.forEach((beta, paths) -> {
            if (!kept.contains(beta)) {
                paths.forEach(path -> remove(body, path));
            }
        });
        return kept;
    }

    private static void remove(ObjectNode body, String path) {
        if (path.startsWith("tools[].")) {
            String field = path.substring("tools[].".length());
            if (body.get("tools") instanceof ArrayNode tools) {
                tools.forEach(t -> {
                    if (t instanceof ObjectNode tool) {
                        tool.remove(field);
                    }
                });
            }
            return;
        }
        int dot = path.indexOf('.');
        if (dot < 0) {
            body.remove(path);
            return;
        }
        JsonNode parent = body.get(path.substring(0, dot));
        if (parent instanceof ObjectNode object) {
            object.remove(path.substring(dot + 1));
            if (object.isEmpty()) {
                body.remove(path.substring(0, dot));
            }
        }
    }

    /**
     * Whether a 400 refuses thinking blocks by their signature: a conversation that switched provider
     * carries signatures another provider made (Anthropic, Bedrock and Vertex each sign their own).
     */
    public static boolean isForeignThinking(int status, String body) {
        if (status != 400 || body == null) {
            return false;
        }
        String text = body.toLowerCase(Locale.ROOT);
        return text.contains("signature") && text.contains("thinking");
    }

    /** Server tools (by type prefix) Bedrock does not run for Claude. */
    public static final List<String> BEDROCK_MISSING_SERVER_TOOLS = List.of("web_search_", "web_fetch_", "code_execution_");
    /** Server tools (by type prefix) Vertex does not run for Claude. */
    public static final List<String> VERTEX_MISSING_SERVER_TOOLS = List.of("web_fetch_", "code_execution_");

    /**
     * Refuses, before anything is sent, a server tool the provider does not run, and remote MCP
     * servers, naming the feature and the provider.
     */
    public static void refuseMissingServerTools(ObjectNode body, List<String> missing, String provider) {
        for (JsonNode tool : body.path("tools")) {
            String type = tool.path("type").asText("");
            for (String prefix : missing) {
                if (type.startsWith(prefix)) {
                    throw new ai.finops.gateway.translate.openai.UnsupportedFeature("server tool '" + type + "' is not supported by provider "
                            + provider);
                }
            }
        }
        if (body.has("mcp_servers")) {
            throw new ai.finops.gateway.translate.openai.UnsupportedFeature("mcp_servers (remote MCP through the Messages API) is not supported by provider "
                    + provider);
        }
    }

    /** Whether a 400 says a beta was not accepted: worth one more try without betas. */
    public static boolean isInvalidBeta(int status, String body) {
        return status == 400 && body != null && body.toLowerCase(Locale.ROOT).contains("invalid beta flag");
    }
}

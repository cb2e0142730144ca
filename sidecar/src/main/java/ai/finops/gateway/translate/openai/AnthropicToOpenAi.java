package ai.finops.gateway.translate.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;

/**
 * An Anthropic Messages request as an OpenAI Chat Completions request:
 * <ul>
 *   <li>{@code system} (string or blocks) becomes the first {@code system} message;</li>
 *   <li>user text and images become content parts; each {@code tool_result} becomes a {@code tool}
 *       message, placed before the user's other content, right after the assistant turn that called it;</li>
 *   <li>assistant {@code tool_use} blocks become {@code tool_calls} (arguments as a JSON string);
 *       thinking blocks are dropped (their signatures mean nothing to another provider);</li>
 *   <li>tools become functions ({@code input_schema} as {@code parameters}, names over 64 characters
 *       shortened reversibly); {@code tool_choice} auto/any/tool/none becomes auto/required/function/none;</li>
 *   <li>{@code stop_sequences} becomes {@code stop}; thinking or {@code output_config.effort} becomes
 *       {@code reasoning_effort} where the provider has it; streams ask for usage.</li>
 * </ul>
 * Server tools (web search, code execution, computer use...), documents with citations and MCP
 * servers have no equivalent: {@link UnsupportedFeature}, before anything is sent.
 */
public final class AnthropicToOpenAi {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> CLIENT_TOOL_TYPES = Set.of("custom");

    /** How the target provider differs. */
    public record Target(String provider, boolean maxCompletionTokens, boolean reasoningEffort) {}

    private AnthropicToOpenAi() {}

    public static ObjectNode translate(ObjectNode in, String model, boolean stream, Target target, ToolNames names) {
        ObjectNode out = JSON.createObjectNode();
        out.put("model", model);
        ArrayNode messages = out.putArray("messages");
        String system = text(in.get("system"));
        if (!system.isEmpty()) {
            messages.addObject().put("role", "system").put("content", system);
        }
        for (JsonNode message : in.path("messages")) {
            switch (message.path("role").asText()) {
                case "assistant" -> assistant(message.get("content"), messages, names);
                case "system" -> messages.addObject().put("role", "system").put("content", text(message.get("content")));
                default -> user(message.get("content"), messages, target);
            }
        }
        if (in.has("max_tokens")) {
            out.put(target.maxCompletionTokens() ? "max_completion_tokens" : "max_tokens", in.get("max_tokens").asLong());
        }
        copy(in, out, "temperature", "temperature");
        copy(in, out, "top_p", "top_p");
        if (in.get("stop_sequences") instanceof ArrayNode stops && !stops.isEmpty()) {
            out.set("stop", stops);
        }
        if (stream) {
            out.put("stream", true);
            out.putObject("stream_options").put("include_usage", true);
        }
        tools(in, out, target, names);
        if (target.reasoningEffort()) {
            String effort = in.path("output_config").path("effort").asText(null);
            if (effort == null && "enabled".equals(in.path("thinking").path("type").asText())) {
                long budget = in.path("thinking").path("budget_tokens").asLong(0);
                effort = budget >= 16_000 ? "high" : budget >= 4_000 ? "medium" : "low";
            } else if (effort == null && "adaptive".equals(in.path("thinking").path("type").asText())) {
                effort = "medium";
            }
            if (effort != null) {
                out.put("reasoning_effort", effort.equals("max") ? "high" : effort);
            }
        }
        if (in.has("mcp_servers")) {
            throw new UnsupportedFeature("mcp_servers (remote MCP through the Messages API) is not supported by provider " + target.provider());
        }
        return out;
    }

    private static void tools(ObjectNode in, ObjectNode out, Target target, ToolNames names) {
        if (!(in.get("tools") instanceof ArrayNode tools) || tools.isEmpty()) {
            return;
        }
        ArrayNode functions = out.putArray("tools");
        for (JsonNode tool : tools) {
            String type = tool.path("type").asText("custom");
            if (!CLIENT_TOOL_TYPES.contains(type)) {
                throw new UnsupportedFeature("server tool '" + type + "' (" + tool.path("name").asText() + ") is not supported by provider "
                        + target.provider() + "; only client tools are");
            }
            ObjectNode function = functions.addObject().put("type", "function").putObject("function");
            function.put("name", names.shorten(tool.path("name").asText()));
            if (tool.hasNonNull("description")) {
                function.put("description", tool.get("description").asText());
            }
            function.set("parameters", tool.has("input_schema") ? tool.get("input_schema") : JSON.createObjectNode().put("type", "object"));
        }
        JsonNode choice = in.get("tool_choice");
        if (choice != null) {
            switch (choice.path("type").asText()) {
                case "any" -> out.put("tool_choice", "required");
                case "none" -> out.put("tool_choice", "none");
                case "tool" -> out.putObject("tool_choice").put("type", "function").putObject("function")
                        .put("name", names.shorten(choice.path("name").asText()));
                default -> out.put("tool_choice", "auto");
            }
            if (choice.path("disable_parallel_tool_use").asBoolean(false)) {
                out.put("parallel_tool_calls", false);
            }
        }
    }

    private static void user(JsonNode content, ArrayNode messages, Target target) {
        if (content == null || content.isTextual()) {
            messages.addObject().put("role", "user").put("content", content == null ? "" : content.asText());
            return;
        }
        ArrayNode parts = JSON.createArrayNode();
        for (JsonNode block : content) {
            switch (block.path("type").asText()) {
                case "text" -> parts.addObject().put("type", "text").put("text", block.path("text").asText());
                case "image" -> parts.addObject().put("type", "image_url").putObject("image_url").put("url", imageUrl(block.path("source"), target));
                case "tool_result" -> messages.addObject().put("role", "tool").put("tool_call_id", block.path("tool_use_id").asText())
                        .put("content", toolResultText(block));
                case "document" -> throw new UnsupportedFeature("document blocks (PDF and citations) are not supported by provider " + target.provider());
                default -> { }   // thinking, redacted_thinking, server tool results: nothing the provider can take
            }
        }
        if (!parts.isEmpty()) {
            ObjectNode user = messages.addObject().put("role", "user");
            if (parts.size() == 1 && "text".equals(parts.get(0).path("type").asText())) {
                user.put("content", parts.get(0).path("text").asText());
            } else {
                user.set("content", parts);
            }
        }
    }

    private static void assistant(JsonNode content, ArrayNode messages, ToolNames names) {
        ObjectNode assistant = messages.addObject().put("role", "assistant");
        if (content == null || content.isTextual()) {
            assistant.put("content", content == null ? "" : content.asText());
            return;
        }
        StringBuilder text = new StringBuilder();
        ArrayNode calls = null;
        for (JsonNode block : content) {
            switch (block.path("type").asText()) {
                case "text" -> text.append(block.path("text").asText());
                case "tool_use" -> {
                    if (calls == null) {
                        calls = assistant.putArray("tool_calls");
                    }
                    calls.addObject().put("id", block.path("id").asText()).put("type", "function").putObject("function")
                            .put("name", names.shorten(block.path("name").asText()))
                            .put("arguments", block.has("input") ? block.get("input").toString() : "{}");
                }
                default -> { }
            }
        }
        if (text.length() > 0 || calls == null) {
            assistant.put("content", text.toString());
        } else {
            assistant.putNull("content");
        }
    }

    private static String imageUrl(JsonNode source, Target target) {
        return switch (source.path("type").asText()) {
            case "base64" -> "data:" + source.path("media_type").asText() + ";base64," + source.path("data").asText();
            case "url" -> source.path("url").asText();
            default -> throw new UnsupportedFeature("image source '" + source.path("type").asText() + "' is not supported by provider " + target.provider());
        };
    }

    private static String toolResultText(JsonNode block) {
        JsonNode content = block.get("content");
        String text = content == null ? "" : content.isTextual() ? content.asText() : text(content);
        return block.path("is_error").asBoolean(false) ? "Error: " + text : text;
    }

    /** The text of a string or of text blocks, joined with blank lines. */
    static String text(JsonNode node) {
        if (node == null || node.isNull()) {
            return "";
        }
        if (node.isTextual()) {
            return node.asText();
        }
        StringBuilder sb = new StringBuilder();
        for (JsonNode block : node) {
            if ("text".equals(block.path("type").asText())) {
                if (sb.length() > 0) {
                    sb.append("\n\n");
                }
                sb.append(block.path("text").asText());
            }
        }
        return sb.toString();
    }

    private static void copy(ObjectNode in, ObjectNode out, String from, String to) {
        if (in.has(from)) {
            out.set(to, in.get(from));
        }
    }
}

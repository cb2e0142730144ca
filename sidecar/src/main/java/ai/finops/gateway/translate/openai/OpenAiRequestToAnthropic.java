package ai.finops.gateway.translate.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * An OpenAI Chat Completions request, from an OpenAI client, as an Anthropic Messages request:
 * {@code system}/{@code developer} messages become {@code system}; {@code tool_calls} become
 * {@code tool_use} blocks (arguments parsed); consecutive {@code tool} messages become one user turn
 * of {@code tool_result} blocks; images ({@code data:} URLs and plain URLs) become image blocks;
 * {@code max_completion_tokens}/{@code max_tokens}, {@code stop}, tools, {@code tool_choice},
 * {@code parallel_tool_calls} and {@code reasoning_effort} (as a thinking budget) are mapped.
 * What has no equivalent ({@code n > 1}, {@code response_format}) is a 400.
 */
public final class OpenAiRequestToAnthropic {
    /** Anthropic requires max_tokens; OpenAI clients often leave it out. */
    static final int DEFAULT_MAX_TOKENS = 4096;

    private OpenAiRequestToAnthropic() {}

    /** Thrown for a request the gateway cannot express for an Anthropic provider. */
    public static final class Invalid extends Exception {
        public Invalid(String message) {
            super(message, null, false, false);
        }
    }

    public static ObjectNode translate(JsonNode in) throws Invalid {
        if (in == null || !in.isObject()) {
            throw new Invalid("request body must be a JSON object");
        }
        if (!in.path("model").isTextual()) {
            throw new Invalid("model: must be a string");
        }
        if (in.path("n").asInt(1) != 1) {
            throw new Invalid("n: only 1 choice is supported");
        }
        if (in.has("response_format") && !"text".equals(in.path("response_format").path("type").asText("text"))) {
            throw new Invalid("response_format: only text is supported");
        }
        ObjectNode out = AnthropicToOpenAi.JSON.createObjectNode();
        out.put("model", in.get("model").asText());
        StringBuilder system = new StringBuilder();
        ArrayNode messages = out.putArray("messages");
        ArrayNode pendingResults = null;
        for (JsonNode m : in.path("messages")) {
            String role = m.path("role").asText();
            if (!role.equals("tool") && pendingResults != null) {
                pendingResults = null;
            }
            switch (role) {
                case "system", "developer" -> {
                    if (system.length() > 0) {
                        system.append("\n\n");
                    }
                    system.append(text(m.get("content")));
                }
                case "user" -> messages.addObject().put("role", "user").set("content", userContent(m.get("content")));
                case "assistant" -> messages.add(assistant(m));
                case "tool" -> {
                    if (pendingResults == null) {
                        pendingResults = messages.addObject().put("role", "user").putArray("content");
                    }
                    pendingResults.addObject().put("type", "tool_result").put("tool_use_id", m.path("tool_call_id").asText())
                            .put("content", text(m.get("content")));
                }
                default -> throw new Invalid("messages: unsupported role '" + role + "'");
            }
        }
        if (system.length() > 0) {
            out.put("system", system.toString());
        }
        long maxTokens = in.has("max_completion_tokens") ? in.get("max_completion_tokens").asLong()
                : in.has("max_tokens") ? in.get("max_tokens").asLong() : DEFAULT_MAX_TOKENS;
        out.put("max_tokens", maxTokens);
        if (in.has("temperature")) {
            out.set("temperature", in.get("temperature"));
        }
        if (in.has("top_p")) {
            out.set("top_p", in.get("top_p"));
        }
        JsonNode stop = in.get("stop");
        if (stop != null && stop.isTextual()) {
            out.putArray("stop_sequences").add(stop.asText());
        } else if (stop != null && stop.isArray()) {
            out.set("stop_sequences", stop);
        }
        if (in.path("stream").asBoolean(false)) {
            out.put("stream", true);
        }
        if (in.path("user").isTextual()) {
            out.putObject("metadata").put("user_id", in.get("user").asText());
        }
        tools(in, out);
        String effort = in.path("reasoning_effort").asText(null);
        if (effort != null && !effort.equals("none") && !effort.equals("minimal")) {
            long budget = switch (effort) {
                case "low" -> 1024;
                case "high" -> 16_000;
                default -> 4096;
            };
            if (budget < maxTokens) {
                out.putObject("thinking").put("type", "enabled").put("budget_tokens", budget);
            }
        }
        return out;
    }

    private static void tools(JsonNode in, ObjectNode out) throws Invalid {
        if (in.get("tools") instanceof ArrayNode tools && !tools.isEmpty()) {
            ArrayNode outTools = out.putArray("tools");
            for (JsonNode tool : tools) {
                if (!"function".equals(tool.path("type").asText("function"))) {
                    throw new Invalid("tools: only function tools are supported, got '" + tool.path("type").asText() + "'");
                }
                JsonNode f = tool.path("function");
                ObjectNode t = outTools.addObject().put("name", f.path("name").asText());
                if (f.hasNonNull("description")) {
                    t.put("description", f.get("description").asText());
                }
                t.set("input_schema", f.has("parameters") ? f.get("parameters") : AnthropicToOpenAi.JSON.createObjectNode().put("type", "object"));
            }
        }
        JsonNode choice = in.get("tool_choice");
        boolean parallel = in.path("parallel_tool_calls").asBoolean(true);
        ObjectNode toolChoice = null;
        if (choice != null && choice.isTextual()) {
            toolChoice = AnthropicToOpenAi.JSON.createObjectNode().put("type", switch (choice.asText()) {
                case "required" -> "any";
                case "none" -> "none";
                default -> "auto";
            });
        } else if (choice != null && choice.isObject()) {
            toolChoice = AnthropicToOpenAi.JSON.createObjectNode().put("type", "tool").put("name", choice.path("function").path("name").asText());
        } else if (!parallel && out.has("tools")) {
            toolChoice = AnthropicToOpenAi.JSON.createObjectNode().put("type", "auto");
        }
        if (toolChoice != null) {
            if (!parallel && !"none".equals(toolChoice.path("type").asText())) {
                toolChoice.put("disable_parallel_tool_use", true);
            }
            out.set("tool_choice", toolChoice);
        }
    }

    private static JsonNode userContent(JsonNode content) throws Invalid {
        if (content == null || content.isTextual()) {
            return AnthropicToOpenAi.JSON.getNodeFactory().textNode(content == null ? "" : content.asText());
        }
        ArrayNode blocks = AnthropicToOpenAi.JSON.createArrayNode();
        for (JsonNode part : content) {
            switch (part.path("type").asText()) {
                case "text" -> blocks.addObject().put("type", "text").put("text", part.path("text").asText());
                case "image_url" -> {
                    String url = part.path("image_url").path("url").asText();
                    ObjectNode image = blocks.addObject().put("type", "image");
                    if (url.startsWith("data:")) {
                        int semi = url.indexOf(';');
                        int comma = url.indexOf(',');
                        if (semi < 0 || comma < semi) {
                            throw new Invalid("image_url: malformed data URL");
                        }
                        image.putObject("source").put("type", "base64").put("media_type", url.substring(5, semi)).put("data", url.substring(comma + 1));
                    } else {
                        image.putObject("source").put("type", "url").put("url", url);
                    }
                }
                default -> throw new Invalid("messages: unsupported content part '" + part.path("type").asText() + "'");
            }
        }
        return blocks;
    }

    private static ObjectNode assistant(JsonNode m) throws Invalid {
        ObjectNode out = AnthropicToOpenAi.JSON.createObjectNode().put("role", "assistant");
        ArrayNode blocks = out.putArray("content");
        String text = text(m.get("content"));
        if (!text.isEmpty()) {
            blocks.addObject().put("type", "text").put("text", text);
        }
        for (JsonNode call : m.path("tool_calls")) {
            JsonNode args = call.path("function").get("arguments");
            JsonNode input;
            try {
                input = args == null || args.isNull() || args.asText().isBlank() ? AnthropicToOpenAi.JSON.createObjectNode()
                        : args.isObject() ? args : AnthropicToOpenAi.JSON.readTree(args.asText());
            } catch (IOException e) {
                throw new Invalid("messages: tool call " + call.path("id").asText() + " has arguments that are not JSON");
            }
            blocks.addObject().put("type", "tool_use").put("id", call.path("id").asText()).put("name", call.path("function").path("name").asText())
                    .set("input", input);
        }
        if (blocks.isEmpty()) {
            blocks.addObject().put("type", "text").put("text", "");
        }
        return out;
    }

    private static String text(JsonNode content) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : content) {
            if ("text".equals(part.path("type").asText())) {
                sb.append(part.path("text").asText());
            }
        }
        return sb.toString();
    }
}

package ai.finops.gateway.translate.openai;

import ai.finops.gateway.dialect.ErrorResponses;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** An OpenAI chat completion (not streamed), and an OpenAI error, in Anthropic's form. */
public final class OpenAiToAnthropic {
    private OpenAiToAnthropic() {}

    /** The Anthropic Messages response for a chat completion; tool arguments that are not a JSON object are an error. */
    public static byte[] message(byte[] completion, ToolNames names) throws IOException {
        JsonNode in = AnthropicToOpenAi.JSON.readTree(completion);
        ObjectNode out = AnthropicToOpenAi.JSON.createObjectNode();
        out.put("id", "msg_" + in.path("id").asText("gateway")).put("type", "message").put("role", "assistant");
        ArrayNode content = out.putArray("content");
        JsonNode choice = in.path("choices").path(0);
        JsonNode message = choice.path("message");
        if (message.path("content").isTextual() && !message.path("content").asText().isEmpty()) {
            content.addObject().put("type", "text").put("text", message.path("content").asText());
        }
        for (JsonNode call : message.path("tool_calls")) {
            JsonNode arguments = call.path("function").get("arguments");
            JsonNode input;
            if (arguments == null || arguments.isNull() || arguments.isTextual() && arguments.asText().isBlank()) {
                input = AnthropicToOpenAi.JSON.createObjectNode();
            } else if (arguments.isObject()) {
                input = arguments;
            } else {
                input = AnthropicToOpenAi.JSON.readTree(arguments.asText());
                if (!input.isObject()) {
                    throw new IOException("tool call arguments are not a JSON object: " + arguments.asText());
                }
            }
            ObjectNode block = content.addObject().put("type", "tool_use").put("id", call.path("id").asText())
                    .put("name", names.restore(call.path("function").path("name").asText()));
            block.set("input", input);
        }
        out.put("model", in.path("model").asText(""));
        String finish = choice.path("finish_reason").asText("stop");
        out.put("stop_reason", switch (finish) {
            case "length" -> "max_tokens";
            case "tool_calls", "function_call" -> "tool_use";
            case "content_filter" -> "refusal";
            default -> message.path("tool_calls").isEmpty() ? "end_turn" : "tool_use";
        });
        out.putNull("stop_sequence");
        JsonNode usage = in.path("usage");
        long cached = usage.path("prompt_tokens_details").path("cached_tokens").asLong(0);
        out.putObject("usage").put("input_tokens", Math.max(0, usage.path("prompt_tokens").asLong(0) - cached))
                .put("cache_read_input_tokens", cached).put("output_tokens", usage.path("completion_tokens").asLong(0));
        return AnthropicToOpenAi.JSON.writeValueAsBytes(out);
    }

    /** An OpenAI-format error body ({@code {"error": {"message", "type", "code"}}}) as Anthropic error JSON, the wording kept. */
    public static String error(int status, String body) {
        String message = body;
        try {
            JsonNode node = AnthropicToOpenAi.JSON.readTree(body);
            if (node.path("error").isObject()) {
                message = node.path("error").path("message").asText(body);
                String code = node.path("error").path("code").asText("");
                if (!code.isEmpty() && !"null".equals(code) && !message.contains(code)) {
                    message = message + " (" + code + ")";
                }
            }
        } catch (IOException e) {
            // not JSON: keep the text
        }
        return new String(ErrorResponses.json(ErrorResponses.typeFor(status == 503 ? 529 : status), message, null), StandardCharsets.UTF_8);
    }
}

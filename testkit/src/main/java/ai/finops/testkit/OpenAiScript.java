package ai.finops.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The OpenAI Chat Completions side of the simulator: what such a provider rejects in a request, and a
 * {@link Reply} rendered as a completion or as its stream of chunks ({@code tool_calls} fragments,
 * {@code finish_reason}, the {@code include_usage} chunk with {@code choices: []}, {@code [DONE]}).
 */
final class OpenAiScript {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicLong IDS = new AtomicLong();
    static final Set<String> FIELDS = Set.of("model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "stream",
            "stream_options", "tools", "tool_choice", "parallel_tool_calls", "reasoning_effort", "user", "n", "seed", "response_format",
            "frequency_penalty", "presence_penalty", "logprobs", "top_logprobs", "logit_bias", "metadata", "store", "service_tier");
    private static final Pattern TOOL_NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    private final Reply reply;
    private final String model;
    private final long promptTokens;
    private final String id = "chatcmpl-sim" + IDS.incrementAndGet();

    OpenAiScript(Reply reply, String model, long requestBytes) {
        this.reply = reply;
        this.model = model;
        this.promptTokens = Math.max(1, requestBytes / 4);
    }

    /** What the provider would reject, or null. {@code maxCompletionTokens}: the provider wants it instead of max_tokens. */
    static String invalid(JsonNode body, boolean azure) {
        if (body == null || !body.isObject()) {
            return "We could not parse the JSON body of your request.";
        }
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                return "Unrecognized request argument supplied: " + field;
            }
        }
        if (!azure && !body.hasNonNull("model")) {
            return "you must provide a model parameter";
        }
        List<String> pendingCalls = new ArrayList<>();
        for (JsonNode m : body.path("messages")) {
            String role = m.path("role").asText();
            switch (role) {
                case "system", "user" -> {
                    if (!pendingCalls.isEmpty()) {
                        return "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. "
                                + "The following tool_call_ids did not have response messages: " + pendingCalls;
                    }
                    if (m.path("content").isArray()) {
                        for (JsonNode part : m.path("content")) {
                            if (!Set.of("text", "image_url").contains(part.path("type").asText())) {
                                return "Invalid value: '" + part.path("type").asText() + "'. Supported values are: 'text' and 'image_url'.";
                            }
                        }
                    } else if (!m.path("content").isTextual()) {
                        return "Invalid type for 'messages.content'";
                    }
                }
                case "assistant" -> {
                    for (JsonNode call : m.path("tool_calls")) {
                        if (!call.path("function").path("arguments").isTextual()) {
                            return "Invalid type for 'messages.tool_calls.function.arguments': expected a string";
                        }
                        pendingCalls.add(call.path("id").asText());
                    }
                }
                case "tool" -> {
                    if (!pendingCalls.remove(m.path("tool_call_id").asText())) {
                        return "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.";
                    }
                }
                default -> {
                    return "Invalid value: '" + role + "'. Supported values are: 'system', 'assistant', 'user', 'tool'";
                }
            }
        }
        for (JsonNode tool : body.path("tools")) {
            if (!"function".equals(tool.path("type").asText()) || !TOOL_NAME.matcher(tool.path("function").path("name").asText()).matches()) {
                return "Invalid 'tools': function names must match ^[a-zA-Z0-9_-]{1,64}$ and type must be 'function'";
            }
        }
        return null;
    }

    /** The deterministic answer when nothing is scripted: call Bash when offered, report a tool result, else greet. */
    static Reply builtIn(JsonNode request) {
        JsonNode messages = request.path("messages");
        JsonNode last = messages.isArray() && !messages.isEmpty() ? messages.get(messages.size() - 1) : null;
        if (last != null && "tool".equals(last.path("role").asText())) {
            String text = last.path("content").asText("");
            return Reply.text("The command ran: " + text.substring(0, Math.min(80, text.length())));
        }
        for (JsonNode tool : request.path("tools")) {
            if ("Bash".equals(tool.path("function").path("name").asText())) {
                return Reply.toolUse("Bash", "{\"command\":\"echo hello from the FinOps simulator\",\"description\":\"Print a greeting\"}", 5);
            }
        }
        return Reply.text("Hello from the FinOps Gateway simulator.");
    }

    private boolean toolUse() {
        return reply.kind == Reply.Kind.TOOL_USE;
    }

    private String text() {
        return reply.text == null ? "Hello from the FinOps Gateway simulator." : reply.text;
    }

    /** The whole completion. */
    String completion() {
        ObjectNode c = JSON.createObjectNode().put("id", id).put("object", "chat.completion").put("created", 1764000000L).put("model", model);
        ObjectNode choice = c.putArray("choices").addObject().put("index", 0);
        ObjectNode message = choice.putObject("message").put("role", "assistant");
        if (toolUse()) {
            message.putNull("content");
            message.putArray("tool_calls").addObject().put("id", "call_" + id).put("type", "function").putObject("function")
                    .put("name", reply.toolName).put("arguments", reply.toolInput);
            choice.put("finish_reason", "tool_calls");
        } else {
            message.put("content", text());
            choice.put("finish_reason", "stop");
        }
        usage(c);
        return c.toString();
    }

    /** The chunks of the stream, each a complete SSE event, ending with {@code [DONE]}. */
    List<String> chunks(boolean azurePreamble) {
        List<String> events = new ArrayList<>();
        if (azurePreamble) {
            ObjectNode pre = JSON.createObjectNode().put("id", "").put("object", "").put("created", 0).put("model", "");
            pre.putArray("choices");
            pre.putArray("prompt_filter_results").addObject().put("prompt_index", 0).putObject("content_filter_results");
            events.add(event(pre));
        }
        ObjectNode first = chunk();
        first.withArray("choices").addObject().put("index", 0).putNull("finish_reason")
                .putObject("delta").put("role", "assistant").put("content", "");
        events.add(event(first));
        if (toolUse()) {
            String input = reply.toolInput;
            int n = Math.max(1, reply.fragments);
            for (int i = 0; i < n; i++) {
                String part = input.substring(i * input.length() / n, (i + 1) * input.length() / n);
                ObjectNode c = chunk();
                ObjectNode call = c.withArray("choices").addObject().put("index", 0).putObject("delta").putArray("tool_calls").addObject()
                        .put("index", 0);
                if (i == 0) {
                    call.put("id", "call_" + id).put("type", "function");
                    call.putObject("function").put("name", reply.toolName).put("arguments", part);
                } else {
                    call.putObject("function").put("arguments", part);
                }
                events.add(event(c));
            }
        } else {
            for (String word : text().split("(?<= )")) {
                ObjectNode c = chunk();
                c.withArray("choices").addObject().put("index", 0).putObject("delta").put("content", word);
                events.add(event(c));
            }
        }
        ObjectNode finish = chunk();
        finish.withArray("choices").addObject().put("index", 0).put("finish_reason", toolUse() ? "tool_calls" : "stop").putObject("delta");
        events.add(event(finish));
        ObjectNode usage = chunk();
        usage.putArray("choices");
        usage(usage);
        events.add(event(usage));
        events.add("data: [DONE]\n\n");
        return events;
    }

    private ObjectNode chunk() {
        return JSON.createObjectNode().put("id", id).put("object", "chat.completion.chunk").put("created", 1764000000L).put("model", model);
    }

    private void usage(ObjectNode node) {
        node.putObject("usage").put("prompt_tokens", promptTokens).put("completion_tokens", 10).put("total_tokens", promptTokens + 10);
    }

    private static String event(JsonNode chunk) {
        return "data: " + chunk + "\n\n";
    }

    static String error(int status, String message) {
        ObjectNode e = JSON.createObjectNode();
        e.putObject("error").put("message", message).put("type", status == 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error"
                : "invalid_request_error").putNull("param").put("code", status == 429 ? "rate_limit_exceeded" : null);
        return e.toString();
    }

}

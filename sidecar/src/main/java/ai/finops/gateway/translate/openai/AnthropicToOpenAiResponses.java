package ai.finops.gateway.translate.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Anthropic responses for OpenAI clients: a message as a {@code chat.completion}, an error as OpenAI's
 * error JSON, and ({@link Stream}) a Messages stream as {@code chat.completion.chunk}s ending with
 * {@code [DONE]}.
 */
public final class AnthropicToOpenAiResponses {
    private AnthropicToOpenAiResponses() {}

    static String finishReason(String stopReason) {
        return switch (stopReason == null ? "end_turn" : stopReason) {
            case "max_tokens" -> "length";
            case "tool_use" -> "tool_calls";
            case "refusal" -> "content_filter";
            default -> "stop";
        };
    }

    static ObjectNode usage(JsonNode anthropic) {
        long cacheRead = anthropic.path("cache_read_input_tokens").asLong(0);
        long prompt = anthropic.path("input_tokens").asLong(0) + cacheRead + anthropic.path("cache_creation_input_tokens").asLong(0);
        long completion = anthropic.path("output_tokens").asLong(0);
        ObjectNode usage = AnthropicToOpenAi.JSON.createObjectNode().put("prompt_tokens", prompt).put("completion_tokens", completion)
                .put("total_tokens", prompt + completion);
        usage.putObject("prompt_tokens_details").put("cached_tokens", cacheRead);
        return usage;
    }

    /** An Anthropic message (JSON) as a chat completion; null for a body that is not a message. */
    public static byte[] completion(byte[] message, long created) throws IOException {
        JsonNode in = AnthropicToOpenAi.JSON.readTree(message);
        if (!"message".equals(in.path("type").asText())) {
            return null;
        }
        ObjectNode out = AnthropicToOpenAi.JSON.createObjectNode();
        out.put("id", "chatcmpl-" + in.path("id").asText()).put("object", "chat.completion").put("created", created)
                .put("model", in.path("model").asText());
        ObjectNode choice = out.putArray("choices").addObject().put("index", 0);
        ObjectNode msg = choice.putObject("message").put("role", "assistant");
        StringBuilder text = new StringBuilder();
        ArrayNode calls = null;
        for (JsonNode block : in.path("content")) {
            switch (block.path("type").asText()) {
                case "text" -> text.append(block.path("text").asText());
                case "tool_use" -> {
                    if (calls == null) {
                        calls = AnthropicToOpenAi.JSON.createArrayNode();
                    }
                    calls.addObject().put("id", block.path("id").asText()).put("type", "function").putObject("function")
                            .put("name", block.path("name").asText()).put("arguments", block.path("input").toString());
                }
                default -> { }
            }
        }
        if (text.length() > 0 || calls == null) {
            msg.put("content", text.toString());
        } else {
            msg.putNull("content");
        }
        if (calls != null) {
            msg.set("tool_calls", calls);
        }
        msg.putNull("refusal");
        choice.put("finish_reason", finishReason(in.path("stop_reason").asText(null)));
        out.set("usage", usage(in.path("usage")));
        return AnthropicToOpenAi.JSON.writeValueAsBytes(out);
    }

    /** An Anthropic error body as OpenAI's {@code {"error": {...}}}, the message kept; null when the body is not an Anthropic error. */
    public static byte[] error(byte[] body) {
        return error(body, null);
    }

    /** As {@link #error(byte[])}, with OpenAI's {@code code} for the error (e.g. {@code model_not_found}); null for the Anthropic type. */
    public static byte[] error(byte[] body, String code) {
        try {
            JsonNode in = AnthropicToOpenAi.JSON.readTree(body);
            if (!"error".equals(in.path("type").asText())) {
                return null;
            }
            ObjectNode out = AnthropicToOpenAi.JSON.createObjectNode();
            String type = in.path("error").path("type").asText("api_error");
            out.putObject("error").put("message", in.path("error").path("message").asText())
                    .put("type", switch (type) {
                        case "invalid_request_error", "not_found_error", "request_too_large" -> "invalid_request_error";
                        case "authentication_error" -> "authentication_error";
                        case "permission_error" -> "permission_error";
                        case "rate_limit_error" -> "rate_limit_exceeded";
                        case "billing_error" -> "insufficient_quota";     // as OpenAI answers a quota or budget exhausted
                        default -> "server_error";
                    })
                    .putNull("param").put("code", code != null ? code : "billing_error".equals(type) ? "insufficient_quota" : type);
            return AnthropicToOpenAi.JSON.writeValueAsBytes(out);
        } catch (IOException e) {
            return null;
        }
    }

    /** A Messages stream, event by event (events may be split across chunks), as chat completion chunks. */
    public static final class Stream {
        private final boolean includeUsage;
        private final long created;
        private final ByteBuf pending;
        private String id = "chatcmpl-gateway";
        private String model = "";
        private int toolCalls;
        private final Map<Integer, Integer> toolIndexOfBlock = new HashMap<>();
        private JsonNode startUsage;
        private ObjectNode usage;

        public Stream(ByteBufAllocator alloc, boolean includeUsage, long created) {
            this.includeUsage = includeUsage;
            this.created = created;
            this.pending = alloc.buffer(256);
        }

        /** The OpenAI SSE bytes for the complete Anthropic events in {@code in} (consumed, not released). */
        public ByteBuf translate(ByteBuf in, ByteBufAllocator alloc) {
            ByteBuf out = alloc.buffer(Math.max(128, in.readableBytes()));
            pending.writeBytes(in);
            // decode only up to the end of the last complete event: a multi-byte character is never split
            int complete = -1;
            for (int i = pending.writerIndex() - 1; i > pending.readerIndex(); i--) {
                if (pending.getByte(i) == '\n' && (pending.getByte(i - 1) == '\n'
                        || pending.getByte(i - 1) == '\r' && i >= 3 && pending.getByte(i - 2) == '\n')) {
                    complete = i + 1;
                    break;
                }
            }
            if (complete < 0) {
                return out;
            }
            String text = pending.toString(pending.readerIndex(), complete - pending.readerIndex(), StandardCharsets.UTF_8).replace("\r\n", "\n");
            pending.readerIndex(complete);
            pending.discardSomeReadBytes();
            for (String event : text.split("\n\n")) {
                if (!event.isBlank()) {
                    event(event, out);
                }
            }
            return out;
        }

        public void release() {
            if (pending.refCnt() > 0) {
                pending.release();
            }
        }

        private void event(String event, ByteBuf out) {
            String data = null;
            for (String line : event.split("\n")) {
                if (line.startsWith("data:")) {
                    data = line.startsWith("data: ") ? line.substring(6) : line.substring(5);
                }
            }
            if (data == null) {
                return;
            }
            JsonNode e;
            try {
                e = AnthropicToOpenAi.JSON.readTree(data);
            } catch (IOException ex) {
                return;
            }
            switch (e.path("type").asText()) {
                case "message_start" -> {
                    id = "chatcmpl-" + e.path("message").path("id").asText();
                    model = e.path("message").path("model").asText();
                    startUsage = e.path("message").path("usage");
                    ObjectNode chunk = chunk();
                    chunk.withArray("choices").addObject().put("index", 0).putNull("finish_reason").putObject("delta")
                            .put("role", "assistant").put("content", "");
                    write(out, chunk);
                }
                case "content_block_start" -> {
                    JsonNode block = e.path("content_block");
                    if ("tool_use".equals(block.path("type").asText())) {
                        int index = toolCalls++;
                        toolIndexOfBlock.put(e.path("index").asInt(), index);
                        ObjectNode chunk = chunk();
                        ObjectNode call = chunk.withArray("choices").addObject().put("index", 0).putObject("delta").putArray("tool_calls").addObject()
                                .put("index", index).put("id", block.path("id").asText()).put("type", "function");
                        call.putObject("function").put("name", block.path("name").asText()).put("arguments", "");
                        write(out, chunk);
                    }
                }
                case "content_block_delta" -> {
                    JsonNode delta = e.path("delta");
                    switch (delta.path("type").asText()) {
                        case "text_delta" -> {
                            ObjectNode chunk = chunk();
                            chunk.withArray("choices").addObject().put("index", 0).putObject("delta").put("content", delta.path("text").asText());
                            write(out, chunk);
                        }
                        case "input_json_delta" -> {
                            Integer index = toolIndexOfBlock.get(e.path("index").asInt());
                            if (index != null) {
                                ObjectNode chunk = chunk();
                                chunk.withArray("choices").addObject().put("index", 0).putObject("delta").putArray("tool_calls").addObject()
                                        .put("index", index).putObject("function").put("arguments", delta.path("partial_json").asText());
                                write(out, chunk);
                            }
                        }
                        default -> { }   // thinking: OpenAI clients have no place for it
                    }
                }
                case "message_delta" -> {
                    ObjectNode merged = AnthropicToOpenAi.JSON.createObjectNode();
                    if (startUsage != null && startUsage.isObject()) {
                        merged.setAll((ObjectNode) startUsage);
                    }
                    if (e.path("usage").isObject()) {
                        merged.setAll((ObjectNode) e.path("usage"));
                    }
                    usage = usage(merged);
                    ObjectNode chunk = chunk();
                    chunk.withArray("choices").addObject().put("index", 0).put("finish_reason", finishReason(e.path("delta").path("stop_reason").asText(null)))
                            .putObject("delta");
                    write(out, chunk);
                }
                case "message_stop" -> {
                    if (includeUsage && usage != null) {
                        ObjectNode chunk = chunk();
                        chunk.putArray("choices");
                        chunk.set("usage", usage);
                        write(out, chunk);
                    }
                    ByteBufUtil.writeUtf8(out, "data: [DONE]\n\n");
                }
                case "error" -> {
                    byte[] error = AnthropicToOpenAiResponses.error(data.getBytes(StandardCharsets.UTF_8));
                    ByteBufUtil.writeUtf8(out, "data: ");
                    out.writeBytes(error != null ? error : data.getBytes(StandardCharsets.UTF_8));
                    ByteBufUtil.writeUtf8(out, "\n\n");
                }
                default -> { }   // ping, content_block_stop
            }
        }

        private ObjectNode chunk() {
            return AnthropicToOpenAi.JSON.createObjectNode().put("id", id).put("object", "chat.completion.chunk").put("created", created)
                    .put("model", model);
        }

        private static void write(ByteBuf out, JsonNode chunk) {
            ByteBufUtil.writeUtf8(out, "data: ");
            ByteBufUtil.writeUtf8(out, chunk.toString());
            ByteBufUtil.writeUtf8(out, "\n\n");
        }
    }
}

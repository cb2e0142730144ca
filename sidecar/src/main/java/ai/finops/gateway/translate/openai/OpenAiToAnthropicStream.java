package ai.finops.gateway.translate.openai;

import ai.finops.gateway.translate.ResponseTranscoder;
import ai.finops.gateway.dialect.ErrorResponses;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An OpenAI Chat Completions stream as an Anthropic Messages stream, chunk by chunk:
 * <ul>
 *   <li>{@code message_start} at the first chunk; content blocks numbered 0, 1, 2... with one open
 *       at a time; text deltas as {@code text_delta};</li>
 *   <li>tool calls keyed by {@code index} (by {@code id} where a provider leaves the index out), each
 *       a {@code tool_use} block whose arguments are forwarded as {@code input_json_delta} as they
 *       arrive; arguments sent whole, as a JSON object instead of a string, or not at all ({@code {}})
 *       are handled; a call whose fragments interleave with another's is buffered and sent when its
 *       turn comes;</li>
 *   <li>the content of the chunk that carries {@code finish_reason} is processed first; usage (the
 *       {@code include_usage} chunk, {@code choices: []}) is merged once; {@code message_delta} and
 *       {@code message_stop} are sent exactly once, at {@code [DONE]};</li>
 *   <li>chunks with {@code choices: []} (Azure's content-filter preamble) are tolerated; an
 *       {@code error} chunk becomes an Anthropic {@code error} event; a stream that ends before it
 *       finished is an error, never a clean end.</li>
 * </ul>
 */
public final class OpenAiToAnthropicStream implements ResponseTranscoder {
    private final ToolNames names;
    private final ByteBuf cumulation;
    private ByteBuf out;

    private boolean started;
    private boolean terminated;      // message_stop or error sent
    private int nextIndex;
    private String openKind;         // "text", "tool" or null
    private Call openCall;
    private final Map<String, Call> calls = new LinkedHashMap<>();
    private String finishReason;
    private long inputTokens;
    private long outputTokens;
    private long cacheReadTokens;
    private boolean usageSeen;
    private boolean lateFragments;
    private int generatedIds;

    /** One tool call of the response. */
    private static final class Call {
        String id;
        String name;
        final StringBuilder pending = new StringBuilder();
        boolean opened;
        boolean closed;
        boolean emittedAny;
    }

    public OpenAiToAnthropicStream(ByteBufAllocator alloc, ToolNames names) {
        this.names = names;
        this.cumulation = alloc.buffer(1024);
    }

    @Override
    public ByteBuf decode(ByteBuf in, ByteBufAllocator alloc) throws MalformedResponse {
        out = alloc.buffer(Math.max(256, in.readableBytes() * 2));
        try {
            cumulation.writeBytes(in);
            int end;
            while ((end = eventEnd(cumulation)) >= 0) {
                int start = cumulation.readerIndex();
                String event = cumulation.toString(start, end - start, StandardCharsets.UTF_8);
                cumulation.readerIndex(skipBreak(cumulation, end));
                event(event);
            }
            cumulation.discardSomeReadBytes();
            ByteBuf result = out;
            out = null;
            return result;
        } catch (MalformedResponse | RuntimeException e) {
            out.release();
            out = null;
            throw e;
        }
    }

    @Override
    public ByteBuf finish(ByteBufAllocator alloc) throws MalformedResponse {
        out = alloc.buffer(256);
        try {
            if (cumulation.isReadable() && !cumulation.toString(StandardCharsets.UTF_8).isBlank()) {
                String rest = cumulation.toString(StandardCharsets.UTF_8);
                cumulation.clear();
                event(rest);   // a last event without its blank line
            }
            if (!terminated) {
                if (finishReason == null) {
                    throw new MalformedResponse("the provider's stream ended before the response was complete");
                }
                terminate();   // a provider that sends no [DONE] after its finish_reason
            }
            ByteBuf result = out;
            out = null;
            return result;
        } catch (MalformedResponse | RuntimeException e) {
            out.release();
            out = null;
            throw e;
        }
    }

    @Override
    public void release() {
        if (cumulation.refCnt() > 0) {
            cumulation.release();
        }
    }

    // ---- SSE framing -----------------------------------------------------------------------

    /** Offset of the line break that ends the next complete event, or -1. */
    private static int eventEnd(ByteBuf buf) {
        int i = buf.readerIndex();
        int limit = buf.writerIndex();
        boolean lineStart = true;
        while (i < limit) {
            byte b = buf.getByte(i);
            if (b == '\n' || b == '\r') {
                if (lineStart) {
                    return i;   // an empty line: the event before it is complete
                }
                if (b == '\r' && i + 1 < limit && buf.getByte(i + 1) == '\n') {
                    i++;
                } else if (b == '\r' && i + 1 == limit) {
                    return -1;  // a CR at the end: its LF may follow
                }
                lineStart = true;
            } else {
                lineStart = false;
            }
            i++;
        }
        return -1;
    }

    private static int skipBreak(ByteBuf buf, int at) {
        return buf.getByte(at) == '\r' && at + 1 < buf.writerIndex() && buf.getByte(at + 1) == '\n' ? at + 2 : at + 1;
    }

    private void event(String event) throws MalformedResponse {
        StringBuilder data = new StringBuilder();
        for (String line : event.split("\r\n|\r|\n")) {
            if (line.startsWith("data:")) {
                if (data.length() > 0) {
                    data.append('\n');
                }
                data.append(line.startsWith("data: ") ? line.substring(6) : line.substring(5));
            }
        }
        if (data.length() == 0 || terminated) {
            return;   // comments, keep-alives; anything after the end
        }
        String payload = data.toString().trim();
        if (payload.equals("[DONE]")) {
            if (finishReason == null && !started) {
                throw new MalformedResponse("the provider's stream ended before the response was complete");
            }
            terminate();
            return;
        }
        JsonNode chunk;
        try {
            chunk = AnthropicToOpenAi.JSON.readTree(payload);
        } catch (IOException e) {
            throw new MalformedResponse("a chunk is not JSON: " + e.getMessage());
        }
        chunk(chunk);
    }

    // ---- the state machine --------------------------------------------------------------------

    private void chunk(JsonNode chunk) throws MalformedResponse {
        if (chunk.has("error")) {
            JsonNode error = chunk.get("error");
            closeOpen();
            sse("error", new String(ErrorResponses.json("api_error", error.path("message").asText(error.toString()), null), StandardCharsets.UTF_8));
            terminated = true;
            return;
        }
        start(chunk);
        JsonNode usage = chunk.get("usage");
        if (usage != null && usage.isObject()) {
            inputTokens = usage.path("prompt_tokens").asLong(inputTokens);
            outputTokens = usage.path("completion_tokens").asLong(outputTokens);
            cacheReadTokens = usage.path("prompt_tokens_details").path("cached_tokens").asLong(cacheReadTokens);
            usageSeen = true;
        }
        for (JsonNode choice : chunk.path("choices")) {
            if (choice.path("index").asInt(0) != 0) {
                continue;   // n > 1 has no Anthropic equivalent: the first choice is the answer
            }
            JsonNode delta = choice.has("delta") ? choice.get("delta") : choice.path("message");
            JsonNode content = delta.get("content");
            if (content != null && content.isTextual() && !content.asText().isEmpty()) {
                text(content.asText());
            }
            for (JsonNode call : delta.path("tool_calls")) {
                toolCall(call);
            }
            if (choice.hasNonNull("finish_reason")) {
                finishReason = choice.get("finish_reason").asText();
            }
        }
    }

    private void start(JsonNode chunk) {
        if (started) {
            return;
        }
        started = true;
        ObjectNode message = AnthropicToOpenAi.JSON.createObjectNode();
        message.put("id", "msg_" + chunk.path("id").asText("gateway"));
        message.put("type", "message").put("role", "assistant");
        message.putArray("content");
        message.put("model", chunk.path("model").asText(""));
        message.putNull("stop_reason");
        message.putNull("stop_sequence");
        message.putObject("usage").put("input_tokens", 0).put("output_tokens", 0);
        ObjectNode event = AnthropicToOpenAi.JSON.createObjectNode().put("type", "message_start");
        event.set("message", message);
        sse("message_start", event.toString());
    }

    private void text(String text) {
        if (!"text".equals(openKind)) {
            closeOpen();
            ObjectNode start = blockStart(nextIndex);
            start.putObject("content_block").put("type", "text").put("text", "");
            sse("content_block_start", start.toString());
            openKind = "text";
        }
        ObjectNode delta = AnthropicToOpenAi.JSON.createObjectNode().put("type", "content_block_delta").put("index", nextIndex);
        delta.putObject("delta").put("type", "text_delta").put("text", text);
        sse("content_block_delta", delta.toString());
    }

    private void toolCall(JsonNode fragment) {
        String key;
        String id = fragment.hasNonNull("id") ? fragment.get("id").asText() : null;
        if (fragment.has("index")) {
            key = "i:" + fragment.get("index").asInt();
        } else {
            key = id != null ? calls.entrySet().stream().filter(e -> id.equals(e.getValue().id)).map(Map.Entry::getKey).findFirst()
                    .orElse("id:" + id) : openCall != null ? keyOf(openCall) : "i:0";
        }
        boolean isNew = !calls.containsKey(key);
        Call call = calls.computeIfAbsent(key, k -> new Call());
        if (id != null && call.id == null) {
            call.id = id;
        }
        JsonNode function = fragment.path("function");
        if (function.hasNonNull("name") && call.name == null) {
            call.name = function.get("name").asText();
        }
        JsonNode arguments = function.get("arguments");
        String args = arguments == null || arguments.isNull() ? "" : arguments.isTextual() ? arguments.asText() : arguments.toString();
        if (call.closed) {
            lateFragments |= !args.isEmpty();
            return;
        }
        if (call == openCall) {
            emitArgs(call, args);
            return;
        }
        if (openCall != null && !isNew) {
            call.pending.append(args);   // interleaved with the open call: its turn comes later
            return;
        }
        call.pending.append(args);
        if (call.name != null) {
            closeOpen();
            open(call);
        }
    }

    private String keyOf(Call call) {
        return calls.entrySet().stream().filter(e -> e.getValue() == call).map(Map.Entry::getKey).findFirst().orElse("i:0");
    }

    private void open(Call call) {
        ObjectNode start = blockStart(nextIndex);
        ObjectNode block = start.putObject("content_block");
        block.put("type", "tool_use").put("id", call.id != null ? call.id : "toolu_gw_" + (++generatedIds))
                .put("name", names.restore(call.name));
        block.putObject("input");
        sse("content_block_start", start.toString());
        openKind = "tool";
        openCall = call;
        call.opened = true;
        String pending = call.pending.toString();
        call.pending.setLength(0);
        emitArgs(call, pending);
    }

    private void emitArgs(Call call, String args) {
        if (args.isEmpty()) {
            return;
        }
        ObjectNode delta = AnthropicToOpenAi.JSON.createObjectNode().put("type", "content_block_delta").put("index", nextIndex);
        delta.putObject("delta").put("type", "input_json_delta").put("partial_json", args);
        sse("content_block_delta", delta.toString());
        call.emittedAny = true;
    }

    private void closeOpen() {
        if (openKind == null) {
            return;
        }
        if (openCall != null) {
            if (!openCall.emittedAny) {
                emitArgs(openCall, "{}");   // no arguments at all: an empty input, which must still be an object
            }
            openCall.closed = true;
            openCall = null;
        }
        sse("content_block_stop", AnthropicToOpenAi.JSON.createObjectNode().put("type", "content_block_stop").put("index", nextIndex).toString());
        nextIndex++;
        openKind = null;
    }

    private void terminate() throws MalformedResponse {
        closeOpen();
        List<Call> waiting = new ArrayList<>();
        for (Call call : calls.values()) {
            if (!call.closed) {
                waiting.add(call);
            }
        }
        for (Call call : waiting) {
            if (call.name == null) {
                throw new MalformedResponse("a tool call without a function name");
            }
            open(call);
            closeOpen();
        }
        if (lateFragments) {
            throw new MalformedResponse("tool call arguments arrived for a call that had ended");
        }
        boolean toolUse = !calls.isEmpty();
        String stop = switch (finishReason == null ? "stop" : finishReason) {
            case "length" -> "max_tokens";
            case "tool_calls", "function_call" -> "tool_use";
            case "content_filter" -> "refusal";
            default -> toolUse ? "tool_use" : "end_turn";
        };
        ObjectNode delta = AnthropicToOpenAi.JSON.createObjectNode().put("type", "message_delta");
        delta.putObject("delta").put("stop_reason", stop).putNull("stop_sequence");
        ObjectNode usage = delta.putObject("usage");
        if (usageSeen) {
            usage.put("input_tokens", Math.max(0, inputTokens - cacheReadTokens)).put("cache_read_input_tokens", cacheReadTokens);
        }
        usage.put("output_tokens", outputTokens);
        sse("message_delta", delta.toString());
        sse("message_stop", "{\"type\":\"message_stop\"}");
        terminated = true;
    }

    private static ObjectNode blockStart(int index) {
        return AnthropicToOpenAi.JSON.createObjectNode().put("type", "content_block_start").put("index", index);
    }

    private void sse(String type, String json) {
        ByteBufUtil.writeUtf8(out, "event: ");
        ByteBufUtil.writeUtf8(out, type);
        ByteBufUtil.writeUtf8(out, "\ndata: ");
        ByteBufUtil.writeUtf8(out, json);
        ByteBufUtil.writeUtf8(out, "\n\n");
    }
}

package ai.finops.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Renders a {@link Reply} as the Anthropic Messages API does: the SSE events of a stream, or the
 * JSON of a non-streaming response.
 */
final class MessageScript {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicLong IDS = new AtomicLong();

    /** One content block: its start object and its deltas. */
    private record Block(ObjectNode start, List<ObjectNode> deltas, JsonNode whole) {}

    final String model;
    final long inputTokens;
    private final List<Block> blocks = new ArrayList<>();
    private final String stopReason;
    private final long[] usage;
    private final String id = "msg_sim_" + IDS.incrementAndGet();

    MessageScript(Reply reply, String model, long requestBytes) {
        this.model = model;
        this.inputTokens = Math.max(1, requestBytes / 4);
        this.usage = reply.usage;
        switch (reply.kind) {
            case TOOL_USE -> {
                toolUse(reply.toolName, reply.toolInput, reply.fragments);
                stopReason = "tool_use";
            }
            case THINKING -> {
                thinking(reply.thinking, reply.signature);
                text(reply.text);
                stopReason = "end_turn";
            }
            case LARGE_TEXT -> {
                String chunk = "x".repeat(Math.max(1, reply.bytesPerDelta - 1)) + " ";
                List<ObjectNode> deltas = new ArrayList<>(reply.deltas);
                for (int i = 0; i < reply.deltas; i++) {
                    deltas.add(textDelta(chunk));
                }
                blocks.add(new Block(textStart(), deltas, null));
                stopReason = "end_turn";
            }
            default -> {
                text(reply.text == null ? "Hello from the FinOps Gateway simulator." : reply.text);
                stopReason = "end_turn";
            }
        }
    }

    private void text(String text) {
        List<ObjectNode> deltas = new ArrayList<>();
        StringBuilder piece = new StringBuilder();
        String[] words = text.split("(?<= )");
        for (int i = 0; i < words.length; i++) {
            piece.append(words[i]);
            if (piece.length() >= 8 || i == words.length - 1) {
                deltas.add(textDelta(piece.toString()));
                piece.setLength(0);
            }
        }
        blocks.add(new Block(textStart(), deltas, JSON.createObjectNode().put("type", "text").put("text", text)));
    }

    private void toolUse(String name, String inputJson, int fragments) {
        ObjectNode start = JSON.createObjectNode().put("type", "tool_use").put("id", "toolu_sim_" + IDS.incrementAndGet()).put("name", name);
        start.putObject("input");
        List<ObjectNode> deltas = new ArrayList<>();
        int step = Math.max(1, (int) Math.ceil(inputJson.length() / (double) fragments));
        for (int at = 0; at < inputJson.length(); at += step) {
            ObjectNode d = JSON.createObjectNode().put("type", "input_json_delta");
            d.put("partial_json", inputJson.substring(at, Math.min(inputJson.length(), at + step)));
            deltas.add(d);
        }
        ObjectNode whole = start.deepCopy();
        try {
            whole.set("input", JSON.readTree(inputJson));
        } catch (Exception e) {
            throw new IllegalArgumentException("tool input is not JSON: " + inputJson, e);
        }
        blocks.add(new Block(start, deltas, whole));
    }

    private void thinking(String thinking, String signature) {
        ObjectNode start = JSON.createObjectNode().put("type", "thinking").put("thinking", "").put("signature", "");
        List<ObjectNode> deltas = new ArrayList<>();
        for (String part : thinking.split("(?<= )")) {
            deltas.add(JSON.createObjectNode().put("type", "thinking_delta").put("thinking", part));
        }
        deltas.add(JSON.createObjectNode().put("type", "signature_delta").put("signature", signature));
        blocks.add(new Block(start, deltas, JSON.createObjectNode().put("type", "thinking").put("thinking", thinking).put("signature", signature)));
    }

    private static ObjectNode textStart() {
        return JSON.createObjectNode().put("type", "text").put("text", "");
    }

    private static ObjectNode textDelta(String text) {
        return JSON.createObjectNode().put("type", "text_delta").put("text", text);
    }

    private long outputTokens() {
        return usage != null ? usage[1] : Math.max(1, blocks.stream().mapToInt(b -> b.deltas.size()).sum());
    }

    private ObjectNode usage(boolean start) {
        ObjectNode u = JSON.createObjectNode();
        u.put("input_tokens", usage != null ? usage[0] : inputTokens);
        u.put("cache_creation_input_tokens", usage != null ? usage[2] : 0);
        u.put("cache_read_input_tokens", usage != null ? usage[3] : 0);
        u.put("output_tokens", start ? 1 : outputTokens());
        return u;
    }

    /** The non-streaming response body. */
    String json() {
        ObjectNode m = message(false);
        ArrayNode content = m.putArray("content");
        blocks.forEach(b -> content.add(b.whole));
        m.put("stop_reason", stopReason);
        m.putNull("stop_sequence");
        m.set("usage", usage(false));
        return m.toString();
    }

    private ObjectNode message(boolean streaming) {
        ObjectNode m = JSON.createObjectNode().put("id", id).put("type", "message").put("role", "assistant").put("model", model);
        if (streaming) {
            m.putArray("content");
            m.putNull("stop_reason");
            m.putNull("stop_sequence");
            m.set("usage", usage(true));
        }
        return m;
    }

    /** Every event of the stream, in order, each a complete {@code event: ...\ndata: ...\n\n}. */
    List<String> events() {
        List<String> out = new ArrayList<>();
        ObjectNode start = JSON.createObjectNode().put("type", "message_start");
        start.set("message", message(true));
        out.add(event("message_start", start));
        out.add(event("ping", JSON.createObjectNode().put("type", "ping")));
        for (int i = 0; i < blocks.size(); i++) {
            Block b = blocks.get(i);
            ObjectNode bs = JSON.createObjectNode().put("type", "content_block_start").put("index", i);
            bs.set("content_block", b.start);
            out.add(event("content_block_start", bs));
            for (ObjectNode d : b.deltas) {
                ObjectNode e = JSON.createObjectNode().put("type", "content_block_delta").put("index", i);
                e.set("delta", d);
                out.add(event("content_block_delta", e));
            }
            out.add(event("content_block_stop", JSON.createObjectNode().put("type", "content_block_stop").put("index", i)));
        }
        ObjectNode md = JSON.createObjectNode().put("type", "message_delta");
        md.putObject("delta").put("stop_reason", stopReason).putNull("stop_sequence");
        md.putObject("usage").put("output_tokens", outputTokens());
        out.add(event("message_delta", md));
        out.add(event("message_stop", JSON.createObjectNode().put("type", "message_stop")));
        return out;
    }

    static String event(String name, JsonNode data) {
        return "event: " + name + "\ndata: " + data + "\n\n";
    }

    static String error(String type, String message) {
        ObjectNode e = JSON.createObjectNode().put("type", "error");
        e.putObject("error").put("type", type).put("message", message);
        return e.toString();
    }
}

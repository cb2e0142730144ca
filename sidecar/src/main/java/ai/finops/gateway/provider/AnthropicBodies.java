package ai.finops.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Messages request bodies for the providers that host Claude behind their own envelope (Bedrock,
 * Vertex): the body is parsed once (it must be rewritten anyway), adapted, and written again.
 */
public final class AnthropicBodies {
    static final ObjectMapper JSON = new ObjectMapper();

    private AnthropicBodies() {}

    /** A client's body made fit for a platform, and the betas that may go with it. */
    public record Adapted(ObjectNode body, List<String> betas) {}

    /**
     * What Bedrock and Vertex do alike to a client's body: refuse server tools the platform lacks (a
     * 400 naming them), turn earlier turns of those tools into text, join {@code system}-role messages
     * into {@code system}, drop earlier thinking when the call asks, and keep only the betas the
     * platform takes (none when it refused one), dropping the fields of the others.
     */
    public static Adapted forPlatform(ProviderCall call, List<String> missingServerTools, String provider, Set<String> platformBetas) {
        ObjectNode body = parse(call.client().content());
        ProviderFeatures.refuseMissingServerTools(body, missingServerTools, provider);
        serverToolHistoryAsText(body, missingServerTools);
        moveSystemMessages(body);
        if (call.withoutThinkingHistory()) {
            stripThinkingHistory(body);
        }
        List<String> betas = ProviderFeatures.filter(ProviderFeatures.betas(call.client().headers().getAll("anthropic-beta")),
                call.withoutBetas() ? Set.of() : platformBetas, body);
        return new Adapted(body, betas);
    }

    /** The client's body (readable bytes, not consumed) as a tree; the gateway already proved it is a JSON object. */
    public static ObjectNode parse(ByteBuf body) {
        try {
            return (ObjectNode) JSON.readTree((InputStream) new ByteBufInputStream(body.duplicate()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static byte[] write(ObjectNode body) {
        try {
            return JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Messages with {@code role: system} inside {@code messages} (Claude Code sends one) are a
     * first-party API feature: their text joins the top-level {@code system} blocks instead, which
     * keeps the instruction and is accepted everywhere.
     */
    public static void moveSystemMessages(ObjectNode body) {
        if (!(body.get("messages") instanceof ArrayNode messages)) {
            return;
        }
        ArrayNode system = null;
        for (Iterator<JsonNode> it = messages.elements(); it.hasNext(); ) {
            JsonNode message = it.next();
            if (!"system".equals(message.path("role").asText())) {
                continue;
            }
            if (system == null) {
                system = systemBlocks(body);
            }
            JsonNode content = message.get("content");
            if (content != null && content.isTextual()) {
                system.addObject().put("type", "text").put("text", content.asText());
            } else if (content instanceof ArrayNode blocks) {
                for (JsonNode block : blocks) {
                    if ("text".equals(block.path("type").asText())) {
                        system.addObject().put("type", "text").put("text", block.path("text").asText());
                    }
                }
            }
            it.remove();
        }
    }

    /**
     * Drops thinking and redacted thinking blocks from earlier assistant turns. When the last assistant
     * turn loses a thinking block before its tool use, thinking is switched off for this request, since
     * a provider requires that block whenever thinking is on.
     */
    public static void stripThinkingHistory(ObjectNode body) {
        if (!(body.get("messages") instanceof ArrayNode messages)) {
            return;
        }
        boolean lastAssistantLostThinking = false;
        for (int i = 0; i < messages.size(); i++) {
            JsonNode message = messages.get(i);
            if (!"assistant".equals(message.path("role").asText()) || !(message.get("content") instanceof ArrayNode blocks)) {
                continue;
            }
            boolean removed = false;
            for (Iterator<JsonNode> it = blocks.elements(); it.hasNext(); ) {
                String type = it.next().path("type").asText();
                if (type.equals("thinking") || type.equals("redacted_thinking")) {
                    it.remove();
                    removed = true;
                }
            }
            if (blocks.isEmpty()) {
                blocks.addObject().put("type", "text").put("text", "");
            }
            lastAssistantLostThinking = removed;
        }
        if (lastAssistantLostThinking) {
            body.remove("thinking");
        }
    }

    /**
     * Earlier turns that used a server tool this provider does not run (a conversation that started on
     * Anthropic, say, with web search) keep what they found as text: {@code server_tool_use} and its
     * {@code *_tool_result} become text blocks, which every provider accepts.
     */
    public static void serverToolHistoryAsText(ObjectNode body, java.util.List<String> missingToolTypes) {
        if (!(body.get("messages") instanceof ArrayNode messages)) {
            return;
        }
        for (JsonNode message : messages) {
            if (!(message.get("content") instanceof ArrayNode blocks)) {
                continue;
            }
            for (int i = 0; i < blocks.size(); i++) {
                JsonNode block = blocks.get(i);
                String type = block.path("type").asText();
                String text = null;
                if (type.equals("server_tool_use") && missing(block.path("name").asText() + "_", missingToolTypes)) {
                    text = "[" + block.path("name").asText() + " " + block.path("input").toString() + "]";
                } else if (type.endsWith("_tool_result") && !type.equals("tool_result") && missing(type.replace("_tool_result", "_"), missingToolTypes)) {
                    text = resultText(type, block.get("content"));
                }
                if (text != null) {
                    ObjectNode replacement = body.objectNode().put("type", "text").put("text", text);
                    blocks.set(i, replacement);
                }
            }
        }
    }

    private static boolean missing(String typePrefix, java.util.List<String> missingToolTypes) {
        return missingToolTypes.stream().anyMatch(typePrefix::startsWith);
    }

    private static String resultText(String type, JsonNode content) {
        StringBuilder sb = new StringBuilder("[" + type.replace("_tool_result", "").replace('_', ' ') + " results]");
        if (content != null && content.isArray()) {
            for (JsonNode item : content) {
                String title = item.path("title").asText("");
                String url = item.path("url").asText("");
                if (!title.isEmpty() || !url.isEmpty()) {
                    sb.append("\n- ").append(title).append(url.isEmpty() ? "" : " (" + url + ")");
                }
            }
        } else if (content != null) {
            String stdout = content.path("stdout").asText("");
            sb.append("\n").append(stdout.isEmpty() ? content.toString() : stdout);
        }
        return sb.toString();
    }

    private static ArrayNode systemBlocks(ObjectNode body) {
        JsonNode system = body.get("system");
        if (system instanceof ArrayNode blocks) {
            return blocks;
        }
        ArrayNode blocks = body.arrayNode();
        if (system != null && system.isTextual() && !system.asText().isEmpty()) {
            blocks.addObject().put("type", "text").put("text", system.asText());
        }
        body.set("system", blocks);
        return blocks;
    }
}

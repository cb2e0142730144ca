package ai.finops.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the real Claude Code 2.1.328 sends: the request path, headers and body of the two turns of a
 * tool-use round trip, from this module's resources ({@code fixtures/claude-code-2.1.328/}, with a
 * README on how they were captured).
 */
public final class ClaudeCodeFixtures {
    public static final String VERSION_DIR = "claude-code-2.1.328";
    /** Every captured request, in the order Claude Code sent them. */
    public static final List<String> TURNS = List.of("turn1-request.json", "turn2-request.json");
    private static final String RESOURCE_DIR = "/fixtures/" + VERSION_DIR + "/";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One captured request. {@code body} is the JSON as Claude Code serialises it (compact). */
    public record CapturedRequest(String method, String path, Map<String, String> headers, byte[] body) {}

    private ClaudeCodeFixtures() {}

    /** {@code turn1-request.json} or {@code turn2-request.json}. */
    public static CapturedRequest load(String fileName) {
        String resource = RESOURCE_DIR + fileName;
        try (InputStream in = ClaudeCodeFixtures.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + resource + " on the classpath; there are " + TURNS);
            }
            JsonNode root = JSON.readTree(in);
            Map<String, String> headers = new LinkedHashMap<>();
            root.get("headers").fields().forEachRemaining(e -> headers.put(e.getKey(), e.getValue().asText()));
            byte[] body = JSON.writeValueAsString(root.get("body")).getBytes(StandardCharsets.UTF_8);
            return new CapturedRequest(root.get("method").asText(), root.get("path").asText(), headers, body);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read fixture " + resource, e);
        }
    }
}

package ai.finops.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the real Claude Code 2.1.328 sends, from {@code shared/fixtures/claude-code-2.1.328/}: the
 * request path, headers and body of the two turns of a tool-use round trip.
 */
public final class ClaudeCodeFixtures {
    public static final String VERSION_DIR = "claude-code-2.1.328";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One captured request. {@code body} is the JSON as Claude Code serialises it (compact). */
    public record CapturedRequest(String method, String path, Map<String, String> headers, byte[] body) {}

    private ClaudeCodeFixtures() {}

    /** {@code turn1-request.json} or {@code turn2-request.json}. */
    public static CapturedRequest load(String fileName) {
        Path file = directory().resolve(fileName);
        try {
            JsonNode root = JSON.readTree(Files.readAllBytes(file));
            Map<String, String> headers = new LinkedHashMap<>();
            root.get("headers").fields().forEachRemaining(e -> headers.put(e.getKey(), e.getValue().asText()));
            byte[] body = JSON.writeValueAsString(root.get("body")).getBytes(StandardCharsets.UTF_8);
            return new CapturedRequest(root.get("method").asText(), root.get("path").asText(), headers, body);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read fixture " + file, e);
        }
    }

    /** The fixtures folder: {@code shared/} sits beside the repository (or {@code FINOPS_SHARED_DIR}). */
    public static Path directory() {
        String override = System.getenv("FINOPS_SHARED_DIR");
        if (override != null) {
            return Path.of(override, "fixtures", VERSION_DIR);
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve("shared").resolve("fixtures").resolve(VERSION_DIR);
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("shared/fixtures/" + VERSION_DIR + " not found above " + Path.of("").toAbsolutePath()
                + "; set FINOPS_SHARED_DIR");
    }
}

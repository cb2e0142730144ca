package ai.finops.gateway.translate.openai;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * Tool names for OpenAI-format providers, which take at most 64 characters of {@code [a-zA-Z0-9_-]}
 * (Anthropic allows more, and MCP tool names are often longer). A longer name becomes its first 55
 * characters, {@code _} and 8 hex digits of its SHA-256: deterministic, so one conversation keeps the
 * same name on every turn, and reversed on the way back from the names this request declared.
 */
public final class ToolNames {
    static final int MAX = 64;
    private final Map<String, String> original = new HashMap<>();

    /** The name to send; remembers how to get the original back. */
    public String shorten(String name) {
        if (name.length() <= MAX) {
            return name;
        }
        String shortName = name.substring(0, MAX - 9) + "_" + hash8(name);
        original.put(shortName, name);
        return shortName;
    }

    /** The client's name for a name the provider used. */
    public String restore(String name) {
        return original.getOrDefault(name, name);
    }

    private static String hash8(String name) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8))).substring(0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

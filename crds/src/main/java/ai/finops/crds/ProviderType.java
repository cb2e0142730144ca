package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** The wire protocols and auth schemes the gateway can speak to. */
public enum ProviderType {
    ANTHROPIC("anthropic", "https://api.anthropic.com"),
    BEDROCK("bedrock", null),
    VERTEX("vertex", null),
    AZURE("azure", null),
    AZURE_OPENAI("azure-openai", null),
    OPENAI("openai", "https://api.openai.com/v1"),
    OPENAI_COMPATIBLE("openai-compatible", null);

    private final String id;
    private final String defaultEndpoint;

    ProviderType(String id, String defaultEndpoint) {
        this.id = id;
        this.defaultEndpoint = defaultEndpoint;
    }

    @JsonValue
    public String id() {
        return id;
    }

    /** The base URL the provider's official SDK uses, or null where it depends on the provider block. */
    public String defaultEndpoint() {
        return defaultEndpoint;
    }

    public static Optional<ProviderType> fromId(String id) {
        if (id == null) {
            return Optional.empty();
        }
        String wanted = id.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(t -> t.id.equals(wanted)).findFirst();
    }

    @JsonCreator
    static ProviderType json(String id) {
        return fromId(id).orElseThrow(() -> new IllegalArgumentException(
                "unknown provider '" + id + "'; one of " + Arrays.stream(values()).map(ProviderType::id).toList()));
    }
}

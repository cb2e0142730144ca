package ai.finops.gateway.provider;

import ai.finops.crds.ProviderType;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Each Claude model's id per provider, version {@value #VERSION}, so that {@code bedrock/claude-sonnet-4-5}
 * or {@code vertex/claude-haiku-4-5} works with no {@code models} list: Bedrock model ids behind a
 * {@code global.} (or regional {@code us.}/{@code eu.}/{@code apac.}) inference profile, Vertex ids
 * with their {@code @date} version. A deployment's {@code models[].deployment} overrides it, and an id
 * that is already provider-specific ({@code global.anthropic...}, an ARN, {@code ...@20251001}) passes
 * as it is. {@link #canonical} maps any spelling back to the family name the price table uses.
 */
public final class ModelCatalogue {
    public static final String VERSION = "2026-11";

    /** Ids of one model; {@code global}: Bedrock serves it through the global cross-region profile. */
    record Ids(String bedrock, String vertex, boolean global) {}

    private static final Map<String, Ids> MODELS = new LinkedHashMap<>();
    private static final Pattern DATE = Pattern.compile("-20\\d{6}$");
    private static final Pattern BEDROCK_VERSION = Pattern.compile("-v\\d+(:\\d+)?$");

    static {
        MODELS.put("claude-opus-4-6", new Ids("anthropic.claude-opus-4-6", "claude-opus-4-6", true));
        MODELS.put("claude-sonnet-4-6", new Ids("anthropic.claude-sonnet-4-6", "claude-sonnet-4-6", true));
        MODELS.put("claude-haiku-4-6", new Ids("anthropic.claude-haiku-4-6", "claude-haiku-4-6", true));
        MODELS.put("claude-opus-4-5", new Ids("anthropic.claude-opus-4-5-20251101-v1:0", "claude-opus-4-5@20251101", true));
        MODELS.put("claude-sonnet-4-5", new Ids("anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5@20250929", true));
        MODELS.put("claude-haiku-4-5", new Ids("anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5@20251001", true));
        MODELS.put("claude-opus-4-1", new Ids("anthropic.claude-opus-4-1-20250805-v1:0", "claude-opus-4-1@20250805", false));
        MODELS.put("claude-opus-4", new Ids("anthropic.claude-opus-4-20250514-v1:0", "claude-opus-4@20250514", false));
        MODELS.put("claude-sonnet-4", new Ids("anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4@20250514", true));
        MODELS.put("claude-3-7-sonnet", new Ids("anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3-7-sonnet@20250219", false));
        MODELS.put("claude-3-5-haiku", new Ids("anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku@20241022", false));
    }

    private ModelCatalogue() {}

    /** True when {@code family} (a {@link #canonical} name) is a model of this catalogue. */
    public static boolean knows(String family) {
        return MODELS.containsKey(family);
    }

    /** The family name of any spelling: {@code global.anthropic.claude-haiku-4-5-20251001-v1:0} and {@code claude-haiku-4-5@20251001} give {@code claude-haiku-4-5}. */
    public static String canonical(String id) {
        String name = id;
        int slash = name.lastIndexOf('/');
        if (name.startsWith("arn:") && slash >= 0) {
            name = name.substring(slash + 1);
        }
        int anthropic = name.indexOf("anthropic.");
        if (anthropic >= 0) {
            name = name.substring(anthropic + "anthropic.".length());
        }
        int at = name.indexOf('@');
        if (at >= 0) {
            name = name.substring(0, at);
        }
        name = BEDROCK_VERSION.matcher(name).replaceFirst("");
        return DATE.matcher(name).replaceFirst("");
    }

    /** The id to send to a provider of {@code type} for a model a client named. */
    public static String providerId(ProviderType type, String requested, String region) {
        switch (type) {
            case BEDROCK -> {
                if (requested.startsWith("arn:") || requested.contains("anthropic.")) {
                    return requested;
                }
                Ids ids = MODELS.get(canonical(requested));
                return ids == null ? requested : (ids.global() ? "global." : regionalPrefix(region)) + ids.bedrock();
            }
            case VERTEX -> {
                if (requested.contains("@")) {
                    return requested;
                }
                Ids ids = MODELS.get(canonical(requested));
                return ids == null ? requested : ids.vertex();
            }
            default -> {
                return requested;
            }
        }
    }

    /** Bedrock's geography prefix of a region's cross-region inference profiles. */
    static String regionalPrefix(String region) {
        String r = region == null ? "" : region.toLowerCase(Locale.ROOT);
        if (r.startsWith("eu-")) {
            return "eu.";
        }
        if (r.startsWith("ap-")) {
            return "apac.";
        }
        return "us.";
    }
}

package ai.finops.gateway.auth;

import ai.finops.crds.validation.Globs;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A compiled VirtualKey. Holds only the SHA-256 of the token.
 *
 * @param expiresAt null when the key does not expire
 * @param budget the key's own {@code spec.budget}, over this key alone; null when it has none
 * @param rateLimits its {@code spec.rateLimits}; {@link RateLimits#NONE} when it has none
 * @param allowMcpServers McpServer names whose tools it may use on {@code /mcp}; empty = all
 * @param allowMcpTools globs over tool names as {@code /mcp} lists them ({@code <prefix>__<tool>}); empty = all
 */
public record KeyEntry(
        String name,
        String owner,
        String team,
        byte[] tokenSha256,
        boolean disabled,
        Instant expiresAt,
        List<String> allowProviders,
        List<String> allowModels,
        CompiledBudget budget,
        RateLimits rateLimits,
        List<String> allowMcpServers,
        List<String> allowMcpTools) {

    public KeyEntry {
        rateLimits = Objects.requireNonNullElse(rateLimits, RateLimits.NONE);
        allowMcpServers = List.copyOf(Objects.requireNonNullElse(allowMcpServers, List.of()));
        allowMcpTools = List.copyOf(Objects.requireNonNullElse(allowMcpTools, List.of()));
    }

    /** A key that may use every MCP server and tool. */
    public KeyEntry(String name, String owner, String team, byte[] tokenSha256, boolean disabled, Instant expiresAt,
            List<String> allowProviders, List<String> allowModels, CompiledBudget budget, RateLimits rateLimits) {
        this(name, owner, team, tokenSha256, disabled, expiresAt, allowProviders, allowModels, budget, rateLimits, List.of(), List.of());
    }

    /** A key without budget or rate limits. */
    public KeyEntry(String name, String owner, String team, byte[] tokenSha256, boolean disabled, Instant expiresAt,
            List<String> allowProviders, List<String> allowModels) {
        this(name, owner, team, tokenSha256, disabled, expiresAt, allowProviders, allowModels, null, RateLimits.NONE);
    }

    /**
     * A key's {@code spec.rateLimits}, validated (each set value is at least 1). 0 means no limit of that kind.
     *
     * @param requestsPerMinute requests in any minute
     * @param tokensPerMinute input and output tokens in any minute
     * @param maxConcurrentRequests requests in flight at once
     */
    public record RateLimits(int requestsPerMinute, int tokensPerMinute, int maxConcurrentRequests) {
        /** No limit of any kind. */
        public static final RateLimits NONE = new RateLimits(0, 0, 0);

        public RateLimits {
            if (requestsPerMinute < 0 || tokensPerMinute < 0 || maxConcurrentRequests < 0) {
                throw new IllegalArgumentException("rate limits are not negative (0 = none)");
            }
        }

        /** Whether no limit is set. */
        public boolean isEmpty() {
            return requestsPerMinute == 0 && tokensPerMinute == 0 && maxConcurrentRequests == 0;
        }
    }

    /** Whether the key may use a deployment, named by its ProviderDeployment name or its provider type. */
    public boolean allowsProvider(String deploymentName, String providerType) {
        return allowProviders.isEmpty() || allowProviders.contains(deploymentName) || allowProviders.contains(providerType);
    }

    /** Whether any of {@code names} (the model as requested, as resolved, ...) matches the key's model globs. */
    public boolean allowsModel(String... names) {
        if (allowModels.isEmpty()) {
            return true;
        }
        for (String pattern : allowModels) {
            for (String name : names) {
                if (Globs.matches(pattern, name)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether the key may use the McpServer {@code server}. */
    public boolean allowsMcpServer(String server) {
        return allowMcpServers.isEmpty() || allowMcpServers.contains(server);
    }

    /** Whether the key may use the tool that {@code /mcp} lists as {@code prefixedName}. */
    public boolean allowsMcpTool(String prefixedName) {
        return allowMcpTools.isEmpty() || allowMcpTools.stream().anyMatch(glob -> Globs.matches(glob, prefixedName));
    }

    @Override
    public String toString() {
        return "VirtualKey[" + name + "]";
    }
}

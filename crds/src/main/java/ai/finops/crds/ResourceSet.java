package ai.finops.crds;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything one gateway snapshot (or one operator validation pass) is built from: the five kinds of
 * resources and the Secret values they refer to. Immutable: the lists and maps are copied.
 *
 * @param deployments ProviderDeployments
 * @param rules RoutingRules
 * @param keys VirtualKeys
 * @param budgets Budgets
 * @param mcpServers McpServers
 * @param secrets Secret name, then key, then the already-resolved value. Standalone mode fills it from
 *     {@code kind: Secret} files (after {@code ${ENV}} expansion), the operator from the API, a gateway
 *     running from the operator's bundle from the mounted credentials Secret (keys {@code <name>.<key>}
 *     split back into name and key)
 * @param secretChecks which {@code secretRef}s must resolve against {@code secrets}
 */
public record ResourceSet(
        List<ProviderDeployment> deployments,
        List<RoutingRule> rules,
        List<VirtualKey> keys,
        List<Budget> budgets,
        List<McpServer> mcpServers,
        Map<String, Map<String, String>> secrets,
        SecretChecks secretChecks) {

    /** Which {@code secretRef}s {@link ai.finops.crds.validation.ResourceValidator} resolves. */
    public enum SecretChecks {
        /**
         * Standalone mode: every secretRef must resolve, provider and McpServer credentials and
         * VirtualKey tokens (VirtualKeys use {@code secretRef} or {@code tokenSha256}).
         */
        ALL,
        /**
         * Provider and McpServer credentials must resolve; a VirtualKey's Secret may be missing. For the operator
         * (it generates missing VirtualKey Secrets) and for a gateway running from the operator's
         * bundle (VirtualKeys carry {@code tokenSha256}).
         */
        PROVIDER_CREDENTIALS,
        /** No Secret lookups at all: only the shape of each {@code secretRef} is checked. */
        NONE
    }

    public ResourceSet {
        deployments = List.copyOf(Objects.requireNonNullElse(deployments, List.of()));
        rules = List.copyOf(Objects.requireNonNullElse(rules, List.of()));
        keys = List.copyOf(Objects.requireNonNullElse(keys, List.of()));
        budgets = List.copyOf(Objects.requireNonNullElse(budgets, List.of()));
        mcpServers = List.copyOf(Objects.requireNonNullElse(mcpServers, List.of()));
        Map<String, Map<String, String>> copy = new LinkedHashMap<>();
        if (secrets != null) {
            secrets.forEach((name, values) -> copy.put(name, Map.copyOf(Objects.requireNonNullElse(values, Map.of()))));
        }
        secrets = java.util.Collections.unmodifiableMap(copy);
        secretChecks = Objects.requireNonNullElse(secretChecks, SecretChecks.ALL);
    }

    /** A set without McpServers. */
    public ResourceSet(List<ProviderDeployment> deployments, List<RoutingRule> rules, List<VirtualKey> keys, List<Budget> budgets,
            Map<String, Map<String, String>> secrets, SecretChecks secretChecks) {
        this(deployments, rules, keys, budgets, List.of(), secrets, secretChecks);
    }

    /** A set without Budgets nor McpServers. */
    public ResourceSet(List<ProviderDeployment> deployments, List<RoutingRule> rules, List<VirtualKey> keys,
            Map<String, Map<String, String>> secrets, SecretChecks secretChecks) {
        this(deployments, rules, keys, List.of(), List.of(), secrets, secretChecks);
    }

    /** A standalone set without Budgets nor McpServers: every secretRef must resolve ({@link SecretChecks#ALL}). */
    public ResourceSet(List<ProviderDeployment> deployments, List<RoutingRule> rules, List<VirtualKey> keys,
            Map<String, Map<String, String>> secrets) {
        this(deployments, rules, keys, List.of(), List.of(), secrets, SecretChecks.ALL);
    }

    /** An empty set. */
    public static ResourceSet empty() {
        return new ResourceSet(List.of(), List.of(), List.of(), List.of(), List.of(), Map.of(), SecretChecks.ALL);
    }

    /** Whether ProviderDeployment and McpServer credential Secrets must resolve. */
    public boolean resolvesProviderSecrets() {
        return secretChecks != SecretChecks.NONE;
    }

    /** Whether VirtualKey {@code secretRef}s must resolve (standalone mode). */
    public boolean resolvesKeySecrets() {
        return secretChecks == SecretChecks.ALL;
    }

    /** The same resources with another {@link SecretChecks}. */
    public ResourceSet withSecretChecks(SecretChecks checks) {
        return new ResourceSet(deployments, rules, keys, budgets, mcpServers, secrets, checks);
    }

    /** The same resources with other Secret values. */
    public ResourceSet withSecrets(Map<String, Map<String, String>> values) {
        return new ResourceSet(deployments, rules, keys, budgets, mcpServers, values, secretChecks);
    }

    @Override
    public String toString() {
        // never print secret values
        return "ResourceSet[deployments=" + deployments.size() + ", rules=" + rules.size() + ", keys=" + keys.size()
                + ", budgets=" + budgets.size() + ", mcpServers=" + mcpServers.size() + ", secrets=" + secrets.keySet() + ", secretChecks=" + secretChecks + "]";
    }
}

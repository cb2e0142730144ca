package ai.finops.gateway.auth;

import ai.finops.crds.validation.Globs;
import java.time.Instant;
import java.util.List;

/**
 * A compiled VirtualKey. Holds only the SHA-256 of the token.
 *
 * @param expiresAt null when the key does not expire
 */
public record KeyEntry(
        String name,
        String owner,
        String team,
        byte[] tokenSha256,
        boolean disabled,
        Instant expiresAt,
        List<String> allowProviders,
        List<String> allowModels) {

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

    @Override
    public String toString() {
        return "VirtualKey[" + name + "]";
    }
}

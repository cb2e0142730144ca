package ai.finops.gateway.auth;

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

    @Override
    public String toString() {
        return "VirtualKey[" + name + "]";
    }
}

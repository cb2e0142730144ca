package ai.finops.operator.bundle;

import java.util.SortedMap;

/**
 * One namespace's gateway configuration, derived from its resources.
 *
 * @param yaml {@code bundle.yaml}: the accepted resources in the gateway's own config format, virtual
 *     keys as SHA-256 hashes only
 * @param sha256 hex SHA-256 of {@code yaml}, the ConfigMap's content-hash annotation
 * @param credentials the credentials Secret's data: {@code <Secret name>.<key>} to value, only the
 *     keys accepted ProviderDeployments read
 * @param verdicts every input resource, accepted or not
 */
public record Bundle(String yaml, String sha256, SortedMap<String, String> credentials, SortedMap<ResourceKey, Verdict> verdicts) {

    /** Never the credential values. */
    @Override
    public String toString() {
        return "Bundle[sha256=" + sha256 + ", credentials=" + credentials.keySet() + ", verdicts=" + verdicts + "]";
    }

}

package ai.finops.gateway.config;

import ai.finops.crds.validation.Problem;
import java.time.Instant;
import java.util.List;

/**
 * Which configuration serves, and what became of the last change on disk: what {@code /readyz} and
 * the config meters report.
 *
 * @param generation the generation serving
 * @param contentHash SHA-256 (hex) of the files it was compiled from, names and contents, or null
 * @param servingSince when it was loaded
 * @param rejectedAt when a change on disk was last rejected while this generation serves, or null
 * @param problems how many problems that change had
 * @param firstProblem the first of them, or null
 */
public record ConfigStatus(long generation, String contentHash, Instant servingSince, Instant rejectedAt, int problems, String firstProblem) {

    static ConfigStatus serving(Snapshot snapshot, String contentHash) {
        return new ConfigStatus(snapshot.generation(), contentHash, snapshot.loadedAt(), null, 0, null);
    }

    /** The same generation serving, after a change on disk was rejected. */
    ConfigStatus rejected(Instant at, List<Problem> all) {
        return new ConfigStatus(generation, contentHash, servingSince, at, all.size(), all.isEmpty() ? null : all.get(0).toString().replace('\n', ' '));
    }

    /** True unless the last change on disk was rejected (the files on disk are not what serves). */
    public boolean lastReloadAccepted() {
        return rejectedAt == null;
    }
}

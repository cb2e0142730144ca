package ai.finops.gateway.config;

import ai.finops.crds.validation.Problem;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/** The current snapshot, swapped with one atomic set (DESIGN §3), and the {@link ConfigStatus} to report. */
public final class SnapshotHolder {
    private final AtomicReference<Snapshot> current = new AtomicReference<>();
    private volatile ConfigStatus status;

    public Snapshot current() {
        return current.get();
    }

    public void publish(Snapshot snapshot) {
        publish(snapshot, null);
    }

    /** Publishes {@code snapshot}, compiled from files whose SHA-256 is {@code contentHash}. */
    public void publish(Snapshot snapshot, String contentHash) {
        current.set(snapshot);
        status = ConfigStatus.serving(snapshot, contentHash);
    }

    /** A change on disk was rejected: the current snapshot keeps serving. */
    public void rejected(Instant at, List<Problem> problems) {
        status = status.rejected(at, problems);
    }

    public ConfigStatus status() {
        return status;
    }
}

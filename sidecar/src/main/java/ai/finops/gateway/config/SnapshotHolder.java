package ai.finops.gateway.config;

import java.util.concurrent.atomic.AtomicReference;

/** The current snapshot, swapped with one atomic set (DESIGN §3). */
public final class SnapshotHolder {
    private final AtomicReference<Snapshot> current = new AtomicReference<>();

    public Snapshot current() {
        return current.get();
    }

    public void publish(Snapshot snapshot) {
        current.set(snapshot);
    }
}

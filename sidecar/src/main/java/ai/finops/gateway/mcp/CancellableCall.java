package ai.finops.gateway.mcp;

/**
 * A {@code tools/call} in flight that the client's {@code notifications/cancelled} can end: given up on the
 * gateway (its answer ends the client's request), and cancelled upstream under the id it was sent there with,
 * on the upstream session that sent it. A cancellation that comes before the call went upstream stops it here
 * (or, in a race, reaches the server as soon as the call does). Thread-safe.
 */
final class CancellableCall {
    private UpstreamSession session;
    private Object upstreamId;
    private Runnable giveUp;
    private String cancelled;

    /** The call went to {@code session} under {@code id} (again under a new id if it is sent again). */
    void sent(UpstreamSession session, Object id) {
        String reason;
        synchronized (this) {
            this.session = session;
            this.upstreamId = id;
            reason = cancelled;
        }
        if (reason != null) {
            session.cancel(id, reason);
        }
    }

    /** How to give the call up on the gateway; run at once if it was cancelled already. */
    void started(Runnable giveUp) {
        boolean now;
        synchronized (this) {
            this.giveUp = giveUp;
            now = cancelled != null;
        }
        if (now) {
            giveUp.run();
        }
    }

    /** The client cancelled the call, saying {@code reason} (never null). */
    void cancel(String reason) {
        UpstreamSession s;
        Object id;
        Runnable local;
        synchronized (this) {
            if (cancelled != null) {
                return;
            }
            cancelled = reason;
            s = session;
            id = upstreamId;
            local = giveUp;
        }
        if (local != null) {
            local.run();
        }
        if (s != null) {
            s.cancel(id, reason);
        }
    }
}

package ai.finops.governance;

/**
 * A {@link CounterStore} call that could not be decided: the store did not answer within its
 * timeout, is not connected, or failed. The call's effect is unknown: a {@code reserve} may have been
 * applied (its reservation then lapses after its ttl, or a {@code settle} of the same id releases it),
 * a {@code settle} may have been applied (settling the same id again is safe). What the gateway does
 * then (admit or refuse) is its policy, not the store's.
 */
public final class StoreUnavailable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StoreUnavailable(String message) {
        super(message);
    }

    public StoreUnavailable(String message, Throwable cause) {
        super(message, cause);
    }
}

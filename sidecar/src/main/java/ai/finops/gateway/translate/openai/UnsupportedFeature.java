package ai.finops.gateway.translate.openai;

/** A request uses a feature its provider lacks: answered 400 before anything is sent upstream. */
public final class UnsupportedFeature extends RuntimeException {
    public UnsupportedFeature(String message) {
        super(message, null, false, false);
    }
}

package ai.finops.gateway.server;

import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.upstream.Upstream;

/**
 * Where one proxied request stands. {@link ProxyExchange} moves between these in one place (its
 * {@code to}); what a state holds (a call, a body) is let go of when the request leaves it.
 */
sealed interface ExchangeState {

    /** The admit step decides. */
    record Admitting() implements ExchangeState {}

    /** Attempt {@code n} waits for its deployment's credential. */
    record Preparing(int n, Attempt attempt) implements ExchangeState {}

    /** Attempt {@code n} is out: no answer yet. */
    record Calling(int n, Attempt attempt, Upstream.Call call) implements OnCall {}

    /** Attempt {@code n} answered; its body goes to the client as it arrives (the head already went). */
    record Relaying(int n, Attempt attempt, Upstream.Call call, ResponseRelay body) implements OnCall {}

    /** Attempt {@code n} answered; its body is read whole before the client gets anything. */
    record Buffering(int n, Attempt attempt, Upstream.Call call, BufferedResponse body) implements OnCall {}

    /** The request ended so; whatever arrives now is late and dropped. */
    record Done(String outcome) implements ExchangeState {}

    /** A state with an upstream call in flight. */
    sealed interface OnCall extends ExchangeState permits Calling, Relaying, Buffering {
        int n();

        Attempt attempt();

        Upstream.Call call();

        /** Lets go of the body held, if any (the call is cancelled separately). */
        default void releaseBody() {
            if (this instanceof Relaying r) {
                r.body().release();
            } else if (this instanceof Buffering b) {
                b.body().release();
            }
        }
    }
}

package ai.finops.gateway.observability;

import ai.finops.gateway.routing.Attempt;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Every observer of one request, told each event in turn: what the exchange calls instead of looping
 * itself. One that throws is logged and the others are still told, so a faulty listener never breaks
 * a request.
 */
public final class ExchangeObservers implements ExchangeListener.Observer {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ExchangeObservers.class);

    private final List<ExchangeListener.Observer> observers;
    private final String requestId;

    /** Starts the request with each of {@code listeners}. */
    public ExchangeObservers(List<ExchangeListener> listeners, ExchangeListener.RequestStart start) {
        this.observers = new ArrayList<>(listeners.size() + 1);
        this.requestId = start.requestId();
        for (ExchangeListener l : listeners) {
            observers.add(l.started(start));
        }
    }

    /** One more observer from here on (the admit step's settlement). */
    public void add(ExchangeListener.Observer observer) {
        observers.add(observer);
    }

    @Override
    public void attemptStarted(int number, Attempt attempt) {
        each(o -> o.attemptStarted(number, attempt));
    }

    @Override
    public void sending(int number, HttpHeaders upstreamHeaders) {
        each(o -> o.sending(number, upstreamHeaders));
    }

    @Override
    public void attemptEnded(int number, Attempt attempt, String outcome) {
        each(o -> o.attemptEnded(number, attempt, outcome));
    }

    @Override
    public void firstByte(long nanos) {
        each(o -> o.firstByte(nanos));
    }

    @Override
    public void ended(ExchangeListener.RequestEnd end) {
        each(o -> o.ended(end));
    }

    /** The trace id of the observer that records the request as a span (there is one tracer at most), or null. */
    @Override
    public String traceId() {
        ExchangeListener.Observer traced = traced();
        return traced == null ? null : traced.traceId();
    }

    @Override
    public String spanId() {
        ExchangeListener.Observer traced = traced();
        return traced == null ? null : traced.spanId();
    }

    private ExchangeListener.Observer traced() {
        for (ExchangeListener.Observer o : observers) {
            if (o.traceId() != null) {
                return o;
            }
        }
        return null;
    }

    private void each(Consumer<ExchangeListener.Observer> event) {
        for (ExchangeListener.Observer o : observers) {
            try {
                event.accept(o);
            } catch (RuntimeException e) {
                LOG.atError().setCause(e).addKeyValue("request_id", requestId).log("a request listener failed");
            }
        }
    }
}

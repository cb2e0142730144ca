package ai.finops.gateway.server;

import ai.finops.gateway.dialect.Headers;
import ai.finops.gateway.governance.Admission;
import ai.finops.gateway.governance.Quota;
import ai.finops.gateway.observability.ExchangeObservers;
import ai.finops.gateway.observability.Metrics;
import ai.finops.gateway.provider.ProviderAdapter;
import ai.finops.gateway.provider.ProviderCall;
import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.routing.Deployment;
import ai.finops.gateway.server.ExchangeState.Admitting;
import ai.finops.gateway.server.ExchangeState.Buffering;
import ai.finops.gateway.server.ExchangeState.Calling;
import ai.finops.gateway.server.ExchangeState.Done;
import ai.finops.gateway.server.ExchangeState.OnCall;
import ai.finops.gateway.server.ExchangeState.Preparing;
import ai.finops.gateway.server.ExchangeState.Relaying;
import ai.finops.gateway.translate.Usage;
import ai.finops.gateway.translate.openai.ToolNames;
import ai.finops.gateway.translate.openai.UnsupportedFeature;
import ai.finops.gateway.upstream.Upstream;
import ai.finops.gateway.upstream.UpstreamFailure;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * One proxied request, from the resolved attempts to the last byte (DESIGN §4): admit, then one
 * {@link Upstream.Call} per attempt, then relay or buffer its answer, then account. Where it stands is
 * an {@link ExchangeState}, changed only by {@link #to}; the events (admission decided, credential
 * ready, head, body, failure, the client's) each check that they fit the state. Everything runs on the
 * client channel's event loop.
 *
 * <p>Until the first response byte reaches the client, a failure moves on: another try on the same
 * deployment for connection failures and 5xx (up to its {@code retries.attempts}; a request already
 * written is not sent again after a first-byte timeout), else the next attempt; 429/529/5xx also cool
 * the deployment down. After the first byte there is no retry: a failure becomes an SSE {@code error}
 * event and the connection closes, never a clean end.
 */
final class ProxyExchange {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ProxyExchange.class);

    private final GatewayContext gateway;
    private final ChannelHandlerContext client;
    private final ProxiedRequest proxied;      // its request released once a response is relayed, or when the exchange ends
    private boolean requestReleased;
    private final String requestId;
    private final Runnable onDone;
    private final Runnable onConnectionClosing; // pipelined requests behind this one must not start
    private final AttemptPlan plan;
    private final ExchangeObservers observers;
    private final ToolNames toolNames = new ToolNames();
    private final Usage usage = new Usage();

    private ExchangeState state = new Admitting();
    private int reportedAttempt;       // the last attempt whose end the observers were told
    private int status;                // what the client got, or gets
    private long firstByteNanos;
    private String upstreamRequestId;
    private boolean betasDropped;      // the provider refused a beta: the request went again without any
    private boolean thinkingDropped;   // the provider refused another provider's thinking signatures
    private Quota quota;               // the key's limits and budget left, for the response's headers; null: none

    ProxyExchange(GatewayContext gateway, ChannelHandlerContext client, ProxiedRequest proxied, Runnable onDone, Runnable onConnectionClosing) {
        this.gateway = gateway;
        this.client = client;
        this.proxied = proxied;
        this.requestId = proxied.requestId();
        this.onDone = onDone;
        this.onConnectionClosing = onConnectionClosing;
        this.plan = new AttemptPlan(proxied.resolution().attempts());
        this.observers = new ExchangeObservers(gateway.listeners(), proxied.start());
    }

    // ---- the steps -------------------------------------------------------------------------------

    private boolean openAi() {
        return "openai".equals(proxied.surface());
    }

    void start() {
        List<Attempt> attempts = proxied.resolution().attempts();
        Resume.on(client.channel().eventLoop(), gateway.admission().admit(new Admission.Request(proxied.key(), proxied.budgets(), attempts, proxied.body())),
                attempts.get(0).deployment().connectTimeout(), this::admitted);
    }

    private void admitted(Admission.Verdict verdict, Throwable error) {
        if (!(state instanceof Admitting)) {
            return;                    // the client left meanwhile
        }
        if (error != null) {
            respondError(Metrics.OUTCOME_ADMISSION, 503, "the request could not be admitted: " + describe(error), false);
        } else if (verdict instanceof Admission.Refused refused) {
            status = refused.status();
            end(Metrics.OUTCOME_ADMISSION, status, Endings.refusal(client, refused, requestId));
        } else {
            Admission.Admitted admitted = (Admission.Admitted) verdict;
            if (admitted.settlement() != null) {
                observers.add(admitted.settlement());
            }
            quota = admitted.quota();
            nextAttempt();
        }
    }

    private void nextAttempt() {
        Attempt a = plan.next();
        if (a == null) {
            respondError(plan.failureStatus(), plan.allFailed());
            return;
        }
        String unsupported = a.deployment().adapter().unsupported(proxied.apiPath());
        if (unsupported != null) {
            plan.failed(a.deployment().name() + ": " + unsupported, 400, false);
            nextAttempt();
            return;
        }
        int n = plan.called();
        observers.attemptStarted(n, a);
        to(new Preparing(n, a));
        Deployment d = a.deployment();
        Resume.on(client.channel().eventLoop(), d.adapter().ready(), d.firstByteTimeout(), (ok, error) -> ready(n, a, error));
    }

    /** The deployment's credential is there (or not): build the request and call. */
    private void ready(int n, Attempt a, Throwable error) {
        if (!(state instanceof Preparing p && p.n() == n)) {
            return;
        }
        Deployment d = a.deployment();
        if (error instanceof TimeoutException) {
            // the wait for a credential counts against the first byte
            attemptFailed(n, a, "timeout", d.name() + ": no response within " + d.firstByteTimeout().toMillis() + " ms", true, 504);
            return;
        }
        if (error != null) {
            attemptFailed(n, a, "credentials", d.name() + ": cannot get a provider credential: " + describe(UpstreamFailure.rootCause(error)), false, 502);
            return;
        }
        FullHttpRequest out;
        try {
            out = d.adapter().request(new ProviderCall(proxied.request(), proxied.body(), proxied.apiPath(), proxied.betaQuery(), a.model(),
                    client.alloc(), betasDropped,
                    thinkingDropped, toolNames));
        } catch (UnsupportedFeature e) {
            attemptFailed(n, a, "unsupported", d.name() + ": " + e.getMessage(), false, 400);   // nothing sent; another may have the feature
            return;
        } catch (RuntimeException e) {
            attemptFailed(n, a, "request", d.name() + ": cannot build the request: " + describe(e), false, 502);
            return;
        }
        observers.sending(n, out.headers());
        Upstream.Call call = gateway.upstream().call(client.channel().eventLoop(), d.endpoint(),
                new Upstream.Timeouts(d.connectTimeout(), d.firstByteTimeout(), d.idleTimeout()), out, new AttemptEvents(n));
        to(new Calling(n, a, call));
        call.start();
    }

    /** What the call of attempt {@code n} reports; anything for an attempt that is over is dropped. */
    private final class AttemptEvents implements Upstream.Receiver {
        private final int n;

        AttemptEvents(int n) {
            this.n = n;
        }

        @Override
        public void onHead(HttpResponse head) {
            if (state instanceof Calling c && c.n() == n) {
                answered(c, head);
            } else if (current(n)) {
                unexpected("a second response head");
            }
        }

        @Override
        public void onBody(ByteBuf chunk, boolean last) {
            if (state instanceof Relaying r && r.n() == n) {
                relayed(r, chunk, last);
            } else if (state instanceof Buffering b && b.n() == n) {
                buffered(b, chunk, last);
            } else if (current(n)) {
                unexpected("a response body before its head");
            }
        }

        @Override
        public void onFailure(Upstream.Failure failure) {
            if (current(n)) {
                callFailed((OnCall) state, failure);
            }
        }
    }

    /** The head of attempt {@code c}: move on (a retryable status with something left to try), buffer, or relay. */
    private void answered(Calling c, HttpResponse head) {
        Deployment d = c.attempt().deployment();
        int code = head.status().code();
        boolean retryable = AttemptPlan.retryable(code);
        if (retryable) {
            gateway.cooldowns().coolDown(d, head.headers().get(HttpHeaderNames.RETRY_AFTER));
        }
        if (retryable && plan.anotherAfter(code)) {
            attemptFailed(c.n(), c.attempt(), "status_" + code, d.name() + ": HTTP " + code, AttemptPlan.retriesSame(code), 502);
            return;                    // the error body is not read: the connection closes
        }
        upstreamRequestId = head.headers().get(Headers.UPSTREAM_REQUEST_ID);
        ProviderAdapter adapter = d.adapter();
        var transcoder = code < 300 ? adapter.transcoder(head.headers(), client.alloc(), toolNames) : null;
        // read whole: an error (passed on only when it arrived whole, or the reason to adapt the request), a body in the
        // provider's own format, and a plain body for the OpenAI surface (translated whole, so nothing reached the client yet)
        boolean plain = transcoder == null && !ResponseRelay.isEventStream(head);
        if (code >= 400 || plain && code < 300 && (adapter.rewritesResponseBody(proxied.apiPath()) || !"anthropic".equals(proxied.surface()))) {
            if (transcoder != null) {
                transcoder.release();
            }
            to(new Buffering(c.n(), c.attempt(), c.call(), new BufferedResponse(head, client.alloc())));
            return;
        }
        ResponseRelay relay = ResponseRelay.open(client, head, transcoder, usage, gateway.snapshots().current().settings().maxEventBytes());
        to(new Relaying(c.n(), c.attempt(), c.call(), relay));
        releaseRequest();              // relayed bytes mean no other attempt: a long stream holds no request body
        status = code;
        firstByte();
        HttpResponse clientHead = relay.clientHead(head, requestId);
        QuotaHeaders.apply(clientHead.headers(), quota, openAi());
        client.writeAndFlush(clientHead);
        if (!client.channel().isWritable()) {
            c.call().pause();
        }
    }

    private void relayed(Relaying r, ByteBuf chunk, boolean last) {
        ResponseRelay.Ending ending = r.body().relay(chunk, last);
        if (ending == null) {
            return;
        }
        if (ending.cut()) {
            failMidStream(r, ending.kind(), ending.message());
            return;
        }
        endAttempt(r.n(), r.attempt(), statusOutcome(status));
        end(status < 400 ? "ok" : "upstream_error", status, () -> client.writeAndFlush(ending.last()));
    }

    private void buffered(Buffering b, ByteBuf chunk, boolean last) {
        b.body().add(chunk);
        if (!last) {
            return;
        }
        BufferedResponse.Answer answer = b.body().answer(b.attempt().deployment(), proxied.apiPath(), betasDropped, thinkingDropped,
                toolNames, usage, requestId, client.alloc());
        if (answer instanceof BufferedResponse.Pass pass) {
            status = pass.response().status().code();
            QuotaHeaders.apply(pass.response().headers(), quota, openAi());
            firstByte();
            endAttempt(b.n(), b.attempt(), statusOutcome(b.body().status()));
            end(status < 400 ? "ok" : "upstream_error", status, () -> client.writeAndFlush(pass.response()));
        } else if (answer instanceof BufferedResponse.Again again) {
            // the same attempt once more, with the request adapted (the flags ProviderCall carries)
            betasDropped |= again.withoutBetas();
            thinkingDropped |= again.withoutThinking();
            endAttempt(b.n(), b.attempt(), "status_" + b.body().status());
            plan.again(b.attempt().deployment().name() + ": " + again.why());
            nextAttempt();
        } else {
            BufferedResponse.Unusable unusable = (BufferedResponse.Unusable) answer;
            if (unusable.cause() != null) {
                describe(unusable.cause());
            }
            endAttempt(b.n(), b.attempt(), unusable.kind());
            respondError(502, unusable.message());
        }
    }

    // ---- failures --------------------------------------------------------------------------------

    /** The call of attempt {@code on} ended without a whole response. */
    private void callFailed(OnCall on, Upstream.Failure f) {
        String name = on.attempt().deployment().name();
        if (f.cause() != null) {
            describe(f.cause());       // the exception, to the log
        }
        String kind = f.outcome().kind();
        if (on instanceof Relaying r) {
            failMidStream(r, kind, UpstreamFailure.midResponse(f, "the provider", on.attempt().deployment().idleTimeout()));
        } else if (f.outcome() == Upstream.Outcome.TIMEOUT) {
            // a request already written is not sent to the same deployment again: it may be running there
            attemptFailed(on.n(), on.attempt(), kind, name + ": " + f.words(), !f.written(), 504);
        } else if (f.outcome() == Upstream.Outcome.MALFORMED) {
            attemptFailed(on.n(), on.attempt(), kind, name + ": the provider sent a malformed response head (not valid HTTP)", false, 502);
        } else {
            // no answer yet: connection failures may try the same deployment again (a configured try); a body cut short may not
            attemptFailed(on.n(), on.attempt(), kind, name + ": " + f.words(), !f.headReceived(), 502);
        }
    }

    /** Attempt {@code n} failed before anything reached the client: on to the next, which starts clean. */
    private void attemptFailed(int n, Attempt a, String kind, String reason, boolean tryTheSameAgain, int clientStatus) {
        endAttempt(n, a, kind);
        plan.failed(reason, clientStatus, tryTheSameAgain);
        nextAttempt();
    }

    private void failMidStream(Relaying r, String kind, String message) {
        endAttempt(r.n(), r.attempt(), kind);
        endCut("upstream_" + kind, message);
    }

    /** An event that does not fit where the request stands: it ends here, in words, never hangs. */
    private void unexpected(String what) {
        LOG.atError().addKeyValue("request_id", requestId).addKeyValue("state", state.getClass().getSimpleName()).log("unexpected upstream event: " + what);
        if (state instanceof Relaying) {
            endCut("upstream_malformed", "the provider's response could not be followed: " + what);
        } else {
            respondError(502, "the provider's response could not be followed: " + what);
        }
    }

    // ---- the client ------------------------------------------------------------------------------

    /** The client went away: stop everything, never reuse the upstream connection. */
    void clientClosed() {
        if (!(state instanceof Done)) {
            end("client_closed", 499, () -> { });
        }
    }

    /** The shutdown grace period is over: the client learns why its response ends here; the connection closes. */
    void cutByShutdown() {
        String message = "the gateway is shutting down; retry the request";
        if (state instanceof Relaying) {
            endCut(Metrics.OUTCOME_SHUTDOWN, message);
        } else if (!(state instanceof Done)) {
            onConnectionClosing.run();
            respondError(Metrics.OUTCOME_SHUTDOWN, 503, message, true);
        }
    }

    void clientWritabilityChanged(boolean writable) {
        if (state instanceof Relaying r) {
            if (writable) {
                r.call().resume();
            } else {
                r.call().pause();
            }
        }
    }

    // ---- endings ---------------------------------------------------------------------------------

    /** Ends a response already under way: its client reads why, never a clean end, and the connection closes. */
    private void endCut(String outcome, String message) {
        boolean events = state instanceof Relaying r && r.body().events();
        onConnectionClosing.run();
        end(outcome, status, Endings.cut(client, events, message, requestId));
    }

    private void respondError(int code, String message) {
        respondError("upstream_error", code, message, false);
    }

    /** Answers with an error of the gateway's own; with {@code close}, the connection then ends. */
    private void respondError(String outcome, int code, String message, boolean close) {
        status = code;
        end(outcome, code, Endings.error(client, code, message, requestId, close));
    }

    /**
     * Ends the exchange: accounted (observers: meters, access log) before {@code lastWrite} releases the
     * end of the response, so a client that has read its whole response finds it counted.
     */
    private void end(String outcome, int finalStatus, Runnable lastWrite) {
        if (state instanceof OnCall on) {
            endAttempt(on.n(), on.attempt(), "cancelled");
        } else if (state instanceof Preparing p) {
            endAttempt(p.n(), p.attempt(), "cancelled");
        }
        to(new Done(outcome));
        releaseRequest();
        observers.ended(proxied.end(plan.current(), outcome, finalStatus, firstByteNanos, usage, upstreamRequestId, plan.calls(),
                plan.failures(), observers));
        lastWrite.run();
        onDone.run();
    }

    /** The one place the state changes: what the state left held (a call, a body) is let go of. */
    private void to(ExchangeState next) {
        ExchangeState left = state;
        state = next;
        if (left instanceof OnCall on) {
            if (left instanceof Calling && next instanceof OnCall same && same.call() == on.call()) {
                return;                // the same call goes on, now with its answer
            }
            on.releaseBody();
            on.call().cancel();        // a call that ended already ignores it
        }
    }

    /** Lets the client's request body go (its headers stay readable); the upstream write holds its own reference. */
    private void releaseRequest() {
        if (!requestReleased) {
            requestReleased = true;
            proxied.request().release();
        }
    }

    private void endAttempt(int n, Attempt a, String outcome) {
        if (n > reportedAttempt) {
            reportedAttempt = n;
            observers.attemptEnded(n, a, outcome);
        }
    }

    private void firstByte() {
        firstByteNanos = System.nanoTime() - proxied.startNanos();
        observers.firstByte(firstByteNanos);
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private boolean current(int n) {
        return state instanceof OnCall on && on.n() == n;
    }

    private static String statusOutcome(int code) {
        return AttemptPlan.retryable(code) ? "status_" + code : "ok";
    }

    /**
     * What failed, in words for the client and the access log (no exception class, address or endpoint);
     * the exception itself goes to this class's log with the request id and deployment.
     */
    private String describe(Throwable cause) {
        Attempt a = plan.current();
        LOG.atWarn().addKeyValue("request_id", requestId).addKeyValue("deployment", a == null ? null : a.deployment().name())
                .addKeyValue("cause", cause.getClass().getName() + ": " + cause.getMessage()).log("upstream attempt failed");
        return UpstreamFailure.inWords(cause);
    }
}

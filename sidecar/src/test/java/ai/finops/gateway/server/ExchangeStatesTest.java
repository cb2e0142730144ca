package ai.finops.gateway.server;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.gateway.config.ConfigService;
import ai.finops.gateway.governance.Admission;
import ai.finops.gateway.observability.ExchangeListener;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.routing.Cooldowns;
import ai.finops.gateway.upstream.TlsContexts;
import ai.finops.gateway.upstream.Upstream;
import ai.finops.gateway.upstream.UpstreamConnector;
import ai.finops.testkit.NettyLeakDetector;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The exchange's states on an EmbeddedChannel, with scripted upstream calls in place of the
 * connector: every state receives every event, including events for an attempt that is over and
 * events after the end. Whatever happens, the request ends exactly once, the client gets one answer
 * (or a closed connection), every upstream request is released and no buffer leaks.
 */
@ExtendWith(NettyLeakDetector.class)
class ExchangeStatesTest {
    static final String KEY = "vk-states-0123456789abcdef";

    enum State { ADMITTING, CALLING, RELAYING_EVENTS, RELAYING_BODY, BUFFERING, AFTER_FALLBACK, DONE }

    enum Event {
        HEAD_STREAM, HEAD_JSON, HEAD_503, HEAD_400, BODY_CHUNK, BODY_LAST, RESET_BEFORE_WRITE, RESET_AFTER_WRITE, TIMEOUT, IDLE,
        TRUNCATED, MALFORMED, CLIENT_CLOSED, WRITABILITY, SHUTDOWN_CUT, ADMITTED
    }

    static List<Object[]> everyStateAndEvent() {
        List<Object[]> cases = new ArrayList<>();
        for (State s : State.values()) {
            for (Event e : Event.values()) {
                cases.add(new Object[] {s, e});
            }
        }
        return cases;
    }

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} receives {1}")
    @MethodSource("everyStateAndEvent")
    void everyStateTakesEveryEventAndTheRequestEndsOnce(State state, Event event) throws Exception {
        Rig rig = new Rig(dir, state == State.ADMITTING);
        rig.send();
        ScriptedCall target = rig.reach(state);

        rig.deliver(event, target);
        rig.settle();

        assertThat(rig.ended).as("the request ends once").hasSize(1);
        assertThat(rig.responseStarts()).as("one answer, or a connection closed after a cut stream").isLessThanOrEqualTo(1);
        if (rig.responseStarts() == 0) {
            assertThat(rig.ch.isOpen()).as("no answer means the connection closed").isFalse();
        }
        for (ScriptedCall c : rig.upstream.calls) {
            assertThat(c.request.refCnt()).as("upstream request released").isZero();
        }
        rig.ch.finishAndReleaseAll();
    }

    /** A channel with the gateway's pipeline, a two-deployment fallback rule and scripted upstream calls. */
    static final class Rig {
        final ScriptedUpstream upstream = new ScriptedUpstream();
        final List<ExchangeListener.RequestEnd> ended = new ArrayList<>();
        final CompletableFuture<Admission.Verdict> admission = new CompletableFuture<>();
        final EmbeddedChannel ch;
        final StringBuilder out = new StringBuilder();

        Rig(Path dir, boolean pendingAdmission) throws Exception {
            Files.writeString(dir.resolve("config.yaml"), """
                    apiVersion: finops.ai/v1alpha1
                    kind: GatewaySettings
                    metadata: {name: gateway}
                    shutdownGracePeriod: 1s
                    ---
                    apiVersion: finops.ai/v1alpha1
                    kind: ProviderDeployment
                    metadata: {name: primary}
                    spec: {provider: anthropic, endpoint: "http://127.0.0.1:1", credentials: {secretRef: {name: p}}}
                    ---
                    apiVersion: finops.ai/v1alpha1
                    kind: ProviderDeployment
                    metadata: {name: backup}
                    spec: {provider: anthropic, endpoint: "http://127.0.0.1:2", credentials: {secretRef: {name: p}}}
                    ---
                    apiVersion: v1
                    kind: Secret
                    metadata: {name: p}
                    stringData: {apiKey: sk-x}
                    ---
                    apiVersion: finops.ai/v1alpha1
                    kind: RoutingRule
                    metadata: {name: fallback}
                    spec:
                      when: 'model == "m"'
                      targets: [{model: primary/claude-sonnet-4-6}]
                      fallbacks: [backup/claude-sonnet-4-6]
                    ---
                    apiVersion: finops.ai/v1alpha1
                    kind: VirtualKey
                    metadata: {name: dev}
                    spec: {secretRef: {name: vk}}
                    ---
                    apiVersion: v1
                    kind: Secret
                    metadata: {name: vk}
                    stringData: {token: "%s"}
                    """.formatted(KEY));
            GatewayMetrics metrics = new GatewayMetrics();
            ConfigService config = new ConfigService(List.of(dir), null, name -> null, metrics, new TlsContexts(), UnaryOperator.identity());
            config.loadInitial();
            ExchangeListener recorder = start -> new ExchangeListener.Observer() {
                @Override
                public void ended(ExchangeListener.RequestEnd end) {
                    ended.add(end);
                }
            };
            Admission admit = pendingAdmission ? request -> admission : Admission.ALWAYS;
            GatewayContext context = new GatewayContext(config.holder(), upstream, new UpstreamConnector(Bootstrap::new), new Cooldowns(), metrics,
                    Clock.systemUTC(), null, List.of(recorder), admit);
            ch = new EmbeddedChannel(new ApiChannelInitializer(context, null, new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), null));
        }

        void send() {
            String body = "{\"model\":\"m\",\"max_tokens\":16,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
            ch.writeInbound(Unpooled.copiedBuffer("POST /anthropic/v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: " + KEY
                    + "\r\ncontent-type: application/json\r\ncontent-length: " + body.length() + "\r\n\r\n" + body, StandardCharsets.UTF_8));
        }

        /** Drives the request to {@code state}; the call that events then go to (for AFTER_FALLBACK, the first, failed one). */
        ScriptedCall reach(State state) {
            switch (state) {
                case ADMITTING:
                    return null;
                case CALLING:
                    return last();
                case RELAYING_EVENTS:
                    last().head(200, "text/event-stream");
                    last().body("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n", false);
                    return last();
                case RELAYING_BODY:
                    last().head(200, "application/json");
                    last().body("{\"type\":\"message\",", false);
                    return last();
                case BUFFERING:
                    last().head(400, "application/json");
                    last().body("{\"type\":\"error\",", false);
                    return last();
                case AFTER_FALLBACK:
                    ScriptedCall first = last();
                    first.fail(Upstream.Outcome.RESET_AFTER_WRITE, true, 0);
                    assertThat(upstream.calls).hasSize(2);
                    return first;
                case DONE:
                    ScriptedCall only = last();
                    completeStream(only);
                    assertThat(ended).hasSize(1);
                    return only;
                default:
                    throw new IllegalStateException();
            }
        }

        void deliver(Event event, ScriptedCall call) {
            ScriptedCall c = call;
            switch (event) {
                case ADMITTED -> admission.complete(Admission.Admitted.FREELY);
                case CLIENT_CLOSED -> ch.close();
                case WRITABILITY -> ch.pipeline().fireChannelWritabilityChanged();
                case SHUTDOWN_CUT -> ch.pipeline().fireUserEventTriggered(new SequentialRequests.GracePeriodOver());
                default -> {
                    if (c == null) {
                        return;   // no call yet: nothing upstream can speak
                    }
                    switch (event) {
                        case HEAD_STREAM -> c.head(200, "text/event-stream");
                        case HEAD_JSON -> c.head(200, "application/json");
                        case HEAD_503 -> c.head(503, "application/json");
                        case HEAD_400 -> c.head(400, "application/json");
                        case BODY_CHUNK -> c.body("{\"x\":1}", false);
                        case BODY_LAST -> c.body("}", true);
                        case RESET_BEFORE_WRITE -> c.fail(Upstream.Outcome.RESET_BEFORE_WRITE, false, c.status);
                        case RESET_AFTER_WRITE -> c.fail(Upstream.Outcome.RESET_AFTER_WRITE, true, c.status);
                        case TIMEOUT -> c.fail(Upstream.Outcome.TIMEOUT, true, c.status);
                        case IDLE -> c.fail(Upstream.Outcome.IDLE, true, c.status);
                        case TRUNCATED -> c.fail(Upstream.Outcome.TRUNCATED, true, c.status);
                        case MALFORMED -> c.fail(Upstream.Outcome.MALFORMED, true, c.status);
                        default -> throw new IllegalStateException();
                    }
                }
            }
            drain();
        }

        /** Whatever is still open ends as a healthy upstream would end it. */
        void settle() {
            for (int i = 0; i < 6 && ended.isEmpty() && ch.isOpen(); i++) {
                if (!admission.isDone()) {
                    admission.complete(Admission.Admitted.FREELY);
                    drain();
                    continue;
                }
                ScriptedCall c = upstream.calls.isEmpty() ? null : last();
                if (c == null || c.ended) {
                    break;
                }
                if (c.status == 0) {
                    completeStream(c);
                } else {
                    c.body("", true);
                }
                drain();
            }
            drain();
        }

        void completeStream(ScriptedCall c) {
            c.head(200, "text/event-stream");
            c.body("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n"
                    + "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":1}}\n\n"
                    + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", true);
            drain();
        }

        ScriptedCall last() {
            return upstream.calls.get(upstream.calls.size() - 1);
        }

        void drain() {
            ch.runPendingTasks();
            ByteBuf b;
            while ((b = ch.readOutbound()) != null) {
                out.append(b.toString(StandardCharsets.UTF_8));
                b.release();
            }
        }

        int responseStarts() {
            int n = 0;
            for (int i = out.indexOf("HTTP/1.1 "); i >= 0; i = out.indexOf("HTTP/1.1 ", i + 1)) {
                n++;
            }
            return n;
        }
    }

    /** Calls that the test speaks for: nothing goes to the network. */
    static final class ScriptedUpstream implements Upstream {
        final List<ScriptedCall> calls = new ArrayList<>();

        @Override
        public Call call(EventLoop loop, ai.finops.gateway.upstream.UpstreamEndpoint endpoint, Timeouts timeouts, FullHttpRequest request,
                Receiver receiver) {
            ScriptedCall c = new ScriptedCall(request, receiver);
            calls.add(c);
            return c;
        }
    }

    /**
     * One scripted attempt. Keeps the call's contract on its own side (the request is released when the call
     * ends or is cancelled) but delivers whatever the test says, even after the end: late events must be harmless.
     */
    static final class ScriptedCall implements Upstream.Call {
        final FullHttpRequest request;
        final Upstream.Receiver receiver;
        boolean ended;
        int status;

        ScriptedCall(FullHttpRequest request, Upstream.Receiver receiver) {
            this.request = request;
            this.receiver = receiver;
        }

        @Override
        public void start() {}

        @Override
        public void pause() {}

        @Override
        public void resume() {}

        @Override
        public void cancel() {
            end();
        }

        void head(int code, String contentType) {
            status = code;
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code));
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
            receiver.onHead(head);
        }

        void body(String text, boolean last) {
            if (last) {
                end();
            }
            ByteBuf chunk = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
            try {
                receiver.onBody(chunk, last);
            } finally {
                chunk.release();
            }
        }

        void fail(Upstream.Outcome outcome, boolean written, int headStatus) {
            end();
            receiver.onFailure(new Upstream.Failure(outcome, written, headStatus, "scripted " + outcome, null));
        }

        private void end() {
            if (!ended) {
                ended = true;
                request.release();
            }
        }
    }
}

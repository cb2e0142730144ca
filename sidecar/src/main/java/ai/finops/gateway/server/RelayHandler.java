package ai.finops.gateway.server;

import ai.finops.gateway.dialect.ErrorResponses;
import ai.finops.gateway.dialect.Headers;
import ai.finops.gateway.auth.Authenticator;
import ai.finops.gateway.observability.Metrics;
import ai.finops.gateway.translate.SseFramer;
import ai.finops.gateway.upstream.Upstream;
import ai.finops.gateway.upstream.UpstreamFailure;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API surface of a {@code via-gateway} sidecar: every request goes, as the client sent it (method,
 * path, query, headers, body), to the shared gateway, and the answer comes back byte for byte,
 * streamed. The sidecar holds no provider credential and routes nothing; the shared gateway
 * authenticates, routes, limits and accounts. A request without a credential of its own gets the
 * pod's virtual key ({@link Relay#key()}); one that has a credential keeps it, so a key the user chose
 * is the key that pays.
 *
 * <p>Failures are answered in the client's dialect: before the first response byte as Anthropic
 * (or, on the OpenAI surface, OpenAI) error JSON; after it, a stream ends with an SSE error event and
 * any other body is cut off, never cleanly ended. Refused connections are tried again (a Service can
 * pick another gateway pod), and so is a pooled connection the gateway had already closed; a request
 * the gateway may have received is never sent twice. One request at a time per client connection;
 * pipelined requests wait in order. Everything runs on the client channel's event loop.
 */
final class RelayHandler extends SequentialRequests {
    private static final Logger LOG = LoggerFactory.getLogger(RelayHandler.class);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** A safety net behind the shared gateway's own timeouts (600 s per deployment by default), which answer first. */
    static final Duration FIRST_BYTE_TIMEOUT = Duration.ofMinutes(15);
    static final Duration IDLE_TIMEOUT = Duration.ofMinutes(10);
    private static final int CONNECT_TRIES = 3;
    private static final Upstream.Timeouts TIMEOUTS = new Upstream.Timeouts(CONNECT_TIMEOUT, FIRST_BYTE_TIMEOUT, IDLE_TIMEOUT);

    private final GatewayContext gateway;
    private final Relay relay;
    private final OpenAiClientDialect openai;
    private ChannelHandlerContext client;

    // the request in flight; null when none
    private FullHttpRequest request;
    private String requestId;
    private boolean openaiSurface;
    private long startNanos;
    private int connectTries;
    private boolean headSent;
    private Upstream.Call call;          // the request's call to the shared gateway, while one is out
    private SseFramer framer;            // an event stream: whole events on, an unfinished one held
    private int status;
    private ScheduledFuture<?> reconnect;

    RelayHandler(GatewayContext gateway, Relay relay, OpenAiClientDialect openai) {
        this.gateway = gateway;
        this.relay = relay;
        this.openai = openai;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        client = ctx;
    }

    @Override
    void serve(ChannelHandlerContext ctx, FullHttpRequest msg) {
        begin(msg);
    }

    /** A request is being served: the connection is not idle, however long the answer takes. */
    @Override
    boolean busy() {
        return request != null;
    }

    @Override
    void clientClosed() {
        if (!headSent) {
            status = 499;
        }
        end("client_closed", () -> { });
    }

    private void begin(FullHttpRequest msg) {
        request = msg;
        requestId = gateway.nextRequestId();
        startNanos = System.nanoTime();
        connectTries = 0;
        headSent = false;
        framer = null;
        status = 0;
        String path = ApiHandler.path(msg.uri());
        openaiSurface = ApiHandler.openAiSurface(path);
        gateway.inFlight().incrementAndGet();
        if (!msg.decoderResult().isSuccess()) {
            dropWaiting();
            respondError(400, "malformed HTTP request");
            client.flush();
            client.close();      // the decoder discards whatever follows on this connection
            return;
        }
        if (!msg.uri().startsWith("/") || dotSegment(path)) {
            respondError(400, "the request target must be a plain path, such as /anthropic/v1/messages");
            return;
        }
        connect();
    }

    /** A {@code .} or {@code ..} segment, plain or percent-encoded: the path must stay under the gateway's base path. */
    static boolean dotSegment(String path) {
        String p = path.replace("%2e", ".").replace("%2E", ".");
        for (String segment : p.split("/", -1)) {
            if (segment.equals(".") || segment.equals("..")) {
                return true;
            }
        }
        return false;
    }

    private void connect() {
        connectTries++;
        FullHttpRequest out = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, request.method(), relay.endpoint().target(request.uri()),
                request.content().retainedDuplicate());
        try {
            Headers.copyRelayedRequestHeaders(request.headers(), out.headers());
            out.headers().set(HttpHeaderNames.HOST, relay.endpoint().authority());
            HttpUtil.setContentLength(out, out.content().readableBytes());
            if (relay.key() != null && Authenticator.presentedToken(request.headers()) == null) {
                out.headers().remove(Authenticator.VIRTUAL_KEY_HEADER).remove("x-api-key")   // empty ones would hide the pod's key
                        .set(HttpHeaderNames.AUTHORIZATION, "Bearer " + relay.key());
            }
        } catch (RuntimeException e) {
            out.release();
            respondError(400, "the request cannot be relayed: " + e.getMessage());   // about the client's own headers
            return;
        }
        call = gateway.upstream().call(client.channel().eventLoop(), relay.endpoint(), TIMEOUTS, out, new Answer(request));
        call.start();
    }

    // ---- the shared gateway's answer ------------------------------------------------------

    /** What the call for one request reports; nothing for a request that is over. */
    private final class Answer implements Upstream.Receiver {
        private final FullHttpRequest forRequest;

        Answer(FullHttpRequest forRequest) {
            this.forRequest = forRequest;
        }

        @Override
        public void onHead(HttpResponse head) {
            if (request == forRequest && !headSent) {
                answered(head);
            }
        }

        @Override
        public void onBody(ByteBuf chunk, boolean last) {
            if (request == forRequest && headSent) {
                relayed(chunk, last);
            }
        }

        @Override
        public void onFailure(Upstream.Failure failure) {
            if (request == forRequest) {
                call = null;
                failed(failure);
            }
        }
    }

    private void answered(HttpResponse head) {
        status = head.status().code();
        if (ResponseRelay.isEventStream(head)) {
            framer = new SseFramer();
        }
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, head.status());
        boolean lengthKnown = HttpUtil.isContentLengthSet(head);
        Headers.copyResponseHeaders(head.headers(), response.headers(), lengthKnown);
        if (!lengthKnown && !request.method().equals(HttpMethod.HEAD) && status != 204 && status != 304) {
            HttpUtil.setTransferEncodingChunked(response, true);
        }
        headSent = true;
        client.writeAndFlush(response);
        if (!client.channel().isWritable()) {
            call.pause();
        }
    }

    private void relayed(ByteBuf chunk, boolean last) {
        ByteBuf bytes;
        if (framer == null) {
            bytes = chunk.isReadable() ? chunk.retain() : null;
        } else {
            bytes = framer.next(chunk, client.alloc(), (name, data) -> { });
            if (framer.tooLarge()) {
                if (bytes != null) {
                    client.writeAndFlush(new DefaultHttpContent(bytes));
                }
                gateway.metrics().upstreamError(Metrics.RELAY_TARGET, "event_too_large");
                failMidStream("the shared gateway sent an event larger than " + framer.maxEventBytes() + " bytes mid-response");
                return;
            }
            if (last && framer.holdsPartialEvent()) {
                if (bytes != null) {
                    client.writeAndFlush(new DefaultHttpContent(bytes));
                }
                gateway.metrics().upstreamError(Metrics.RELAY_TARGET, "truncated");
                failMidStream("the shared gateway's stream ended inside an event mid-response");
                return;
            }
            ByteBuf tail = last ? framer.takeHeld() : null;
            bytes = tail == null ? bytes : bytes == null ? tail : client.alloc().compositeBuffer(2).addComponents(true, bytes, tail);
        }
        if (last) {
            call = null;
            LastHttpContent lastContent = new DefaultLastHttpContent(bytes != null ? bytes : io.netty.buffer.Unpooled.EMPTY_BUFFER);
            end(status < 400 ? "ok" : "upstream_error", () -> client.writeAndFlush(lastContent));
        } else if (bytes != null) {
            client.writeAndFlush(new DefaultHttpContent(bytes));
        }
    }

    private void failed(Upstream.Failure f) {
        if (f.cause() != null) {
            describe(f.cause());         // the exception, to the log
        }
        gateway.metrics().upstreamError(Metrics.RELAY_TARGET, f.outcome().kind());
        Upstream.Outcome outcome = f.outcome();
        if (headSent) {
            failMidStream(UpstreamFailure.midResponse(f, "the shared gateway", IDLE_TIMEOUT));
        } else if ((outcome == Upstream.Outcome.REFUSED || outcome == Upstream.Outcome.CONNECT) && connectTries < CONNECT_TRIES) {
            // a Service may pick another gateway pod: try again shortly
            FullHttpRequest forRequest = request;
            reconnect = client.channel().eventLoop().schedule(() -> {
                reconnect = null;
                if (request == forRequest) {
                    connect();
                }
            }, 50L * connectTries, TimeUnit.MILLISECONDS);
        } else if (outcome == Upstream.Outcome.REFUSED || outcome == Upstream.Outcome.CONNECT) {
            respondError(502, "cannot reach the shared gateway at " + relay.endpoint() + ": " + f.words().replaceFirst("^cannot connect: ", ""));
        } else if (outcome == Upstream.Outcome.TIMEOUT) {
            respondError(504, "no response from the shared gateway within " + FIRST_BYTE_TIMEOUT.toSeconds() + " s");
        } else if (outcome == Upstream.Outcome.MALFORMED) {
            respondError(502, "the shared gateway sent a malformed response");
        } else {
            respondError(502, "the shared gateway failed before responding: " + f.words()
                    + (f.written() ? " (not sent again: it may have been received)" : ""));
        }
    }

    // ---- the client -----------------------------------------------------------------------------

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (call != null && headSent) {
            if (ctx.channel().isWritable()) {
                call.resume();
            } else {
                call.pause();
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    // ---- endings --------------------------------------------------------------------------------

    /** An answer of the sidecar's own, before anything of the gateway's reached the client. */
    private void respondError(int code, String message) {
        respondError("upstream_error", code, message, false);
    }

    /** Answers the request with an error of its own, in the client's dialect; with {@code close}, the connection then ends. */
    private void respondError(String outcome, int code, String message, boolean close) {
        status = code;
        if (openaiSurface && openai != null) {
            openai.begin(false);
        }
        end(outcome, () -> {
            ChannelFuture written = client.writeAndFlush(ErrorResponses.response(client.alloc(), code, message, requestId));
            if (close) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        });
    }

    @Override
    void cutByShutdown() {
        String message = "the gateway sidecar is shutting down; retry the request";
        if (!headSent) {
            dropWaiting();
            respondError(Metrics.OUTCOME_SHUTDOWN, 503, message, true);
            return;
        }
        failMidStream(Metrics.OUTCOME_SHUTDOWN, message);
    }

    private void failMidStream(String message) {
        failMidStream("upstream_reset", message);
    }

    private void failMidStream(String outcome, String message) {
        dropWaiting();           // the connection closes: nothing behind this request may start
        boolean events = framer != null;
        end(outcome, () -> {
            if (events) {    // whole events only went out: the error event stands on its own
                ByteBuf event = openaiSurface ? openAiErrorEvent(message) : ErrorResponses.sseEvent(client.alloc(), "api_error", message, requestId);
                client.write(new DefaultHttpContent(event));
                client.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
            } else {
                client.flush();
                client.close();     // a body cut short must not look complete
            }
        });
    }

    /** OpenAI's way to end a failed stream: a {@code data:} line holding an error object. */
    private ByteBuf openAiErrorEvent(String message) {
        ByteBuf buf = client.alloc().buffer();
        ByteBufUtil.writeUtf8(buf, "data: ");
        byte[] anthropic = ErrorResponses.json("api_error", message, requestId);
        byte[] translated = ai.finops.gateway.translate.openai.AnthropicToOpenAiResponses.error(anthropic);
        buf.writeBytes(translated != null ? translated : anthropic);
        ByteBufUtil.writeUtf8(buf, "\n\n");
        return buf;
    }

    /** Ends the request: counted before {@code lastWrite} releases the end of the response to the client. */
    private void end(String outcome, Runnable lastWrite) {
        if (call != null) {
            call.cancel();
            call = null;
        }
        if (reconnect != null) {
            reconnect.cancel(false);
            reconnect = null;
        }
        if (framer != null) {
            framer.release();
            framer = null;
        }
        FullHttpRequest finished = request;
        request = null;
        long duration = System.nanoTime() - startNanos;
        gateway.metrics().relayed(outcome, status, duration);
        if (!"ok".equals(outcome)) {
            LOG.atInfo().addKeyValue("request_id", requestId).addKeyValue("method", finished.method()).addKeyValue("path", ApiHandler.path(finished.uri()))
                    .addKeyValue("status", status).addKeyValue("outcome", outcome).addKeyValue("duration_ms", TimeUnit.NANOSECONDS.toMillis(duration))
                    .log("relayed request failed");
        }
        finished.release();
        lastWrite.run();
        gateway.requestEnded();
        served(client);
    }

    /** What failed, in words for the client; the exception itself goes to the log with the request id. */
    private String describe(Throwable cause) {
        LOG.atWarn().addKeyValue("request_id", requestId).addKeyValue("cause", cause.getClass().getName() + ": " + cause.getMessage())
                .log("relay to the shared gateway failed");
        return ai.finops.gateway.upstream.UpstreamFailure.inWords(cause);
    }
}

package ai.finops.gateway.server;

import ai.finops.gateway.dialect.ErrorResponses;
import ai.finops.gateway.dialect.Headers;
import ai.finops.gateway.upstream.UpstreamFailure;
import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.observability.AccessLog;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.observability.Metrics;
import ai.finops.gateway.observability.Pricing;
import ai.finops.gateway.provider.ProviderAdapter;
import ai.finops.gateway.provider.ProviderCall;
import ai.finops.gateway.provider.ProviderFeatures;
import ai.finops.gateway.translate.openai.ToolNames;
import ai.finops.gateway.translate.openai.UnsupportedFeature;
import ai.finops.gateway.provider.ResponseTranscoder;
import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.routing.Deployment;
import ai.finops.gateway.routing.Resolution;
import ai.finops.gateway.translate.AnthropicStreamScanner;
import ai.finops.gateway.translate.RequestBody;
import ai.finops.gateway.translate.SseFramer;
import ai.finops.gateway.translate.Usage;
import ai.finops.gateway.upstream.UpstreamListener;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.math.BigDecimal;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One proxied request, from the resolved attempts to the last byte: forward, relay, account
 * (DESIGN §4). Lives on the client channel's event loop; every method runs there.
 *
 * <p>Until the first response byte reaches the client, a failure (refused, reset, no first byte in
 * time, 429/529/5xx) moves on: another try on the same deployment for connection failures and 5xx
 * (up to its {@code retries.attempts}), else the next attempt; 429/529/5xx also cool the deployment
 * down. After the first byte there is no retry: a failure becomes an SSE {@code error} event and the
 * connection closes, never a clean end. Streams are relayed event by event, each flushed when
 * complete; a client that stops reading pauses the upstream read.
 */
final class ProxyExchange implements UpstreamListener {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ProxyExchange.class);
    /** Bodies of non-streaming responses are kept up to this size to read their usage. */
    private static final int MAX_SCANNED_BODY = 8 << 20;

    private final GatewayContext gateway;
    private final ChannelHandlerContext client;
    private final FullHttpRequest request;     // owned: released when the exchange ends
    private final RequestBody body;
    private final String apiPath;
    private final String surface;          // the client's dialect: anthropic or openai
    private final KeyEntry key;
    private final Resolution resolution;
    private final List<Attempt> attempts;
    private final String requestId;
    private final long startNanos;
    private final Runnable onDone;
    private final Runnable onConnectionClosing;   // pipelined requests behind this one must not start

    private int attemptIndex = -1;
    private int triesOnAttempt;
    private boolean retrySameDeployment;
    private final List<String> failures = new ArrayList<>(2);
    private int finalFailureStatus = 502;

    private boolean headSent;
    private boolean done;
    private long firstByteNanos;
    private int staleRetries;

    // the attempt in flight: all of it is forgotten (timer, connection, buffers) before the next one starts
    private Channel upstream;
    private ScheduledFuture<?> timer;
    private long lastUpstreamRead;
    private boolean clientPaused;      // the client's socket is full: the upstream read waits for it
    private boolean reusedConnection;
    private boolean requestWritten;    // the whole request reached the socket, or an answer came: the provider may have it
    private boolean informational;     // a 1xx head was read: its end is not the response's
    private boolean headReceived;      // the response head arrived: the first-byte wait is over, the idle one runs
    private boolean draining;          // discarding a retryable error response
    private int status;
    private boolean upstreamKeepAlive;
    private String upstreamRequestId;

    private boolean sse;
    private SseFramer framer;          // whole events on, an unfinished one held
    private AnthropicStreamScanner streamScanner;
    private CompositeByteBuf scannedBody;  // a non-streaming body, for its usage
    private ResponseTranscoder transcoder; // a provider's stream format to Anthropic SSE, or null
    private HttpResponse wholeHead;        // a response read whole (a provider error, a body to rewrite) before answering
    private CompositeByteBuf wholeBody;
    private boolean betasDropped;          // the provider refused a beta: the request went again without any
    private boolean thinkingDropped;       // the provider refused another provider's thinking signatures
    private final ToolNames toolNames = new ToolNames();
    private final Usage usage = new Usage();

    ProxyExchange(GatewayContext gateway, ChannelHandlerContext client, FullHttpRequest request, RequestBody body, String apiPath,
            String surface, KeyEntry key, Resolution resolution, String requestId, long startNanos, Runnable onDone, Runnable onConnectionClosing) {
        this.onConnectionClosing = onConnectionClosing;
        this.gateway = gateway;
        this.client = client;
        this.request = request;
        this.body = body;
        this.apiPath = apiPath;
        this.surface = surface;
        this.key = key;
        this.resolution = resolution;
        this.attempts = resolution.attempts();
        this.requestId = requestId;
        this.startNanos = startNanos;
        this.onDone = onDone;
    }

    void start() {
        nextAttempt();
    }

    private Attempt attempt() {
        return attempts.get(attemptIndex);
    }

    private void nextAttempt() {
        if (done) {
            return;
        }
        resetAttempt();
        if (attemptIndex >= 0 && retrySameDeployment && triesOnAttempt < attempt().deployment().attempts()) {
            triesOnAttempt++;
        } else {
            attemptIndex++;
            triesOnAttempt = 1;
        }
        retrySameDeployment = false;
        if (attemptIndex >= attempts.size()) {
            String message = "all upstream attempts failed: " + String.join("; ", failures);
            respondError(finalFailureStatus, message);
            return;
        }
        Deployment d = attempt().deployment();
        String unsupported = d.adapter().unsupported(apiPath);
        if (unsupported != null) {
            failures.add(d.name() + ": " + unsupported);
            finalFailureStatus = 400;
            retrySameDeployment = false;
            nextAttempt();
            return;
        }
        Future<Channel> connecting = gateway.connector().acquire(client.channel().eventLoop(), d.endpoint(), d.connectTimeout(), this);
        connecting.addListener(f -> {
            if (!f.isSuccess()) {
                failAttempt(connectKind(f.cause()), d.name() + ": cannot connect: " + describe(f.cause()), true, 502);
                return;
            }
            Channel ch = connecting.getNow();
            if (done) {
                gateway.connector().discard(ch);
                return;
            }
            upstream = ch;
            reusedConnection = gateway.connector().reused(ch);
            send(ch, d);
        });
    }

    private void send(Channel ch, Deployment d) {
        java.util.concurrent.CompletableFuture<Void> ready = d.adapter().ready();
        if (ready.isDone() && !ready.isCompletedExceptionally()) {
            sendNow(ch, d);
            return;
        }
        scheduleTimer(d.firstByteTimeout().toNanos());   // the wait for a credential counts against the first byte
        ready.whenComplete((ok, error) -> ch.eventLoop().execute(() -> {
            if (done || upstream != ch) {
                return;   // cancelled, or timed out, while the credential was fetched
            }
            if (error != null) {
                failAttempt("credentials", d.name() + ": cannot get a provider credential: " + describe(rootCause(error)), false, 502);
            } else {
                sendNow(ch, d);
            }
        }));
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    private void sendNow(Channel ch, Deployment d) {
        Attempt a = attempt();
        FullHttpRequest out;
        try {
            out = d.adapter().request(new ProviderCall(request, body, apiPath, betaQuery(), a.model(), ch.alloc(), betasDropped,
                    thinkingDropped, toolNames));
        } catch (UnsupportedFeature e) {
            // nothing was sent: the connection goes back to the pool, another attempt may have the feature
            cancelTimer();
            upstream = null;
            gateway.connector().release(ch, d.endpoint());
            failures.add(d.name() + ": " + e.getMessage());
            finalFailureStatus = 400;
            retrySameDeployment = false;
            nextAttempt();
            return;
        } catch (RuntimeException e) {
            failAttempt("request", d.name() + ": cannot build the request: " + describe(e), false, 502);
            return;
        }
        lastUpstreamRead = System.nanoTime();
        scheduleTimer(d.firstByteTimeout().toNanos());
        ch.writeAndFlush(out).addListener((ChannelFutureListener) f -> {
            if (done || upstream != f.channel()) {
                return;
            }
            if (f.isSuccess()) {
                requestWritten = true;
            } else {
                failAttempt("reset", d.name() + ": could not send the request: " + describe(f.cause()), true, 502);
            }
        });
    }

    /** Clients may send {@code ?beta=true} (the Anthropic SDKs' beta endpoints); nothing else of the query passes. */
    private boolean betaQuery() {
        String uri = request.uri();
        int q = uri.indexOf('?');
        return q >= 0 && uri.substring(q + 1).contains("beta=true");
    }

    // ---- upstream events ----------------------------------------------------------------

    @Override
    public void onResponseHead(HttpResponse head) {
        if (done) {
            return;
        }
        requestWritten = true;          // an answer: the request arrived
        Deployment d = attempt().deployment();
        if (!head.decoderResult().isSuccess()) {
            describe(head.decoderResult().cause());    // the parser's finding, to the log
            failAttempt("malformed", d.name() + ": the provider sent a malformed response head (not valid HTTP)", false, 502);
            return;
        }
        if (head.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            informational = true;       // 100 or 103: the real head follows, within the first-byte timeout
            return;
        }
        headReceived = true;
        lastUpstreamRead = System.nanoTime();
        status = head.status().code();
        if (retryable(status) && hasAnotherAttempt()) {
            coolDown(d, head.headers().get(HttpHeaderNames.RETRY_AFTER));
            gateway.metrics().upstreamError(d.name(), "status_" + status);
            failures.add(d.name() + ": HTTP " + status);
            retrySameDeployment = status >= 500 && status != 529;
            upstreamKeepAlive = HttpUtil.isKeepAlive(head);
            draining = true;
            scheduleTimer(d.idleTimeout().toNanos());
            return;                     // the body is discarded; the next attempt starts at its end
        }
        if (retryable(status)) {
            coolDown(d, head.headers().get(HttpHeaderNames.RETRY_AFTER));
            gateway.metrics().upstreamError(d.name(), "status_" + status);
        }
        upstreamKeepAlive = HttpUtil.isKeepAlive(head);
        upstreamRequestId = head.headers().get(Headers.UPSTREAM_REQUEST_ID);
        if (status >= 400 && !d.adapter().anthropicFormat() || status == 400 && !thinkingDropped) {
            // the provider's own error envelope, or a 400 the gateway may answer by adapting the request: read it whole
            wholeHead = head;
            wholeBody = client.alloc().compositeBuffer();
            scheduleTimer(d.idleTimeout().toNanos());
            return;
        }
        transcoder = status < 300 ? d.adapter().transcoder(head.headers(), client.alloc(), toolNames) : null;
        String contentType = head.headers().get(HttpHeaderNames.CONTENT_TYPE);
        sse = transcoder != null || contentType != null && contentType.regionMatches(true, 0, "text/event-stream", 0, 17);
        if (!sse && status < 300 && d.adapter().rewritesResponseBody(apiPath)) {
            // the provider's own response format: read it whole, answer in Anthropic's at its end
            wholeHead = head;
            wholeBody = client.alloc().compositeBuffer();
            scheduleTimer(d.idleTimeout().toNanos());
            return;
        }
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, head.status());
        boolean lengthKnown = !sse && HttpUtil.isContentLengthSet(head);
        Headers.copyResponseHeaders(head.headers(), response.headers(), lengthKnown);
        if (transcoder != null) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        }
        if (!lengthKnown) {
            HttpUtil.setTransferEncodingChunked(response, true);
        }
        response.headers().set(Headers.GATEWAY_REQUEST_ID, requestId);
        if (sse) {
            framer = new SseFramer();
            streamScanner = new AnthropicStreamScanner(usage);
        } else if (status < 300) {
            scannedBody = client.alloc().compositeBuffer();
        }
        headSent = true;
        firstByteNanos = System.nanoTime() - startNanos;
        client.writeAndFlush(response);
        scheduleTimer(d.idleTimeout().toNanos());
        if (!client.channel().isWritable()) {
            upstream.config().setAutoRead(false);
        }
    }

    @Override
    public void onResponseContent(HttpContent content) {
        try {
            if (done) {
                return;
            }
            if (informational) {
                informational = !(content instanceof LastHttpContent);
                return;
            }
            lastUpstreamRead = System.nanoTime();
            boolean last = content instanceof LastHttpContent;
            if (draining) {
                if (last) {
                    draining = false;
                    recycleUpstream();
                    nextAttempt();
                }
                return;
            }
            if (wholeBody != null) {
                collectWhole(content.content(), last);
                return;
            }
            if (!headSent) {
                return;
            }
            if (transcoder != null) {
                relayTranscoded(content.content(), last);
            } else if (sse) {
                relayEvents(content.content(), last);
            } else {
                relayBody(content.content(), last);
            }
        } finally {
            content.release();
        }
    }

    /**
     * Forwards the complete events of {@code chunk}. The common case (a chunk holding whole events)
     * forwards the chunk itself; bytes of an unfinished event wait in the {@link SseFramer}.
     */
    private void relayEvents(ByteBuf chunk, boolean last) {
        if (chunk.isReadable()) {
            ByteBuf events = framer.next(chunk, client.alloc(), streamScanner);
            if (streamScanner.malformed() != null) {
                if (events != null) {
                    events.release();
                }
                failMidStream("malformed", "the provider sent a malformed stream: " + streamScanner.malformed());
                return;
            }
            if (events != null) {
                client.writeAndFlush(new DefaultHttpContent(events));
            }
        }
        if (last) {
            if (framer.holdsPartialEvent()) {
                failMidStream("malformed", "the provider's stream ended inside an event");
            } else if (!streamScanner.complete() && !streamScanner.upstreamError()) {
                failMidStream("truncated", "the provider's stream ended before the message was complete");
            } else {
                ByteBuf tail = framer.takeHeld();
                finish(tail != null ? new DefaultLastHttpContent(tail) : LastHttpContent.EMPTY_LAST_CONTENT, "ok");
            }
        }
    }

    /** A provider's own stream format, turned into Anthropic SSE, then relayed like Anthropic's. */
    private void relayTranscoded(ByteBuf chunk, boolean last) {
        ByteBuf converted;
        try {
            converted = transcoder.decode(chunk, client.alloc());
            if (last) {
                ByteBuf tail;
                try {
                    tail = transcoder.finish(client.alloc());
                } catch (ResponseTranscoder.MalformedResponse e) {
                    converted.release();
                    throw e;
                }
                if (tail.isReadable()) {
                    converted = client.alloc().compositeBuffer(2).addComponents(true, converted, tail);
                } else {
                    tail.release();
                }
            }
        } catch (ResponseTranscoder.MalformedResponse e) {
            failMidStream("malformed", "the provider sent a malformed stream: " + e.getMessage());
            return;
        }
        try {
            relayEvents(converted, last);
        } finally {
            converted.release();
        }
    }

    private void collectWhole(ByteBuf chunk, boolean last) {
        if (chunk.isReadable() && wholeBody.readableBytes() + chunk.readableBytes() <= MAX_SCANNED_BODY) {
            wholeBody.addComponent(true, chunk.retainedDuplicate());
        }
        if (!last) {
            return;
        }
        if (status < 300) {
            rewriteBody();
            return;
        }
        String text = wholeBody.toString(java.nio.charset.StandardCharsets.UTF_8);
        ProviderAdapter adapter = attempt().deployment().adapter();
        if (!betasDropped && !adapter.anthropicFormat() && ProviderFeatures.isInvalidBeta(status, text)) {
            // the provider's beta support differs from the feature table (a region, a model): once more without betas
            betasDropped = true;
            sendAgain("HTTP 400 invalid beta flag, retried without betas");
            return;
        }
        if (!thinkingDropped && ProviderFeatures.isForeignThinking(status, text)) {
            // thinking blocks another provider signed (the conversation switched provider): once more without them
            thinkingDropped = true;
            sendAgain("HTTP 400 thinking signatures from another provider, retried without them");
            return;
        }
        ProviderAdapter.ProviderError error = adapter.error(status, wholeHead.headers(), text);
        if (error == null) {
            error = new ProviderAdapter.ProviderError(status, text);   // Anthropic's own error: as it is
        }
        byte[] json = error.json().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(error.status()),
                client.alloc().buffer(json.length).writeBytes(json));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, json.length)
                .set(Headers.GATEWAY_REQUEST_ID, requestId);
        if (upstreamRequestId != null) {
            response.headers().set(Headers.UPSTREAM_REQUEST_ID, upstreamRequestId);
        }
        String retryAfter = wholeHead.headers().get(HttpHeaderNames.RETRY_AFTER);
        if (retryAfter != null) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfter);
        }
        headSent = true;
        firstByteNanos = System.nanoTime() - startNanos;
        status = error.status();
        recycleUpstream();
        end("upstream_error", status, () -> client.writeAndFlush(response));
    }

    /** The same attempt once more, with the request adapted (the flags {@link ProviderCall} carries). */
    private void sendAgain(String why) {
        wholeBody.release();
        wholeBody = null;
        wholeHead = null;
        cancelTimer();
        recycleUpstream();
        failures.add(attempt().deployment().name() + ": " + why);
        triesOnAttempt--;
        retrySameDeployment = true;
        nextAttempt();
    }

    /** A provider's successful response in its own format, rewritten whole into Anthropic's. */
    private void rewriteBody() {
        byte[] json;
        try {
            json = attempt().deployment().adapter().responseBody(io.netty.buffer.ByteBufUtil.getBytes(wholeBody), toolNames);
        } catch (java.io.IOException | RuntimeException e) {
            recycleUpstream();
            respondError(502, "the provider's response could not be read: " + describe(e));
            return;
        }
        AnthropicStreamScanner.readResponseUsage(io.netty.buffer.Unpooled.wrappedBuffer(json), usage);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                client.alloc().buffer(json.length).writeBytes(json));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, json.length)
                .set(Headers.GATEWAY_REQUEST_ID, requestId);
        headSent = true;
        firstByteNanos = System.nanoTime() - startNanos;
        recycleUpstream();
        end("ok", status, () -> client.writeAndFlush(response));
    }

    private void relayBody(ByteBuf chunk, boolean last) {
        if (scannedBody != null && chunk.isReadable()) {
            if (scannedBody.readableBytes() + chunk.readableBytes() <= MAX_SCANNED_BODY) {
                scannedBody.addComponent(true, chunk.retainedDuplicate());
            } else {
                scannedBody.release();
                scannedBody = null;
            }
        }
        if (last) {
            if (scannedBody != null) {
                AnthropicStreamScanner.readResponseUsage(scannedBody, usage);
            }
            finish(chunk.isReadable() ? new DefaultLastHttpContent(chunk.retain()) : LastHttpContent.EMPTY_LAST_CONTENT,
                    status < 400 ? "ok" : "upstream_error");
        } else if (chunk.isReadable()) {
            client.writeAndFlush(new DefaultHttpContent(chunk.retain()));
        }
    }

    @Override
    public void onUpstreamClosed() {
        if (done) {
            return;
        }
        upstream = null;
        String name = attempt().deployment().name();
        if (headSent) {
            failMidStream("reset", "the provider closed the connection mid-response");
        } else if (headReceived) {
            failAttempt("reset", name + ": HTTP " + status + ", then the connection closed before the end of the body", false, 502);
        } else {
            failAttempt("reset", name + ": connection closed before the response", true, 502);
        }
    }

    @Override
    public void onUpstreamError(Throwable cause) {
        if (done) {
            return;
        }
        upstream = null;
        String name = attempt().deployment().name();
        if (headSent) {
            failMidStream("reset", "the provider connection failed mid-response: " + describe(cause));
        } else if (headReceived) {
            failAttempt("reset", name + ": HTTP " + status + ", then the connection failed before the end of the body: " + describe(cause), false, 502);
        } else {
            failAttempt("reset", name + ": " + describe(cause), true, 502);
        }
    }

    // ---- client events ----------------------------------------------------------------------

    /** The client went away: stop everything, never reuse the upstream connection. */
    void clientClosed() {
        if (done) {
            return;
        }
        closeUpstream();
        end("client_closed", 499, () -> { });
    }

    /** The shutdown grace period is over: the client learns why its response ends here; the connection closes. */
    void cutByShutdown() {
        if (done) {
            return;
        }
        String message = "the gateway is shutting down; retry the request";
        if (headSent) {
            endCut(Metrics.OUTCOME_SHUTDOWN, message);
            return;
        }
        closeUpstream();
        onConnectionClosing.run();
        respondError(Metrics.OUTCOME_SHUTDOWN, 503, message, true);
    }

    void clientWritabilityChanged(boolean writable) {
        if (upstream != null && headSent && !done) {
            clientPaused = !writable;
            upstream.config().setAutoRead(writable);
            if (writable) {
                lastUpstreamRead = System.nanoTime();   // the provider's silence counts again from now
                upstream.read();
            }
        }
    }

    // ---- failure handling ---------------------------------------------------------------

    /**
     * The attempt in flight failed before anything reached the client: on to the next one, which
     * starts clean ({@link #resetAttempt}). The reason goes to the access log's failed attempts.
     */
    private void failAttempt(String kind, String reason, boolean retrySame, int clientStatus) {
        if (done) {
            return;
        }
        if (draining) {
            // its status already failed the attempt (counted, cooled down); only the rest of its body is lost
            nextAttempt();
            return;
        }
        if ("reset".equals(kind) && reusedConnection && !requestWritten && staleRetries++ < 2) {
            // A pooled connection the provider had already closed, and nothing of the request reached it:
            // not the deployment's fault, and not a try. A request that was written is never sent again this way.
            triesOnAttempt--;
            retrySameDeployment = true;
            nextAttempt();
            return;
        }
        Deployment d = attempt().deployment();
        gateway.metrics().upstreamError(d.name(), kind);
        failures.add(reason);
        finalFailureStatus = clientStatus;
        retrySameDeployment = retrySame;
        nextAttempt();
    }

    private void failMidStream(String kind, String message) {
        if (done) {
            return;
        }
        gateway.metrics().upstreamError(attempt().deployment().name(), kind);
        endCut("upstream_" + kind, message);
    }

    /** Ends a response already under way: its client reads why, never a clean end, and the connection closes. */
    private void endCut(String outcome, String message) {
        closeUpstream();
        onConnectionClosing.run();
        end(outcome, status, () -> {
            if (sse) {
                // The Anthropic way to end a failed stream: an error event; then the connection closes.
                client.write(new DefaultHttpContent(ErrorResponses.sseEvent(client.alloc(), "api_error", message, requestId)));
                client.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
            } else {
                // A plain body cut short must not look complete: no terminating chunk, just close.
                client.flush();
                client.close();
            }
        });
    }

    private void respondError(int code, String message) {
        respondError("upstream_error", code, message, false);
    }

    /** Answers with an error of the gateway's own; with {@code close}, the connection then ends. */
    private void respondError(String outcome, int code, String message, boolean close) {
        status = code;
        end(outcome, code, () -> {
            ChannelFuture written = client.writeAndFlush(ErrorResponses.response(client.alloc(), code, message, requestId));
            if (close) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        });
    }

    private void finish(LastHttpContent last, String outcome) {
        recycleUpstream();
        end(outcome, status, () -> client.writeAndFlush(last));
    }

    /**
     * Ends the exchange: accounted (meters and access log) before {@code lastWrite} releases the end of
     * the response, so a client that has read its whole response finds it counted.
     */
    private void end(String outcome, int finalStatus, Runnable lastWrite) {
        done = true;
        cancelTimer();
        releaseBuffers();
        request.release();
        account(outcome, finalStatus);
        lastWrite.run();
        onDone.run();
    }

    private void account(String outcome, int finalStatus) {
        long duration = System.nanoTime() - startNanos;
        Attempt a = attemptIndex >= 0 && attemptIndex < attempts.size() ? attempt() : null;
        Pricing pricing = a == null ? null : a.model().pricing();
        BigDecimal cost = pricing != null && usage.seen ? pricing.cost(usage) : null;
        GatewayMetrics.RequestRecord record = new GatewayMetrics.RequestRecord(
                surface,
                resolution.rule() == null ? "direct" : resolution.rule(),
                a == null ? "none" : a.deployment().type().id(),
                a == null ? "none" : a.deployment().name(),
                a == null ? body.model() : a.model().name(),
                a == null ? null : a.model().metricName(),
                key.name(),
                outcome, finalStatus, duration, firstByteNanos, usage, cost);
        gateway.metrics().request(record);
        AccessLog.log(record, requestId, upstreamRequestId, body.model(), apiPath, attemptIndex + 1, failures);
    }

    // ---- helpers ----------------------------------------------------------------------------

    private boolean hasAnotherAttempt() {
        return attemptIndex + 1 < attempts.size()
                || (status >= 500 && status != 529 && triesOnAttempt < attempt().deployment().attempts());
    }

    private static boolean retryable(int status) {
        return status == 429 || status == 529 || status >= 500;
    }

    private void coolDown(Deployment d, String retryAfter) {
        long nanos = d.cooldown().toNanos();
        if (retryAfter != null) {
            try {
                nanos = TimeUnit.SECONDS.toNanos(Math.max(0, Long.parseLong(retryAfter.trim())));
            } catch (NumberFormatException ignored) {
                // an HTTP-date retry-after: keep the configured cooldown
            }
        }
        gateway.cooldowns().coolDown(d.name(), nanos);
    }

    private void scheduleTimer(long timeoutNanos) {
        cancelTimer();
        timer = client.channel().eventLoop().schedule(() -> onTimer(timeoutNanos), timeoutNanos, TimeUnit.NANOSECONDS);
    }

    /** The first-byte timeout until the response head arrives; after it, the idle timeout, restarted by every read. */
    private void onTimer(long timeoutNanos) {
        timer = null;
        if (done) {
            return;
        }
        String name = attempt().deployment().name();
        if (!headReceived) {
            // a request already written is not sent to the same deployment again: it may be running there
            failAttempt("timeout", name + ": no response within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms",
                    !requestWritten, 504);
            return;
        }
        long silent = System.nanoTime() - lastUpstreamRead;
        if (clientPaused) {
            // the client is the one not reading (the upstream read is paused for it): not the provider's silence
            timer = client.channel().eventLoop().schedule(() -> onTimer(timeoutNanos), timeoutNanos, TimeUnit.NANOSECONDS);
        } else if (silent < timeoutNanos) {
            timer = client.channel().eventLoop().schedule(() -> onTimer(timeoutNanos), timeoutNanos - silent, TimeUnit.NANOSECONDS);
        } else if (headSent) {
            failMidStream("idle", "the provider sent nothing for " + TimeUnit.NANOSECONDS.toMillis(silent) + " ms");
        } else {
            failAttempt("idle", name + ": HTTP " + status + ", then nothing for " + TimeUnit.NANOSECONDS.toMillis(silent)
                    + " ms before the end of the body", false, 502);
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /**
     * Forgets the attempt in flight: its timer, its connection (closed: whatever it still carries
     * belongs to no one) and every buffer and decoder of its response.
     */
    private void resetAttempt() {
        cancelTimer();
        closeUpstream();
        releaseBuffers();
        wholeHead = null;
        streamScanner = null;
        sse = false;
        reusedConnection = false;
        requestWritten = false;
        informational = false;
        headReceived = false;
        draining = false;
        status = 0;
        upstreamKeepAlive = false;
        upstreamRequestId = null;
    }

    private void releaseBuffers() {
        if (framer != null) {
            framer.release();
            framer = null;
        }
        if (scannedBody != null) {
            scannedBody.release();
            scannedBody = null;
        }
        if (wholeBody != null) {
            wholeBody.release();
            wholeBody = null;
        }
        if (transcoder != null) {
            transcoder.release();
            transcoder = null;
        }
    }

    private void recycleUpstream() {
        Channel ch = upstream;
        upstream = null;
        if (ch == null) {
            return;
        }
        if (upstreamKeepAlive) {
            gateway.connector().release(ch, attempt().deployment().endpoint());
        } else {
            gateway.connector().discard(ch);
        }
    }

    private void closeUpstream() {
        Channel ch = upstream;
        upstream = null;
        if (ch != null) {
            gateway.connector().discard(ch);
        }
    }

    private static String connectKind(Throwable cause) {
        return cause instanceof ConnectException ? "refused" : "connect";
    }

    /**
     * What failed, in words for the client and the access log (no exception class, address or endpoint);
     * the exception itself goes to this class's log with the request id and deployment.
     */
    private String describe(Throwable cause) {
        LOG.atWarn().addKeyValue("request_id", requestId)
                .addKeyValue("deployment", attemptIndex >= 0 && attemptIndex < attempts.size() ? attempt().deployment().name() : null)
                .addKeyValue("cause", cause.getClass().getName() + ": " + cause.getMessage()).log("upstream attempt failed");
        return UpstreamFailure.inWords(cause);
    }

}

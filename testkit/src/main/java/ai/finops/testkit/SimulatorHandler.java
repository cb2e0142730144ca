package ai.finops.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One connection of the simulator: records each request and plays its reply. */
final class SimulatorHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BASH_INPUT = "{\"command\":\"echo hello from the FinOps simulator\",\"description\":\"Print a greeting\"}";

    private final Simulator sim;
    private Stream active;

    SimulatorHandler(Simulator sim) {
        this.sim = sim;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        byte[] body = ByteBufUtil.getBytes(request.content());
        HttpHeaders headers = new DefaultHttpHeaders().add(request.headers());
        String uri = request.uri();
        String path = uri.contains("?") ? uri.substring(0, uri.indexOf('?')) : uri;
        String requestId = "req_sim_" + sim.requestIds.incrementAndGet();
        if (!authorized(headers)) {
            sim.record(new RecordedRequest(request.method().name(), uri, headers, body));
            json(ctx, 401, MessageScript.error("authentication_error", "invalid x-api-key"), requestId, null);
            return;
        }
        if (request.method().equals(HttpMethod.GET) && path.equals("/v1/models")) {
            json(ctx, 200, "{\"data\":[{\"type\":\"model\",\"id\":\"claude-sonnet-4-6\",\"display_name\":\"Claude Sonnet 4.6\","
                    + "\"created_at\":\"2026-01-01T00:00:00Z\"}],\"has_more\":false,\"first_id\":\"claude-sonnet-4-6\",\"last_id\":\"claude-sonnet-4-6\"}",
                    requestId, null);
            return;
        }
        if (!request.method().equals(HttpMethod.POST) || !(path.equals("/v1/messages") || path.equals("/v1/messages/count_tokens"))) {
            json(ctx, 404, MessageScript.error("not_found_error", "Not found: " + request.method() + " " + path), requestId, null);
            return;
        }
        sim.record(new RecordedRequest(request.method().name(), uri, headers, body));
        JsonNode parsed;
        try {
            parsed = JSON.readTree(body);
        } catch (Exception e) {
            parsed = null;
        }
        if (parsed == null || !parsed.isObject()) {
            json(ctx, 400, MessageScript.error("invalid_request_error", "There was an issue with the format or content of your request."),
                    requestId, null);
            return;
        }
        if (path.endsWith("/count_tokens")) {
            json(ctx, 200, "{\"input_tokens\":" + Math.max(1, body.length / 4) + "}", requestId, null);
            return;
        }
        Reply reply = sim.script.poll();
        if (reply == null) {
            reply = sim.defaultReply != null ? sim.defaultReply : builtIn(parsed);
        }
        Duration delay = reply.delay != null ? reply.delay : sim.options().latency();
        boolean stream = parsed.path("stream").asBoolean(false);
        String model = parsed.path("model").asText("unknown");
        Reply chosen = reply;
        Runnable play = () -> play(ctx, chosen, stream, model, body.length, requestId);
        if (delay.isZero()) {
            play.run();
        } else {
            ctx.executor().schedule(play, delay.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private boolean authorized(HttpHeaders headers) {
        String required = sim.options().requiredApiKey();
        if (required == null) {
            return true;
        }
        String auth = headers.get(HttpHeaderNames.AUTHORIZATION);
        return required.equals(headers.get("x-api-key")) || ("Bearer " + required).equals(auth);
    }

    /** What a deterministic Claude answers: run Bash when it can, report the tool result, else greet. */
    private static Reply builtIn(JsonNode request) {
        JsonNode messages = request.path("messages");
        JsonNode last = messages.isArray() && messages.size() > 0 ? messages.get(messages.size() - 1) : null;
        if (last != null && last.path("content").isArray()) {
            for (JsonNode block : last.path("content")) {
                if ("tool_result".equals(block.path("type").asText())) {
                    String text = block.path("content").isTextual() ? block.path("content").asText()
                            : block.path("content").path(0).path("text").asText("");
                    return Reply.text("The command ran: " + text.substring(0, Math.min(80, text.length())));
                }
            }
        }
        for (JsonNode tool : request.path("tools")) {
            if ("Bash".equals(tool.path("name").asText())) {
                return Reply.toolUse("Bash", BASH_INPUT, 5);
            }
        }
        return Reply.text("Hello from the FinOps Gateway simulator.");
    }

    private void play(ChannelHandlerContext ctx, Reply reply, boolean stream, String model, int requestBytes, String requestId) {
        if (!ctx.channel().isActive()) {
            return;
        }
        switch (reply.kind) {
            case STATUS -> {
                json(ctx, reply.status, MessageScript.error(reply.errorType, reply.text), requestId, reply.retryAfter);
                return;
            }
            case RESET_BEFORE_FIRST_BYTE -> {
                reset(ctx);
                return;
            }
            case STALL_BEFORE_FIRST_BYTE -> {
                return;
            }
            default -> { }
        }
        MessageScript script = new MessageScript(reply, model, requestBytes);
        if (!stream) {
            json(ctx, 200, script.json(), requestId, null);
            return;
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .set("request-id", requestId);
        HttpUtil.setTransferEncodingChunked(head, true);
        write(ctx, head);
        List<String> events = script.events();
        Runnable end = () -> ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        switch (reply.kind) {
            case RESET_AFTER_FIRST_BYTE -> {
                events = events.subList(0, 3);
                end = () -> ctx.channel().eventLoop().schedule(() -> reset(ctx), 20, TimeUnit.MILLISECONDS);
            }
            case STALL_AFTER_FIRST_BYTE -> {
                events = events.subList(0, 3);
                end = () -> { };
            }
            case MALFORMED_SSE_AFTER_FIRST_BYTE -> {
                events = events.subList(0, 3);
                end = () -> {
                    write(ctx, new DefaultHttpContent(Unpooled.copiedBuffer(
                            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_de\n\n",
                            StandardCharsets.UTF_8)));
                    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                };
            }
            case END_WITHOUT_MESSAGE_STOP -> events = events.subList(0, 4);
            default -> { }
        }
        int rate = sim.options().tokensPerSecond();
        active = new Stream(ctx, events.iterator(), rate > 0 ? TimeUnit.SECONDS.toNanos(1) / rate : 0, end);
        active.pump();
    }

    /** Writes events while the socket takes them; pauses when it does not (backpressure), resumes when it does. */
    private final class Stream {
        private final ChannelHandlerContext ctx;
        private final Iterator<String> events;
        private final long intervalNanos;
        private final Runnable end;
        private boolean scheduled;
        private boolean finished;

        Stream(ChannelHandlerContext ctx, Iterator<String> events, long intervalNanos, Runnable end) {
            this.ctx = ctx;
            this.events = events;
            this.intervalNanos = intervalNanos;
            this.end = end;
        }

        void pump() {
            if (finished || scheduled || !ctx.channel().isActive()) {
                return;
            }
            while (events.hasNext() && ctx.channel().isWritable()) {
                write(ctx, new DefaultHttpContent(Unpooled.copiedBuffer(events.next(), StandardCharsets.UTF_8)));
                if (intervalNanos > 0 && events.hasNext()) {
                    scheduled = true;
                    ctx.executor().schedule(() -> {
                        scheduled = false;
                        pump();
                    }, intervalNanos, TimeUnit.NANOSECONDS);
                    return;
                }
            }
            if (!events.hasNext()) {
                finished = true;
                active = null;
                end.run();
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (active != null && ctx.channel().isWritable()) {
            active.pump();
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void write(ChannelHandlerContext ctx, Object msg) {
        int bytes = msg instanceof DefaultHttpContent c ? c.content().readableBytes() : 0;
        ctx.writeAndFlush(msg).addListener(f -> {
            if (f.isSuccess()) {
                sim.bytesWritten.addAndGet(bytes);
            }
        });
    }

    private void json(ChannelHandlerContext ctx, int status, String body, String requestId, String retryAfter) {
        ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), content);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes())
                .set("request-id", requestId);
        if (retryAfter != null) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfter);
        }
        if (status == 529 || status == 429 || status >= 500) {
            r.headers().set("x-should-retry", "true");
        }
        int bytes = content.readableBytes();
        ctx.writeAndFlush(r).addListener(f -> sim.bytesWritten.addAndGet(bytes));
    }

    /** Closes with a TCP reset (SO_LINGER 0). */
    private static void reset(ChannelHandlerContext ctx) {
        ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}

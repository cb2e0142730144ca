package ai.finops.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The upstream of the streaming benchmark: an Anthropic Messages endpoint whose streams are paced
 * ({@code --events N} text deltas at {@code --rate R} per second) and whose every delta carries the
 * {@link System#nanoTime()} at which it was written, as its text {@code "@<nanos>"}. On one machine
 * every JVM reads the same monotonic clock, so the client ({@link StreamsMain}) computes each event's
 * delay through whatever proxy sits between them. A request without {@code "stream":true} gets one
 * JSON message at once (the non-streaming load beside the streams).
 *
 * <p>{@code java -cp finops-bench.jar ai.finops.bench.StampedUpstream --port P [--events 20] [--rate 2] [--threads 1]}
 */
public final class StampedUpstream {
    private static final AsciiString EVENT_STREAM = AsciiString.cached("text/event-stream");
    private static final AsciiString JSON = AsciiString.cached("application/json");
    private static final byte[] START = ("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_bench\","
            + "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-6\",\"content\":[],\"stop_reason\":null,"
            + "\"stop_sequence\":null,\"usage\":{\"input_tokens\":1200,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
            + "\"output_tokens\":1}}}\n\n"
            + "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
            .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DELTA_HEAD = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"@"
            .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DELTA_TAIL = " \"}}\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final String END = "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
            + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},"
            + "\"usage\":{\"output_tokens\":%d}}\n\n"
            + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    private static final byte[] MESSAGE = ("{\"id\":\"msg_bench\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-6\","
            + "\"content\":[{\"type\":\"text\",\"text\":\"ok\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,"
            + "\"usage\":{\"input_tokens\":1200,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}")
            .getBytes(StandardCharsets.US_ASCII);

    private final int events;
    private final long intervalNanos;

    StampedUpstream(int events, double rate) {
        this.events = events;
        this.intervalNanos = (long) (1e9 / rate);
    }

    public static void main(String[] args) throws Exception {
        int port = 0;
        int events = 20;
        double rate = 2;
        int threads = 1;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--events" -> events = Integer.parseInt(args[++i]);
                case "--rate" -> rate = Double.parseDouble(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (usage: StampedUpstream --port P [--events N] [--rate R] [--threads T])");
            }
        }
        new StampedUpstream(events, rate).serve(port, threads);
    }

    void serve(int port, int threads) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Channel server = new ServerBootstrap().group(group)
                .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 8192)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 << 20), new Handler());
                    }
                })
                .bind("127.0.0.1", port).sync().channel();
        System.out.println("stamped upstream on " + server.localAddress() + ": " + events + " events at " + (1e9 / intervalNanos) + "/s");
        server.closeFuture().sync();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (ByteBufUtil.indexOf(STREAM_TRUE, request.content()) < 0) {
                FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        Unpooled.wrappedBuffer(MESSAGE));
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, JSON).setInt(HttpHeaderNames.CONTENT_LENGTH, MESSAGE.length);
                ctx.writeAndFlush(response);
                return;
            }
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, EVENT_STREAM).set(HttpHeaderNames.TRANSFER_ENCODING, "chunked")
                    .set("request-id", "req_bench");
            ctx.write(head);
            ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(START)));
            new Pacer(ctx, keepAlive).schedule();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static final ByteBuf STREAM_TRUE = Unpooled.unreleasableBuffer(
            Unpooled.copiedBuffer("\"stream\":true", StandardCharsets.US_ASCII));

    /** Writes one stamped delta per interval, then the stream's end. */
    private final class Pacer implements Runnable {
        private final ChannelHandlerContext ctx;
        private final boolean keepAlive;
        private int sent;

        Pacer(ChannelHandlerContext ctx, boolean keepAlive) {
            this.ctx = ctx;
            this.keepAlive = keepAlive;
        }

        void schedule() {
            ctx.executor().schedule(this, intervalNanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public void run() {
            if (!ctx.channel().isActive()) {
                return;
            }
            if (sent < events) {
                sent++;
                ByteBuf delta = ctx.alloc().buffer(DELTA_HEAD.length + 20 + DELTA_TAIL.length);
                delta.writeBytes(DELTA_HEAD);
                ByteBufUtil.writeAscii(delta, Long.toString(System.nanoTime()));
                delta.writeBytes(DELTA_TAIL);
                ctx.writeAndFlush(new DefaultHttpContent(delta));
                schedule();
                return;
            }
            ctx.write(new DefaultHttpContent(Unpooled.copiedBuffer(String.format(END, events), StandardCharsets.US_ASCII)));
            var done = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            if (!keepAlive) {
                done.addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}

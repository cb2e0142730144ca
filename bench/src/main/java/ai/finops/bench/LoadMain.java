package ai.finops.bench;

import ai.finops.testkit.ClaudeCodeFixtures;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A load generator for the benchmark: HTTP/1.1 keep-alive connections on one Netty event loop,
 * sending the Claude Code fixture body.
 *
 * <ul>
 *   <li>{@code --rate R}: open loop; request i is due at start + i/R and its latency is measured
 *       from that intended time (no coordinated omission), waiting for a free connection included.
 *   <li>{@code --connections C} without {@code --rate}: closed loop, each connection sends its next
 *       request when the previous one completed (peak throughput).
 * </ul>
 *
 * Prints one JSON line: target, mode, requests, errors, throughput, latency percentiles (ms) of the
 * complete response and of its first byte.
 */
public final class LoadMain {
    private static final Set<String> SKIPPED = Set.of("host", "content-length", "connection", "authorization", "x-api-key", "accept-encoding");

    private final URI target;
    private final String name;
    private final byte[] body;
    private final Map<String, String> headers;
    private final String key;
    private final boolean streaming;
    private final Histogram latency = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    private final Histogram firstByte = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    private long completed;
    private long errors;
    private final ArrayDeque<Long> due = new ArrayDeque<>();     // intended send times waiting for a connection
    private final ArrayDeque<Channel> idle = new ArrayDeque<>();
    private boolean measuring;
    private boolean closedLoop;
    private boolean stopping;

    LoadMain(URI target, String name, boolean streaming, String key) {
        this.target = target;
        this.name = name;
        this.streaming = streaming;
        this.key = key;
        ClaudeCodeFixtures.CapturedRequest fixture = ClaudeCodeFixtures.load("turn1-request.json");
        String json = new String(fixture.body(), StandardCharsets.UTF_8);
        if (!streaming) {
            json = json.replace("\"stream\":true", "\"stream\":false");
        }
        this.body = json.getBytes(StandardCharsets.UTF_8);
        this.headers = fixture.headers();
    }

    public static void main(String[] args) throws Exception {
        String url = null;
        String name = "target";
        String key = "";
        int rate = 0;
        int connections = 16;
        double seconds = 10;
        double warmup = 2;
        boolean streaming = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--url" -> url = args[++i];
                case "--name" -> name = args[++i];
                case "--key" -> key = args[++i];
                case "--rate" -> rate = Integer.parseInt(args[++i]);
                case "--connections" -> connections = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--stream" -> streaming = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (url == null) {
            System.err.println("usage: LoadMain --url http://127.0.0.1:PORT/PATH [--name N] [--key VK] [--rate R | --connections C]"
                    + " [--seconds S] [--warmup S] [--stream]");
            System.exit(2);
        }
        System.out.println(new LoadMain(URI.create(url), name, streaming, key).run(rate, connections, seconds, warmup));
    }

    String run(int rate, int connections, double seconds, double warmupSeconds) throws Exception {
        closedLoop = rate == 0;
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        try {
            Bootstrap b = new Bootstrap().group(group).channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(), new ResponseHandler());
                        }
                    });
            int pool = rate > 0 ? Math.max(connections, 64) : connections;
            for (int i = 0; i < pool; i++) {
                Channel ch = b.connect(target.getHost(), target.getPort()).sync().channel();
                group.next().submit(() -> idle.add(ch)).sync();
            }
            CountDownLatch done = new CountDownLatch(1);
            long warmupNanos = (long) (warmupSeconds * 1e9);
            long runNanos = (long) (seconds * 1e9);
            long[] window = new long[2];
            group.next().execute(() -> {
                long start = System.nanoTime();
                window[0] = start + warmupNanos;
                window[1] = window[0] + runNanos;
                if (rate > 0) {
                    long interval = 1_000_000_000L / rate;
                    long[] next = {start};
                    Runnable tick = new Runnable() {
                        @Override
                        public void run() {
                            long now = System.nanoTime();
                            measuring = now >= window[0];
                            while (next[0] <= now && next[0] < window[1]) {
                                due.add(next[0]);
                                next[0] += interval;
                            }
                            dispatch();
                            if (next[0] < window[1]) {
                                group.next().schedule(this, Math.max(50_000, next[0] - System.nanoTime()), TimeUnit.NANOSECONDS);
                            } else {
                                stopping = true;
                                group.next().schedule(done::countDown, 2, TimeUnit.SECONDS);
                            }
                        }
                    };
                    tick.run();
                } else {
                    measuring = warmupNanos == 0;
                    group.next().schedule(() -> measuring = true, warmupNanos, TimeUnit.NANOSECONDS);
                    group.next().schedule(() -> {
                        stopping = true;
                        done.countDown();
                    }, warmupNanos + runNanos, TimeUnit.NANOSECONDS);
                    Channel ch;
                    while ((ch = idle.poll()) != null) {
                        send(ch, System.nanoTime());
                    }
                }
            });
            done.await();
            double measuredSeconds = seconds;
            long errorsSeen = errors;
            return String.format(Locale.ROOT,
                    "{\"target\":\"%s\",\"mode\":\"%s\",\"streaming\":%s,\"requests\":%d,\"errors\":%d,\"throughput\":%.1f,"
                            + "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"ttfb_p50_ms\":%.3f,\"ttfb_p99_ms\":%.3f}",
                    name, rate > 0 ? "rate " + rate + "/s" : "closed " + connections + " connections", streaming, completed, errorsSeen,
                    completed / measuredSeconds, ms(latency.getValueAtPercentile(50)), ms(latency.getValueAtPercentile(90)),
                    ms(latency.getValueAtPercentile(99)), ms(latency.getMaxValue()), ms(firstByte.getValueAtPercentile(50)),
                    ms(firstByte.getValueAtPercentile(99)));
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private static double ms(long micros) {
        return micros / 1000.0;
    }

    private void dispatch() {
        while (!due.isEmpty() && !idle.isEmpty()) {
            send(idle.poll(), due.poll());
        }
    }

    private void send(Channel ch, long intendedNanos) {
        FullHttpRequest request = request(target, body, headers, key);
        ResponseHandler h = ch.pipeline().get(ResponseHandler.class);
        h.intended = intendedNanos;
        h.measured = measuring;
        ch.writeAndFlush(request);
    }

    /** A POST of {@code body} to {@code target} with Claude Code's captured headers and the key as {@code x-api-key}. */
    static FullHttpRequest request(URI target, byte[] body, Map<String, String> headers, String key) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
                target.getRawPath() + (target.getRawQuery() == null ? "" : "?" + target.getRawQuery()), Unpooled.wrappedBuffer(body));
        headers.forEach((n, v) -> {
            if (!SKIPPED.contains(n)) {
                request.headers().add(n, v);
            }
        });
        request.headers().set(HttpHeaderNames.HOST, target.getHost() + ":" + target.getPort())
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set("x-api-key", key);
        return request;
    }

    /** Times one response; a stream counts only if it ends with message_stop. */
    private final class ResponseHandler extends SimpleChannelInboundHandler<HttpObject> {
        long intended;
        boolean measured;
        long firstByteAt;
        int status;
        boolean sawStop;
        private String tail = "";

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse r) {
                status = r.status().code();
                firstByteAt = System.nanoTime();
                sawStop = false;
                tail = "";
            }
            if (msg instanceof HttpContent c) {
                ByteBuf content = c.content();
                if (streaming && content.isReadable() && !sawStop) {
                    // the final event; it may straddle two chunks
                    String text = tail + content.toString(StandardCharsets.UTF_8);
                    sawStop = text.contains("event: message_stop");
                    tail = text.substring(Math.max(0, text.length() - 24));
                }
                if (msg instanceof LastHttpContent) {
                    long now = System.nanoTime();
                    boolean ok = status / 100 == 2 && (!streaming || sawStop);
                    if (measured) {
                        completed++;
                        if (!ok) {
                            errors++;
                        }
                        latency.recordValue(Math.max(0, TimeUnit.NANOSECONDS.toMicros(now - intended)));
                        firstByte.recordValue(Math.max(0, TimeUnit.NANOSECONDS.toMicros(firstByteAt - intended)));
                    }
                    if (stopping && due.isEmpty()) {
                        idle.add(ctx.channel());
                    } else if (closedLoop) {
                        send(ctx.channel(), now);
                    } else {
                        idle.add(ctx.channel());
                        dispatch();
                    }
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!stopping) {
                errors++;
            }
            idle.remove(ctx.channel());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

}

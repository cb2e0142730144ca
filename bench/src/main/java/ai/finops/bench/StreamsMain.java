package ai.finops.bench;

import ai.finops.testkit.ClaudeCodeFixtures;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
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
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The streaming benchmark's client: {@code --streams C} connections, each sending one streaming
 * Claude Code request after another for {@code --seconds}, reading every event of
 * {@link StampedUpstream} as it arrives. For each text delta the delay is its receive time minus the
 * upstream's send time (the stamp in its text; one machine, one monotonic clock). A stream completes
 * when it ends with {@code message_stop}; one that ends without it, or whose connection closes, is
 * cut; a non-2xx answer is an error. When the time is up no new stream starts and every stream
 * under way is waited for, so each stream started is counted as completed, cut or error.
 *
 * <p>{@code --ramp S} spreads the streams' first requests evenly over S seconds (default: all at once,
 * 256 connecting at a time). {@code --body small} sends a ~2 KB Messages body; {@code --body claude-code} (default) the ~88 KB
 * body of the Claude Code fixture. Both carry the fixture's headers.
 *
 * <p>Prints one JSON line: streams, started, completed, cut, errors, events, and the per-event
 * delay's p50, p99, p99.9 and max in milliseconds.
 */
public final class StreamsMain {
    private final URI target;
    private final byte[] body;
    private final Map<String, String> headers;
    private final String key;
    private final Recorder delays = new Recorder(TimeUnit.SECONDS.toMicros(120), 3);
    private final AtomicLong started = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong cut = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong events = new AtomicLong();
    private final AtomicLong open = new AtomicLong();
    private volatile boolean measuring;
    private volatile boolean stopping;

    StreamsMain(URI target, String key, String bodyKind) {
        this.target = target;
        this.key = key;
        ClaudeCodeFixtures.CapturedRequest fixture = ClaudeCodeFixtures.load("turn1-request.json");
        this.headers = fixture.headers();
        this.body = "small".equals(bodyKind) ? smallBody() : fixture.body();
    }

    /** A ~2 KB streaming Messages request for the Claude Code alias. */
    static byte[] smallBody() {
        String text = "Summarise the change in this diff and list the risks. ".repeat(36);
        return ("{\"model\":\"sonnet-model\",\"max_tokens\":1024,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\""
                + text + "\"}]}").getBytes(StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws Exception {
        String url = null;
        String key = "";
        String bodyKind = "claude-code";
        int streams = 100;
        int threads = 1;
        double seconds = 30;
        double warmup = 5;
        double ramp = 0;
        String name = "target";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--url" -> url = args[++i];
                case "--name" -> name = args[++i];
                case "--key" -> key = args[++i];
                case "--streams" -> streams = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--body" -> bodyKind = args[++i];
                case "--ramp" -> ramp = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (url == null) {
            System.err.println("usage: StreamsMain --url http://127.0.0.1:PORT/PATH [--name N] [--key VK] [--streams C] [--threads T]"
                    + " [--seconds S] [--warmup S] [--ramp S] [--body small|claude-code]");
            System.exit(2);
        }
        System.out.println(new StreamsMain(URI.create(url), key, bodyKind).run(name, streams, threads, seconds, warmup, ramp));
    }

    String run(String name, int streams, int threads, double seconds, double warmupSeconds, double rampSeconds) throws Exception {
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        try {
            Bootstrap b = new Bootstrap().group(group).channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(4096, 8192, 1 << 20), new StreamHandler());
                        }
                    });
            // connect at most 256 at a time, and start each stream at once: the streams' phases spread over the ramp
            Semaphore connecting = new Semaphore(256);
            List<Channel> channels = new ArrayList<>(streams);
            long rampStart = System.nanoTime();
            for (int i = 0; i < streams; i++) {
                long due = rampStart + (long) (rampSeconds * 1e9 * i / streams);   // --ramp: the streams' starts spread evenly
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                connecting.acquire();
                ChannelFuture f = b.connect(target.getHost(), target.getPort());
                f.addListener(done -> {
                    connecting.release();
                    if (done.isSuccess()) {
                        send(f.channel());
                    } else {
                        errors.incrementAndGet();
                    }
                });
                channels.add(f.channel());
            }
            double rampTook = (System.nanoTime() - rampStart) / 1e9;
            Thread.sleep((long) (warmupSeconds * 1000));
            delays.reset();
            long eventsBefore = events.get();
            long completedBefore = completed.get();
            measuring = true;
            Thread.sleep((long) (seconds * 1000));
            stopping = true;
            long eventsInWindow = events.get() - eventsBefore;
            long completedInWindow = completed.get() - completedBefore;
            // every stream under way ends (completed or cut) before the figures are read
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (open.get() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            Histogram h = delays.getIntervalHistogram();
            for (Channel ch : channels) {
                ch.close();
            }
            return String.format(Locale.ROOT,
                    "{\"target\":\"%s\",\"streams\":%d,\"ramp_s\":%.1f,\"started\":%d,\"completed\":%d,\"cut\":%d,\"errors\":%d,\"unfinished\":%d,"
                            + "\"completed_in_window\":%d,\"events_per_s\":%.0f,\"event_p50_ms\":%.3f,\"event_p99_ms\":%.3f,\"event_p999_ms\":%.3f,"
                            + "\"event_max_ms\":%.3f}",
                    name, streams, rampTook, started.get(), completed.get(), cut.get(), errors.get(), open.get(), completedInWindow,
                    eventsInWindow / seconds, h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
                    h.getValueAtPercentile(99.9) / 1000.0, h.getMaxValue() / 1000.0);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private void send(Channel ch) {
        if (stopping) {
            return;
        }
        FullHttpRequest request = LoadMain.request(target, body, headers, key);
        ch.pipeline().get(StreamHandler.class).begin();
        ch.writeAndFlush(request);
    }

    /** Reads one stream at a time: stamps out of text deltas, message_stop at the end. */
    private final class StreamHandler extends SimpleChannelInboundHandler<HttpObject> {
        private boolean active;
        private int status;
        private boolean sawStop;
        private final byte[] tail = new byte[40];   // the end of the previous chunk: a stamp or message_stop may straddle two
        private int tailLength;

        void begin() {
            active = true;
            status = 0;
            sawStop = false;
            tailLength = 0;
            started.incrementAndGet();
            open.incrementAndGet();
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse r) {
                status = r.status().code();
            }
            if (msg instanceof HttpContent c) {
                ByteBuf content = c.content();
                if (content.isReadable()) {
                    scan(content);
                }
                if (msg instanceof LastHttpContent) {
                    end(status / 100 != 2 ? errors : sawStop ? completed : cut);
                    send(ctx.channel());
                }
            }
        }

        private void scan(ByteBuf content) {
            long now = System.nanoTime();
            int n = content.readableBytes();
            byte[] bytes = new byte[tailLength + n];
            System.arraycopy(tail, 0, bytes, 0, tailLength);
            content.getBytes(content.readerIndex(), bytes, tailLength, n);
            int complete = bytes.length;   // where a stamp or a name cut off at the chunk's end begins
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] == '"' && i + 1 < bytes.length && bytes[i + 1] == '@') {
                    int j = i + 2;
                    long stamp = 0;
                    while (j < bytes.length && bytes[j] >= '0' && bytes[j] <= '9') {
                        stamp = stamp * 10 + (bytes[j++] - '0');
                    }
                    if (j == bytes.length) {
                        complete = i;
                        break;
                    }
                    events.incrementAndGet();
                    if (measuring) {
                        delays.recordValue(Math.max(0, TimeUnit.NANOSECONDS.toMicros(now - stamp)));
                    }
                    i = j;
                } else if (bytes[i] == 'm' && matches(bytes, i, MESSAGE_STOP)) {
                    sawStop = true;
                }
            }
            // keep a stamp cut off at the end, or else enough bytes for a message_stop cut off there
            int keep = complete < bytes.length ? bytes.length - complete : Math.min(MESSAGE_STOP.length - 1, bytes.length);
            System.arraycopy(bytes, bytes.length - keep, tail, 0, keep);
            tailLength = keep;
        }

        private void end(AtomicLong outcome) {
            if (active) {
                active = false;
                outcome.incrementAndGet();
                open.decrementAndGet();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            end(cut);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static final byte[] MESSAGE_STOP = "message_stop\"".getBytes(StandardCharsets.US_ASCII);

    private static boolean matches(byte[] bytes, int at, byte[] word) {
        if (at + word.length > bytes.length) {
            return false;
        }
        for (int k = 0; k < word.length; k++) {
            if (bytes[at + k] != word[k]) {
                return false;
            }
        }
        return true;
    }
}

package ai.finops.testkit;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An upstream that speaks the Anthropic Messages API byte for byte, scripted per request, with
 * latency, token rate and faults; it records what it receives. For tests, demos and benchmarks.
 */
public final class Simulator implements AutoCloseable {
    private final SimulatorOptions options;
    private final EventLoopGroup group;
    private final Channel server;
    final ConcurrentLinkedQueue<Reply> script = new ConcurrentLinkedQueue<>();
    volatile Reply defaultReply;
    final List<RecordedRequest> requests = java.util.Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger open = new AtomicInteger();
    final AtomicLong accepted = new AtomicLong();
    final AtomicLong closed = new AtomicLong();
    final AtomicLong bytesWritten = new AtomicLong();
    final AtomicLong requestIds = new AtomicLong();
    /** OAuth access tokens issued by {@code POST /token}, with their expiry (epoch millis). */
    final java.util.Map<String, Long> issuedTokens = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Set<Channel> channels = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private Simulator(SimulatorOptions options) throws Exception {
        this.options = options;
        SslContext ssl = options.tls()
                ? SslContextBuilder.forServer(
                        new ByteArrayInputStream(options.certificatePem().getBytes(StandardCharsets.US_ASCII)),
                        new ByteArrayInputStream(options.privateKeyPem().getBytes(StandardCharsets.US_ASCII))).build()
                : null;
        this.group = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("simulator"), NioIoHandler.newFactory());
        this.server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accepted.incrementAndGet();
                        open.incrementAndGet();
                        channels.add(ch);
                        ch.closeFuture().addListener(f -> {
                            open.decrementAndGet();
                            closed.incrementAndGet();
                            channels.remove(ch);
                        });
                        if (ssl != null) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpServerKeepAliveHandler(),
                                new HttpObjectAggregator(64 << 20), new SimulatorHandler(Simulator.this));
                    }
                })
                .bind(new InetSocketAddress(options.host(), options.port())).sync().channel();
    }

    public static Simulator start(SimulatorOptions options) {
        try {
            return new Simulator(options);
        } catch (Exception e) {
            throw new IllegalStateException("simulator did not start: " + e.getMessage(), e);
        }
    }

    public static Simulator start() {
        return start(SimulatorOptions.builder().build());
    }

    SimulatorOptions options() {
        return options;
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** {@code http://127.0.0.1:PORT}, or {@code https://localhost:PORT} with TLS. */
    public String baseUrl() {
        return options.tls() ? "https://localhost:" + port() : "http://" + options.host() + ":" + port();
    }

    /** Replies for the next requests, in order; one is used per {@code /v1/messages} request. */
    public Simulator enqueue(Reply... replies) {
        script.addAll(List.of(replies));
        return this;
    }

    /** The reply when nothing is enqueued; null restores the built-in behaviour. */
    public Simulator defaultReply(Reply reply) {
        this.defaultReply = reply;
        return this;
    }

    public List<RecordedRequest> requests() {
        synchronized (requests) {
            return new ArrayList<>(requests);
        }
    }

    void record(RecordedRequest request) {
        if (options.record()) {
            requests.add(request);
        }
    }

    public void clearRequests() {
        requests.clear();
        script.clear();
    }

    /** Waits until at least {@code n} requests arrived. */
    public List<RecordedRequest> awaitRequests(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (requests.size() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + n + " requests, got " + requests.size());
            }
            Thread.sleep(5);
        }
        return requests();
    }

    /** How many OAuth access tokens the token endpoint issued. */
    public int tokensIssued() {
        return issuedTokens.size();
    }

    public int openConnections() {
        return open.get();
    }

    /** The peers of the open connections, for messages. */
    public String describeOpenConnections() {
        return channels.stream().map(c -> c.remoteAddress() + (c.isActive() ? " active" : " inactive")).toList().toString();
    }

    public long connectionsAccepted() {
        return accepted.get();
    }

    public long connectionsClosed() {
        return closed.get();
    }

    /** Bytes handed to the sockets so far (a client that stops reading stops this growing). */
    public long bytesWritten() {
        return bytesWritten.get();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}

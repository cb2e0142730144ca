package ai.finops.gateway.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Upstream connections, pooled per event loop: an exchange borrows a connection on its own client
 * channel's event loop, so the whole request path runs on one thread with no locks and no
 * cross-thread hand-off (the Netty proxy example's pattern, pooled as Zuul does).
 *
 * <p>A connection goes back to the pool only after a complete response on a keep-alive
 * connection; anything else (client abort, error, timeout) closes it. Idle pooled connections close
 * after {@link #POOLED_IDLE}.
 */
public final class UpstreamConnector implements Upstream {
    static final Duration POOLED_IDLE = Duration.ofSeconds(60);

    private static final io.netty.util.AttributeKey<Boolean> REUSED = io.netty.util.AttributeKey.valueOf("finops.upstream.reused");

    private final Supplier<Bootstrap> bootstrapTemplate;
    /** Every upstream connection, pooled, in use or still connecting: closed together at shutdown. */
    private final io.netty.channel.group.ChannelGroup all =
            new io.netty.channel.group.DefaultChannelGroup("upstream", io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
    private final FastThreadLocal<Map<UpstreamEndpoint.PoolKey, ArrayDeque<Channel>>> pools = new FastThreadLocal<>() {
        @Override
        protected Map<UpstreamEndpoint.PoolKey, ArrayDeque<Channel>> initialValue() {
            return new HashMap<>();
        }
    };

    /** @param bootstrapTemplate a bootstrap with the channel type set; group and handler are set here */
    public UpstreamConnector(Supplier<Bootstrap> bootstrapTemplate) {
        this.bootstrapTemplate = bootstrapTemplate;
    }

    @Override
    public Upstream.Call call(EventLoop loop, UpstreamEndpoint endpoint, Upstream.Timeouts timeouts, io.netty.handler.codec.http.FullHttpRequest request,
            Upstream.Receiver receiver) {
        return new UpstreamCall(this, loop, endpoint, timeouts, request, receiver);
    }

    /**
     * A connection to {@code endpoint} on {@code loop} (call on {@code loop}), with {@code listener}
     * receiving what arrives on it.
     */
    Future<Channel> acquire(EventLoop loop, UpstreamEndpoint endpoint, Duration connectTimeout, UpstreamListener listener) {
        Promise<Channel> promise = loop.newPromise();
        ArrayDeque<Channel> idle = pools.get().get(endpoint.poolKey());
        while (idle != null && !idle.isEmpty()) {
            Channel ch = idle.pollLast();
            if (ch.isActive()) {
                ch.attr(REUSED).set(Boolean.TRUE);
                ch.attr(UpstreamHandler.LISTENER).set(listener);
                return promise.setSuccess(ch);
            }
        }
        Bootstrap b = bootstrapTemplate.get()
                .group(loop)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        all.add(ch);
                        if (endpoint.ssl() != null) {
                            SslHandler tls = endpoint.ssl().newHandler(ch.alloc(), endpoint.host(), endpoint.port());
                            tls.setHandshakeTimeout(connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
                            ch.pipeline().addLast("tls", tls);
                        }
                        ch.pipeline().addLast("codec", new HttpClientCodec(4096, 64 * 1024, 64 * 1024));
                        ch.pipeline().addLast("upstream", new UpstreamHandler());
                    }
                });
        b.connect(endpoint.host(), endpoint.port()).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
            }
            Channel ch = f.channel();
            ch.attr(UpstreamHandler.LISTENER).set(listener);
            SslHandler tls = ch.pipeline().get(SslHandler.class);
            if (tls == null) {
                promise.trySuccess(ch);
                return;
            }
            tls.handshakeFuture().addListener(h -> {
                if (h.isSuccess()) {
                    promise.trySuccess(ch);
                } else {
                    ch.attr(UpstreamHandler.LISTENER).set(null);
                    ch.close();
                    promise.tryFailure(h.cause());
                }
            });
        });
        return promise;
    }

    /** Returns a connection whose response was read completely; call on its event loop. */
    void release(Channel ch, UpstreamEndpoint endpoint) {
        ch.attr(UpstreamHandler.LISTENER).set(null);
        if (!ch.isActive()) {
            return;
        }
        ch.config().setAutoRead(true);
        ArrayDeque<Channel> idle = pools.get().computeIfAbsent(endpoint.poolKey(), k -> new ArrayDeque<>());
        idle.addLast(ch);
        if (ch.pipeline().get("pooled-idle") == null) {
            ch.pipeline().addFirst("pooled-idle", new IdleStateHandler(0, 0, POOLED_IDLE.toSeconds(), TimeUnit.SECONDS) {
                @Override
                protected void channelIdle(io.netty.channel.ChannelHandlerContext ctx, IdleStateEvent evt) {
                    if (ctx.channel().attr(UpstreamHandler.LISTENER).get() == null) {
                        ctx.close();
                    }
                }
            });
            ch.closeFuture().addListener(f -> {
                ArrayDeque<Channel> q = pools.get().get(endpoint.poolKey());
                if (q != null) {
                    q.remove(ch);
                }
            });
        }
    }

    /** True when {@code ch} came from the pool rather than a new connect. */
    boolean reused(Channel ch) {
        return Boolean.TRUE.equals(ch.attr(REUSED).get());
    }

    /**
     * Closes every upstream connection (at shutdown, once requests have drained), rather than leaving
     * them to the event loops' own shutdown, so that no provider sees a connection outlive the gateway.
     */
    public void closeAll(java.time.Duration wait) {
        all.close().awaitUninterruptibly(wait.toMillis());
    }

    /** Closes a connection that must not be reused. */
    void discard(Channel ch) {
        ch.attr(UpstreamHandler.LISTENER).set(null);
        ch.close();
    }
}

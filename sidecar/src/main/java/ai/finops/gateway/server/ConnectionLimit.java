package ai.finops.gateway.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cap on client connections open at once on the API port ({@code limits.maxConnections}, read
 * at each accept, so it follows reloads). A connection beyond it is closed as soon as it is accepted,
 * before anything of it is read or any handler is built for it: no answer is written (a client cannot
 * be told anything before it sends its request, and writing to every connection of a flood costs the
 * gateway what the cap is there to save). It is counted in {@code finops_gateway_connections_refused_total};
 * {@code finops_gateway_connections_open} shows the connections open. One instance per API port,
 * shared by every event loop.
 */
final class ConnectionLimit {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionLimit.class);
    private static final long WARN_EVERY_NANOS = 60_000_000_000L;

    private final GatewayContext gateway;
    private final AtomicInteger open = new AtomicInteger();
    private final ChannelFutureListener closed = f -> open.decrementAndGet();
    private volatile long lastWarning = System.nanoTime() - WARN_EVERY_NANOS;

    ConnectionLimit(GatewayContext gateway) {
        this.gateway = gateway;
        gateway.metrics().connectionMeters(open::get);
    }

    /**
     * Counts {@code ch} as open until it closes and returns true; or, when the cap is reached, closes
     * it at once, counts the refusal and returns false.
     */
    boolean admit(Channel ch) {
        int max = gateway.snapshots().current().settings().limits().maxConnections();
        int now = open.incrementAndGet();
        if (now > max) {
            open.decrementAndGet();
            gateway.metrics().connectionRefused();
            ch.close();
            warn(max);
            return false;
        }
        ch.closeFuture().addListener(closed);
        return true;
    }

    /** Connections open now. */
    int open() {
        return open.get();
    }

    /** One log line a minute at most while connections are refused, not one per connection of a flood. */
    private void warn(int max) {
        long last = lastWarning;
        long now = System.nanoTime();
        if (now - last >= WARN_EVERY_NANOS) {
            lastWarning = now;
            LOG.atWarn().addKeyValue("max_connections", max)
                    .log("client connections refused: limits.maxConnections are open (counted in finops_gateway_connections_refused_total)");
        }
    }
}

package ai.finops.gateway.server;

import ai.finops.gateway.config.SnapshotHolder;
import ai.finops.gateway.governance.Admission;
import ai.finops.gateway.mcp.McpGateway;
import ai.finops.gateway.mcp.SessionTokens;
import ai.finops.gateway.observability.ExchangeListener;
import ai.finops.gateway.upstream.Upstream;
import java.util.List;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.routing.Cooldowns;
import ai.finops.gateway.routing.Resolver;
import ai.finops.gateway.upstream.UpstreamConnector;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** What every connection shares: the config, the upstream pools, cooldowns, meters. */
public final class GatewayContext {
    private final SnapshotHolder snapshots;
    private final UpstreamConnector connector;
    private final Cooldowns cooldowns;
    private final Resolver resolver;
    private final GatewayMetrics metrics;
    private final Clock clock;
    private final Relay relay;
    private final Upstream upstream;
    private final List<ExchangeListener> listeners;
    private final Admission admission;
    private final McpGateway mcp;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final java.util.concurrent.atomic.LongAdder ended = new java.util.concurrent.atomic.LongAdder();
    private final AtomicLong requestCounter = new AtomicLong();
    private final String instanceId = Long.toHexString(System.nanoTime() & 0xffffffL);
    private volatile boolean draining;

    public GatewayContext(SnapshotHolder snapshots, UpstreamConnector connector, Cooldowns cooldowns, GatewayMetrics metrics, Clock clock) {
        this(snapshots, connector, cooldowns, metrics, clock, null);
    }

    /** @param relay where a {@code via-gateway} sidecar forwards everything; null for a routing gateway */
    public GatewayContext(SnapshotHolder snapshots, UpstreamConnector connector, Cooldowns cooldowns, GatewayMetrics metrics, Clock clock,
            Relay relay) {
        this(snapshots, connector, connector, cooldowns, metrics, clock, relay, ExchangeListener.standard(metrics), Admission.ALWAYS);
    }

    /**
     * @param upstream  where attempts go (the connector's calls, or scripted ones in a test)
     * @param listeners told of every proxied request's attempts and end
     * @param admission the admit step between resolve and the first attempt
     */
    public GatewayContext(SnapshotHolder snapshots, Upstream upstream, UpstreamConnector connector, Cooldowns cooldowns, GatewayMetrics metrics,
            Clock clock, Relay relay, List<ExchangeListener> listeners, Admission admission) {
        this(snapshots, upstream, connector, cooldowns, metrics, clock, relay, listeners, admission,
                new McpGateway(SessionTokens.fromSetting(null), metrics.registry(), clock, admission, null));
    }

    /** @param mcp the {@code /mcp} endpoint, its upstream clients and its session key */
    public GatewayContext(SnapshotHolder snapshots, Upstream upstream, UpstreamConnector connector, Cooldowns cooldowns, GatewayMetrics metrics,
            Clock clock, Relay relay, List<ExchangeListener> listeners, Admission admission, McpGateway mcp) {
        this.mcp = mcp;
        this.upstream = upstream;
        this.listeners = List.copyOf(listeners);
        this.admission = admission;
        this.relay = relay;
        this.snapshots = snapshots;
        this.connector = connector;
        this.cooldowns = cooldowns;
        this.resolver = new Resolver(cooldowns);
        this.metrics = metrics;
        this.clock = clock;
    }

    public Upstream upstream() {
        return upstream;
    }

    public List<ExchangeListener> listeners() {
        return listeners;
    }

    public McpGateway mcp() {
        return mcp;
    }

    public Admission admission() {
        return admission;
    }

    public SnapshotHolder snapshots() {
        return snapshots;
    }

    public UpstreamConnector connector() {
        return connector;
    }

    public Cooldowns cooldowns() {
        return cooldowns;
    }

    public Resolver resolver() {
        return resolver;
    }

    public GatewayMetrics metrics() {
        return metrics;
    }

    public Clock clock() {
        return clock;
    }

    /** The shared gateway this sidecar relays to, or null when it routes requests itself. */
    public Relay relay() {
        return relay;
    }

    /** Requests being served; shutdown waits for it to reach zero. */
    public AtomicInteger inFlight() {
        return inFlight;
    }

    /** A request counted in {@link #inFlight()} has ended, served or cut. */
    void requestEnded() {
        inFlight.decrementAndGet();
        ended.increment();
    }

    /** Requests ended since start: what shutdown reads to say how many it drained. */
    long ended() {
        return ended.sum();
    }

    public String nextRequestId() {
        return "fgw_" + instanceId + "_" + Long.toString(requestCounter.incrementAndGet(), 36);
    }

    public boolean draining() {
        return draining;
    }

    public void startDraining() {
        draining = true;
    }
}

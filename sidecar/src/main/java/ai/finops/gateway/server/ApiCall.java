package ai.finops.gateway.server;

import ai.finops.gateway.auth.Authenticator;
import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.config.Snapshot;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;

/**
 * A request {@link ApiHandler} has routed, as its {@link Endpoint} gets it: the request (which it owns
 * until one of the two endings below releases it), its connection, its route, the snapshot it is
 * served with from start to end, and the key it was authenticated with. It ends one of three ways:
 * {@link #reply}, an answer the gateway gives itself, {@link #proxy}, to a provider, or {@link #mcp},
 * to the MCP servers.
 */
final class ApiCall {
    private final ApiHandler handler;
    private final ChannelHandlerContext ctx;
    private final RouteTable.Route route;
    private final LocalAnswer answer;
    private final long start;
    private final Snapshot snapshot;
    private final Authenticator.Result auth;
    private final OpenAiClientDialect openai;
    private FullHttpRequest request;

    ApiCall(ApiHandler handler, ChannelHandlerContext ctx, FullHttpRequest request, RouteTable.Route route, LocalAnswer answer, long start,
            Snapshot snapshot, Authenticator.Result auth, OpenAiClientDialect openai) {
        this.handler = handler;
        this.ctx = ctx;
        this.request = request;
        this.route = route;
        this.answer = answer;
        this.start = start;
        this.snapshot = snapshot;
        this.auth = auth;
        this.openai = openai;
    }

    ChannelHandlerContext ctx() {
        return ctx;
    }

    FullHttpRequest request() {
        return request;
    }

    /** The request is served as {@code replacement} from now on (a translation of it); the one it replaces is released. */
    void replaceRequest(FullHttpRequest replacement) {
        request.release();
        request = replacement;
    }

    RouteTable.Surface surface() {
        return route.surface();
    }

    /** What the access line and the request counter will say of it. */
    LocalAnswer answer() {
        return answer;
    }

    String requestId() {
        return answer.requestId();
    }

    /** {@link System#nanoTime} when the request was taken up. */
    long start() {
        return start;
    }

    Snapshot snapshot() {
        return snapshot;
    }

    /** The successful authentication, on a route; null on a probe, which needs no key. */
    Authenticator.Result auth() {
        return auth;
    }

    KeyEntry key() {
        return auth.key();
    }

    /** The connection's outbound OpenAI dialect, or null (tests of the Anthropic surface only). */
    OpenAiClientDialect openai() {
        return openai;
    }

    /** Answers it with {@code response}, traced ({@link LocalAnswer}), and releases the request. */
    void reply(FullHttpResponse response) {
        ApiHandler.reply(ctx, request, answer, response);
    }

    /** Serves it on {@code /mcp} ({@link ApiHandler#mcp}). */
    void mcp() {
        handler.mcp(this);
    }

    /** Sends it to a provider as a request to the Anthropic API path {@code api} ({@link ApiHandler#proxy}). */
    void proxy(String api) {
        handler.proxy(this, api);
    }
}

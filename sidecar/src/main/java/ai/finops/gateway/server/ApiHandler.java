package ai.finops.gateway.server;

import static ai.finops.gateway.server.Endpoint.ANTHROPIC_MODELS;
import static ai.finops.gateway.server.Endpoint.CHAT_COMPLETIONS;
import static ai.finops.gateway.server.Endpoint.COUNT_TOKENS;
import static ai.finops.gateway.server.Endpoint.LIVENESS;
import static ai.finops.gateway.server.Endpoint.MCP;
import static ai.finops.gateway.server.Endpoint.MESSAGES;
import static ai.finops.gateway.server.Endpoint.OPENAI_MODELS;
import static ai.finops.gateway.server.RouteTable.Surface.ANTHROPIC;
import static ai.finops.gateway.server.RouteTable.Surface.OPENAI;
import static ai.finops.gateway.server.RouteTable.probe;
import static ai.finops.gateway.server.RouteTable.route;
import static io.netty.handler.codec.http.HttpMethod.DELETE;
import static io.netty.handler.codec.http.HttpMethod.GET;
import static io.netty.handler.codec.http.HttpMethod.HEAD;
import static io.netty.handler.codec.http.HttpMethod.POST;

import ai.finops.gateway.dialect.ErrorResponses;
import ai.finops.gateway.dialect.Headers;
import ai.finops.gateway.auth.Authenticator;
import ai.finops.gateway.config.Snapshot;
import ai.finops.gateway.mcp.McpCall;
import ai.finops.gateway.mcp.McpGateway;
import ai.finops.gateway.routing.Resolution;
import ai.finops.gateway.routing.RouteRequest;
import ai.finops.gateway.translate.RequestBody;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API port (DESIGN §4): routes each request by the table below to its {@link Endpoint}, after the
 * steps every route shares (the path, the key), and holds the steps of the endpoints a provider
 * answers (the body's model, resolve, a {@link ProxyExchange}). One instance per connection; requests
 * on a connection are served one at a time, in order.
 */
final class ApiHandler extends SequentialRequests {
    private static final Logger LOG = LoggerFactory.getLogger(ApiHandler.class);

    /**
     * Method and path (as {@link #path} gives it) to endpoint, and the surface whose dialect it speaks.
     * A {@code route} needs the virtual key, and its path asked with a method no row takes is 405 (with
     * {@code Allow}); a {@code probe} needs none, and its path takes no other method. Any other path is
     * 404, in the dialect of its surface. A new endpoint is one more row.
     */
    static final RouteTable ROUTES = RouteTable.of(
            route(POST, "/anthropic/v1/messages", ANTHROPIC, MESSAGES),
            route(POST, "/v1/messages", ANTHROPIC, MESSAGES),
            route(POST, "/anthropic/v1/messages/count_tokens", ANTHROPIC, COUNT_TOKENS),
            route(POST, "/v1/messages/count_tokens", ANTHROPIC, COUNT_TOKENS),
            route(GET, "/anthropic/v1/models", ANTHROPIC, ANTHROPIC_MODELS),
            route(GET, "/v1/models", ANTHROPIC, ANTHROPIC_MODELS),
            route(POST, "/openai/v1/chat/completions", OPENAI, CHAT_COMPLETIONS),
            route(POST, "/v1/chat/completions", OPENAI, CHAT_COMPLETIONS),
            route(GET, "/openai/v1/models", OPENAI, OPENAI_MODELS),
            route(POST, "/mcp", ANTHROPIC, MCP),
            route(DELETE, "/mcp", ANTHROPIC, MCP),
            route(GET, "/mcp", ANTHROPIC, MCP),
            probe(HEAD, "/", LIVENESS),
            probe(GET, "/", LIVENESS));

    private final GatewayContext gateway;
    private final OpenAiClientDialect openai;
    private ProxyExchange active;
    private boolean mcpInFlight;
    private McpGateway.Served mcpServed = McpGateway.Served.NONE;

    /** @param openai the connection's outbound OpenAI dialect, or null (tests of the Anthropic surface only) */
    ApiHandler(GatewayContext gateway, OpenAiClientDialect openai) {
        this.gateway = gateway;
        this.openai = openai;
    }

    @Override
    boolean busy() {
        return active != null || mcpInFlight;
    }

    @Override
    void clientClosed() {
        if (active != null) {
            active.clientClosed();
        }
        if (mcpInFlight) {
            mcpServed.clientClosed();
        }
    }

    @Override
    void cutByShutdown() {
        if (active != null) {
            active.cutByShutdown();
        }
        if (mcpInFlight) {
            mcpServed.shutdown();
        }
    }

    /**
     * The steps every request takes: its path, its route, its key (which {@link KeyCheck} already
     * checked on the head, so that a request without one was never aggregated), then its endpoint.
     */
    @Override
    void serve(ChannelHandlerContext ctx, FullHttpRequest request) {
        long start = System.nanoTime();
        String path = path(request.uri());
        LocalAnswer answer = new LocalAnswer(gateway, gateway.nextRequestId(), start, path);
        if (!request.decoderResult().isSuccess()) {
            FullHttpResponse bad = ErrorResponses.response(ctx.alloc(), 400, "malformed HTTP request", answer.requestId());
            answer.record(400);
            request.release();
            ctx.writeAndFlush(bad).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        if (openAiSurface(path) && openai != null) {
            openai.begin(false);   // every answer to this request, errors included, in OpenAI's dialect
        }
        RouteTable.Route route = ROUTES.find(request.method(), path);
        if (route == null) {
            reply(ctx, request, answer, noRoute(ctx, request.method(), path, answer.requestId()));
            return;
        }
        Snapshot snapshot = gateway.snapshots().current();
        Authenticator.Result auth = null;
        if (route.needsKey()) {
            auth = Authenticator.authenticate(request.headers(), snapshot.keys(), gateway.clock().instant());
            if (!auth.ok()) {
                reply(ctx, request, answer, ErrorResponses.response(ctx.alloc(), auth.status(), auth.message(), answer.requestId()));
                return;
            }
            answer.key(auth.key());
        }
        route.endpoint().serve(new ApiCall(this, ctx, request, route, answer, start, snapshot, auth, openai));
    }

    /**
     * The steps of an endpoint a provider answers: the body's model, the resolution, and a {@link
     * ProxyExchange} that forwards, relays and accounts. {@code api} is the Anthropic API path the
     * request is for ({@code /v1/messages}, {@code /v1/messages/count_tokens}).
     */
    void proxy(ApiCall call, String api) {
        ChannelHandlerContext ctx = call.ctx();
        FullHttpRequest request = call.request();
        Authenticator.Result auth = call.auth();
        String requestId = call.requestId();
        long start = call.start();
        RequestBody body;
        try {
            body = RequestBody.scan(request.content());
        } catch (RequestBody.InvalidBody e) {
            call.reply(ErrorResponses.response(ctx.alloc(), 400, e.getMessage(), requestId));
            return;
        }
        Map<String, String> headers = lowerCased(request);
        Snapshot snapshot = call.snapshot();
        RouteRequest route = new RouteRequest(body.model(), headers, auth.key(), call.surface().tag(), api,
                RouteRequest.sessionKey(headers, auth.key()), snapshot.routing().usesBudget()
                        ? gateway.admission().budgetVariables(auth.key(), snapshot.budgets(), body.model()) : null);
        Resolution resolution = gateway.resolver().resolve(call.snapshot().routing(), route);
        if (!resolution.ok()) {
            LOG.atDebug().addKeyValue("request_id", requestId).addKeyValue("steps", resolution.steps()).log("not routed");
            if (call.surface() == OPENAI && openai != null && resolution.errorStatus() == 404) {
                openai.errorCode("model_not_found");    // as OpenAI answers a model that does not exist
            }
            call.answer().model(body.model(), resolution.rule());
            call.reply(ErrorResponses.response(ctx.alloc(), resolution.errorStatus(), resolution.errorType(), resolution.errorMessage(), requestId));
            return;
        }
        gateway.inFlight().incrementAndGet();
        active = new ProxyExchange(gateway, ctx, new ProxiedRequest(request, body, api, route.api(), auth.key(), resolution,
                call.snapshot().budgets(), requestId, start),
                () -> exchangeDone(ctx), this::dropWaiting);
        active.start();
    }

    /**
     * An {@code /mcp} request: the MCP gateway answers it, maybe after its upstream servers did, and the
     * answer is written on this connection's event loop like any local answer.
     */
    void mcp(ApiCall call) {
        ChannelHandlerContext ctx = call.ctx();
        mcpInFlight = true;
        McpGateway.Served served = gateway.mcp().serve(new McpCall(call.request(), call.key(), call.snapshot().mcpServers(),
                call.snapshot().budgets(), call.snapshot().settings().allowedOrigins(), ctx.alloc()), new McpAnswer(call, () -> {
                    mcpInFlight = false;
                    mcpServed = McpGateway.Served.NONE;
                    served(ctx);
                }));
        if (mcpInFlight) {
            mcpServed = served;
        }
    }

    private void exchangeDone(ChannelHandlerContext ctx) {
        active = null;
        gateway.requestEnded();
        served(ctx);
    }

    /** No row for {@code method} and {@code path}: 405 on a route's path, naming the methods it takes; else 404. */
    private static FullHttpResponse noRoute(ChannelHandlerContext ctx, HttpMethod method, String path, String requestId) {
        List<HttpMethod> allowed = ROUTES.allowed(path);
        if (allowed.isEmpty()) {
            return ErrorResponses.response(ctx.alloc(), 404, "no such endpoint: " + method + " " + path
                    + " (" + ROUTES.surface(path).servedUnder() + ")", requestId);
        }
        String methods = allowed.stream().map(HttpMethod::name).collect(Collectors.joining(", "));
        FullHttpResponse r = ErrorResponses.response(ctx.alloc(), 405, "invalid_request_error",
                "method " + method + " not allowed on " + path + "; use " + methods, requestId);
        r.headers().set(HttpHeaderNames.ALLOW, methods);
        return r;
    }

    /** An answer the gateway gives itself: with the request id, and traced like every request (see {@link LocalAnswer}). */
    static void reply(ChannelHandlerContext ctx, FullHttpRequest request, LocalAnswer answer, FullHttpResponse response) {
        response.headers().set(Headers.GATEWAY_REQUEST_ID, answer.requestId());
        answer.record(response.status().code());
        request.release();
        ctx.writeAndFlush(response);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (active != null) {
            active.clientWritabilityChanged(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    /** True for the paths that serve only a request with a virtual key (a route's, whatever the method): see {@link KeyCheck}. */
    static boolean needsKey(String path) {
        return ROUTES.needsKey(path);
    }

    /** The OpenAI surface: {@code /openai/...} and {@code /v1/chat/completions}; everything else is the Anthropic surface. */
    static boolean openAiSurface(String path) {
        return ROUTES.surface(path) == OPENAI;
    }

    /** The path the route table matches: the URI without its query and without a trailing slash. */
    static String path(String uri) {
        int q = uri.indexOf('?');
        String p = q < 0 ? uri : uri.substring(0, q);
        return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }

    /** Header names lower-cased, first value of each; credentials left out, so no rule can see a key. */
    private static Map<String, String> lowerCased(FullHttpRequest request) {
        Map<String, String> headers = new HashMap<>();
        for (Map.Entry<String, String> e : request.headers()) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (!Headers.isCredential(name)) {
                headers.putIfAbsent(name, e.getValue());
            }
        }
        return headers;
    }
}

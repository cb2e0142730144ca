package ai.finops.gateway.server;

import ai.finops.gateway.dialect.ErrorResponses;
import ai.finops.gateway.dialect.Headers;
import ai.finops.gateway.auth.Authenticator;
import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.config.Snapshot;
import ai.finops.gateway.routing.Deployment;
import ai.finops.gateway.routing.Resolution;
import ai.finops.gateway.routing.RouteRequest;
import ai.finops.gateway.translate.RequestBody;
import ai.finops.gateway.translate.openai.OpenAiRequestToAnthropic;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Anthropic surface (DESIGN §4): {@code POST [/anthropic]/v1/messages} and {@code
 * .../v1/messages/count_tokens}, {@code GET .../v1/models}, {@code HEAD /}. Authenticates, reads the
 * model, resolves, and hands the request to a {@link ProxyExchange}. One instance per connection;
 * requests on a connection are served one at a time, in order.
 */
final class ApiHandler extends SequentialRequests {
    private static final Logger LOG = LoggerFactory.getLogger(ApiHandler.class);
    private static final String MESSAGES = "/v1/messages";
    private static final String COUNT_TOKENS = "/v1/messages/count_tokens";
    private static final String MODELS = "/v1/models";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String CHAT_COMPLETIONS = "/v1/chat/completions";

    private final GatewayContext gateway;
    private final OpenAiClientDialect openai;
    private ProxyExchange active;

    /** @param openai the connection's outbound OpenAI dialect, or null (tests of the Anthropic surface only) */
    ApiHandler(GatewayContext gateway, OpenAiClientDialect openai) {
        this.gateway = gateway;
        this.openai = openai;
    }

    @Override
    void serve(ChannelHandlerContext ctx, FullHttpRequest request) {
        handle(ctx, request);
    }

    @Override
    boolean busy() {
        return active != null;
    }

    @Override
    void clientClosed() {
        active.clientClosed();
    }

    @Override
    void cutByShutdown() {
        active.cutByShutdown();
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest request) {
        long start = System.nanoTime();
        String requestId = gateway.nextRequestId();
        String path = path(request.uri());
        LocalAnswer answer = new LocalAnswer(gateway, requestId, start, path);
        if (!request.decoderResult().isSuccess()) {
            FullHttpResponse bad = ErrorResponses.response(ctx.alloc(), 400, "malformed HTTP request", requestId);
            answer.record(400);
            request.release();
            ctx.writeAndFlush(bad).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        boolean openaiSurface = openAiSurface(path);
        String api = api(path);
        HttpMethod method = request.method();
        if (openaiSurface && openai != null) {
            openai.begin(false);   // every answer to this request, errors included, in OpenAI's dialect
        }
        if (path.equals("/") && (method.equals(HttpMethod.HEAD) || method.equals(HttpMethod.GET))) {
            FullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            ok.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            reply(ctx, request, answer, ok);
            return;
        }
        boolean messages = openaiSurface ? api.equals(CHAT_COMPLETIONS) : api.equals(MESSAGES) || api.equals(COUNT_TOKENS);
        if (!messages && !api.equals(MODELS)) {
            reply(ctx, request, answer, ErrorResponses.response(ctx.alloc(), 404, "no such endpoint: " + method + " " + path
                    + (openaiSurface ? " (the OpenAI API is served under /openai/v1/chat/completions and /openai/v1/models)"
                            : " (the Anthropic API is served under /anthropic/v1/messages and /v1/messages)"), requestId));
            return;
        }
        HttpMethod expected = messages ? HttpMethod.POST : HttpMethod.GET;
        if (!method.equals(expected)) {
            FullHttpResponse r = ErrorResponses.response(ctx.alloc(), 405, "invalid_request_error",
                    "method " + method + " not allowed on " + path + "; use " + expected, requestId);
            r.headers().set(HttpHeaderNames.ALLOW, expected.name());
            reply(ctx, request, answer, r);
            return;
        }
        Snapshot snapshot = gateway.snapshots().current();
        Authenticator.Result auth = Authenticator.authenticate(request.headers(), snapshot.keys(), gateway.clock().instant());
        if (!auth.ok()) {
            reply(ctx, request, answer, ErrorResponses.response(ctx.alloc(), auth.status(), auth.message(), requestId));
            return;
        }
        answer.key(auth.key());
        if (!messages) {
            reply(ctx, request, answer, openaiSurface ? openAiModels(ctx, snapshot, auth.key()) : models(ctx, snapshot, auth.key()));
            return;
        }
        if (openaiSurface) {
            request = fromOpenAi(ctx, request, answer);
            if (request == null) {
                return;
            }
            api = MESSAGES;
        }
        RequestBody body;
        try {
            body = RequestBody.scan(request.content());
        } catch (RequestBody.InvalidBody e) {
            reply(ctx, request, answer, ErrorResponses.response(ctx.alloc(), 400, e.getMessage(), requestId));
            return;
        }
        Map<String, String> headers = lowerCased(request);
        RouteRequest route = new RouteRequest(body.model(), headers, auth.key(), openaiSurface ? "openai" : "anthropic", api,
                RouteRequest.sessionKey(headers, auth.key()));
        Resolution resolution = gateway.resolver().resolve(snapshot.routing(), route);
        if (!resolution.ok()) {
            LOG.atDebug().addKeyValue("request_id", requestId).addKeyValue("steps", resolution.steps()).log("not routed");
            if (openaiSurface && openai != null && resolution.errorStatus() == 404) {
                openai.errorCode("model_not_found");    // as OpenAI answers a model that does not exist
            }
            reply(ctx, request, answer.model(body.model(), resolution.rule()), ErrorResponses.response(ctx.alloc(), resolution.errorStatus(),
                    resolution.errorType(), resolution.errorMessage(), requestId));
            return;
        }
        gateway.inFlight().incrementAndGet();
        active = new ProxyExchange(gateway, ctx, request, body, api, route.api(), auth.key(), resolution, requestId, start, () -> exchangeDone(ctx),
                this::dropWaiting);
        active.start();
    }

    /**
     * The Chat Completions request as the Messages request the pipeline serves (the original is
     * released), or null after answering a request that cannot be expressed.
     */
    private FullHttpRequest fromOpenAi(ChannelHandlerContext ctx, FullHttpRequest request, LocalAnswer answer) {
        byte[] anthropic;
        boolean includeUsage;
        try {
            com.fasterxml.jackson.databind.JsonNode in = JSON.readTree(new io.netty.buffer.ByteBufInputStream(request.content().duplicate()));
            includeUsage = in != null && in.path("stream_options").path("include_usage").asBoolean(false);
            anthropic = JSON.writeValueAsBytes(OpenAiRequestToAnthropic.translate(in));
        } catch (OpenAiRequestToAnthropic.Invalid e) {
            reply(ctx, request, answer, ErrorResponses.response(ctx.alloc(), 400, e.getMessage(), answer.requestId()));
            return null;
        } catch (java.io.IOException e) {
            reply(ctx, request, answer, ErrorResponses.response(ctx.alloc(), 400, RequestBody.notValidJson(e), answer.requestId()));
            return null;
        }
        openai.begin(includeUsage);
        FullHttpRequest translated = new io.netty.handler.codec.http.DefaultFullHttpRequest(request.protocolVersion(), HttpMethod.POST,
                MESSAGES, ctx.alloc().buffer(anthropic.length).writeBytes(anthropic));
        translated.headers().set(request.headers());
        translated.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, anthropic.length);
        if (!translated.headers().contains("anthropic-version")) {
            translated.headers().set("anthropic-version", "2023-06-01");
        }
        request.release();
        return translated;
    }

    /** The models this key may name, in OpenAI's list form. */
    private static FullHttpResponse openAiModels(ChannelHandlerContext ctx, Snapshot snapshot, KeyEntry key) {
        ObjectNode list = JSON.createObjectNode().put("object", "list");
        ArrayNode data = list.putArray("data");
        long created = snapshot.loadedAt().getEpochSecond();
        for (Deployment d : snapshot.routing().deployments().values()) {
            if (key.allowsProvider(d.name(), d.type().id())) {
                new TreeSet<>(d.models().keySet()).stream().filter(key::allowsModel)
                        .forEach(name -> data.addObject().put("id", name).put("object", "model").put("created", created).put("owned_by", d.name()));
            }
        }
        byte[] bytes = list.toString().getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, ctx.alloc().buffer(bytes.length).writeBytes(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON).setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        return r;
    }

    private void exchangeDone(ChannelHandlerContext ctx) {
        active = null;
        gateway.inFlight().decrementAndGet();
        served(ctx);
    }

    /** The models this key may name: those the deployments list (pass-through deployments accept any). */
    private static FullHttpResponse models(ChannelHandlerContext ctx, Snapshot snapshot, KeyEntry key) {
        TreeSet<String> names = new TreeSet<>();
        for (Deployment d : snapshot.routing().deployments().values()) {
            if (key.allowsProvider(d.name(), d.type().id())) {
                d.models().keySet().stream().filter(key::allowsModel).forEach(names::add);
            }
        }
        ObjectNode list = JSON.createObjectNode();
        ArrayNode data = list.putArray("data");
        String created = snapshot.loadedAt().toString();
        names.forEach(name -> data.addObject().put("type", "model").put("id", name).put("display_name", name).put("created_at", created));
        list.put("has_more", false);
        list.put("first_id", names.isEmpty() ? null : names.first());
        list.put("last_id", names.isEmpty() ? null : names.last());
        byte[] bytes = list.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuf content = ctx.alloc().buffer(bytes.length).writeBytes(bytes);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, content);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON).setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        return r;
    }

    /** An answer the gateway gives itself: with the request id, and traced like every request (see {@link LocalAnswer}). */
    private static void reply(ChannelHandlerContext ctx, FullHttpRequest request, LocalAnswer answer, FullHttpResponse response) {
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

    /** True for the endpoints that serve only a request with a virtual key (everything but {@code HEAD /} and unknown paths). */
    static boolean needsKey(String path) {
        String api = api(path);
        return openAiSurface(path) ? api.equals(CHAT_COMPLETIONS) || api.equals(MODELS)
                : api.equals(MESSAGES) || api.equals(COUNT_TOKENS) || api.equals(MODELS);
    }

    /** The API path without its surface prefix: {@code /anthropic/v1/messages} and {@code /v1/messages} give {@code /v1/messages}. */
    private static String api(String path) {
        return path.startsWith("/anthropic/") ? path.substring("/anthropic".length())
                : path.startsWith("/openai/") ? path.substring("/openai".length()) : path;
    }

    /** The OpenAI surface: {@code /openai/...} and {@code /v1/chat/completions}; everything else is the Anthropic surface. */
    static boolean openAiSurface(String path) {
        return path.startsWith("/openai/") || path.equals(CHAT_COMPLETIONS);
    }

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

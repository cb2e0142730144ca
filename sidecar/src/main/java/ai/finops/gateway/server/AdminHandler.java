package ai.finops.gateway.server;

import ai.finops.gateway.dialect.Headers;
import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.config.ConfigStatus;
import ai.finops.gateway.config.Snapshot;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.routing.Resolution;
import ai.finops.gateway.routing.RouteRequest;
import ai.finops.gateway.sessions.SessionLedger;
import ai.finops.gateway.usage.UsageLedger;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBufInputStream;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * The operations port: {@code /healthz}, {@code /readyz}, {@code /metrics} (Prometheus or OpenMetrics), {@code GET
 * /usage} (cost and tokens per day, JSON or FOCUS CSV), {@code GET /sessions} (cost per client session) and {@code
 * POST /explain}, the dry-run answer to "which rule and target would this request get, and why", computed by the
 * resolver that serves traffic. Bind it where only operators reach it.
 */
@ChannelHandler.Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final GatewayContext gateway;

    AdminHandler(GatewayContext gateway) {
        this.gateway = gateway;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) throws IOException {
        String path = ApiHandler.path(request.uri());
        if (path.equals("/usage")) {
            usage(ctx, request);
            return;
        }
        if (path.equals("/sessions")) {
            ctx.writeAndFlush(sessions(request));
            return;
        }
        FullHttpResponse response = switch (path) {
            case "/healthz" -> text(HttpResponseStatus.OK, "ok\n", "text/plain; charset=utf-8");
            case "/readyz" -> gateway.draining()
                    ? text(HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting down\n", "text/plain; charset=utf-8")
                    : text(HttpResponseStatus.OK, gateway.relay() != null ? "ready (relaying to " + gateway.relay().endpoint() + ")\n"
                            : ready(gateway.snapshots().status()) + "governance: " + gateway.admission().describe() + "\n",
                            "text/plain; charset=utf-8");
            case "/metrics" -> metrics(request);
            case "/explain" -> request.method().equals(HttpMethod.POST)
                    ? explain(request)
                    : text(HttpResponseStatus.METHOD_NOT_ALLOWED, "POST a JSON body: {\"model\":..., \"virtualKey\":..., \"headers\":{...}}\n",
                            "text/plain; charset=utf-8");
            default -> text(HttpResponseStatus.NOT_FOUND, "not found; try /healthz, /readyz, /metrics, /usage, /sessions, POST /explain\n",
                    "text/plain; charset=utf-8");
        };
        ctx.writeAndFlush(response);
    }

    /**
     * {@code GET /usage}: the usage ledger's answer (JSON, or FOCUS CSV), written when its store answers.
     * The ledger is one of the gateway's exchange listeners; a relay has none.
     */
    private void usage(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!request.method().equals(HttpMethod.GET)) {
            ctx.writeAndFlush(json(HttpResponseStatus.METHOD_NOT_ALLOWED, JSON.createObjectNode().put("error", "GET /usage")));
            return;
        }
        UsageLedger ledger = gateway.listeners().stream().filter(UsageLedger.class::isInstance).map(UsageLedger.class::cast)
                .findFirst().orElse(null);
        if (ledger == null) {
            ctx.writeAndFlush(json(HttpResponseStatus.NOT_FOUND, JSON.createObjectNode().put("error",
                    "this gateway keeps no usage ledger" + (gateway.relay() != null ? " (a relay: ask the shared gateway)" : ""))));
            return;
        }
        ledger.answer(request.uri()).whenComplete((answer, e) -> ctx.writeAndFlush(e == null
                ? text(HttpResponseStatus.valueOf(answer.status()), answer.body(), answer.contentType())
                : json(HttpResponseStatus.INTERNAL_SERVER_ERROR, JSON.createObjectNode().put("error", String.valueOf(e.getMessage())))));
    }

    /** The meters, in the format the scraper's {@code Accept} asks for (OpenMetrics carries exemplars). */
    private FullHttpResponse metrics(FullHttpRequest request) {
        GatewayMetrics.Exposition scrape = gateway.metrics().scrape(request.headers().get(HttpHeaderNames.ACCEPT));
        return text(HttpResponseStatus.OK, scrape.body(), scrape.contentType());
    }

    /** {@code GET /sessions}: what each client session cost, from the session ledger (one of the exchange listeners; a relay has none). */
    private FullHttpResponse sessions(FullHttpRequest request) {
        if (!request.method().equals(HttpMethod.GET)) {
            return json(HttpResponseStatus.METHOD_NOT_ALLOWED, JSON.createObjectNode().put("error", "GET /sessions"));
        }
        SessionLedger ledger = gateway.listeners().stream().filter(SessionLedger.class::isInstance).map(SessionLedger.class::cast)
                .findFirst().orElse(null);
        if (ledger == null) {
            return json(HttpResponseStatus.NOT_FOUND,
                    JSON.createObjectNode().put("error", "this gateway keeps no sessions (a relay: ask the shared gateway)"));
        }
        UsageLedger.Answer answer = ledger.answer(request.uri());
        return text(HttpResponseStatus.valueOf(answer.status()), answer.body(), answer.contentType());
    }

    /**
     * Ready, with the generation serving and, when the last change on disk was rejected, when and why:
     * the last good configuration keeps serving, so the gateway stays ready.
     */
    static String ready(ConfigStatus status) {
        StringBuilder b = new StringBuilder("ready: config generation ").append(status.generation());
        if (status.contentHash() != null) {
            b.append(" (sha256 ").append(status.contentHash(), 0, Math.min(12, status.contentHash().length())).append(')');
        }
        b.append(" serving since ").append(status.servingSince()).append('\n');
        if (!status.lastReloadAccepted()) {
            b.append("last reload rejected at ").append(status.rejectedAt()).append(" (").append(status.problems())
                    .append(status.problems() == 1 ? " problem" : " problems").append(", all in the log; generation ")
                    .append(status.generation()).append(" keeps serving): ").append(status.firstProblem()).append('\n');
        }
        return b.toString();
    }

    /**
     * Resolves a described request: {@code {"model": "sonnet-model", "virtualKey": "alice",
     * "headers": {"user-agent": "claude-cli/2.1.328"}, "api": "anthropic", "path": "/v1/messages"}}.
     */
    private FullHttpResponse explain(FullHttpRequest request) {
        JsonNode in;
        try {
            in = JSON.readTree(new ByteBufInputStream(request.content().duplicate()));
        } catch (IOException e) {
            return json(HttpResponseStatus.BAD_REQUEST, JSON.createObjectNode().put("error", "body is not valid JSON"));
        }
        if (in == null || !in.path("model").isTextual()) {
            return json(HttpResponseStatus.BAD_REQUEST, JSON.createObjectNode().put("error", "field 'model' (string) is required"));
        }
        Snapshot snapshot = gateway.snapshots().current();
        String keyName = in.path("virtualKey").asText("");
        KeyEntry key = snapshot.keys().values().stream().filter(k -> k.name().equals(keyName)).findFirst().orElse(null);
        if (key == null) {
            return json(HttpResponseStatus.BAD_REQUEST, JSON.createObjectNode()
                    .put("error", "field 'virtualKey' must name a VirtualKey; known: "
                            + snapshot.keys().values().stream().map(KeyEntry::name).sorted().toList()));
        }
        Map<String, String> headers = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = in.path("headers").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (!Headers.isCredential(name)) {
                headers.put(name, e.getValue().asText());
            }
        }
        String api = in.path("api").asText("anthropic");
        String path = in.path("path").asText("/v1/messages");
        RouteRequest route = new RouteRequest(in.get("model").asText(), headers, key, api, path, RouteRequest.sessionKey(headers, key),
                gateway.admission().budgetVariables(key, snapshot.budgets(), in.get("model").asText()));
        Resolution r = gateway.resolver().resolve(snapshot.routing(), route);

        ObjectNode out = JSON.createObjectNode();
        out.put("configGeneration", snapshot.generation());
        out.put("sessionKey", route.sessionKey());
        ObjectNode budget = out.putObject("budget");     // as rules see it; remainingUsd null: no budget applies
        budget.put("usedRatio", route.budget().get("usedRatio"));
        double remaining = route.budget().get("remainingUsd");
        if (Double.isInfinite(remaining)) {
            budget.putNull("remainingUsd");
        } else {
            budget.put("remainingUsd", remaining);
        }
        if (r.rule() != null) {
            out.put("rule", r.rule());
        } else {
            out.putNull("rule");
        }
        ArrayNode steps = out.putArray("steps");
        r.steps().forEach(steps::add);
        ArrayNode attempts = out.putArray("attempts");
        for (Attempt a : r.attempts()) {
            attempts.addObject()
                    .put("deployment", a.deployment().name())
                    .put("provider", a.deployment().type().id())
                    .put("endpoint", a.deployment().endpoint().toString())
                    .put("model", a.model().name())
                    .put("providerModel", a.model().providerId())
                    .put("ref", a.ref())
                    .put("fallback", a.fallback())
                    .put("coolingDownMs", gateway.cooldowns().remainingMillis(a.deployment().name()));
        }
        if (!r.ok()) {
            out.putObject("error").put("status", r.errorStatus()).put("type", r.errorType()).put("message", r.errorMessage());
        }
        return json(HttpResponseStatus.OK, out);
    }

    private static FullHttpResponse json(HttpResponseStatus status, JsonNode body) {
        try {
            return text(status, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body) + "\n", "application/json");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body, String contentType) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, io.netty.buffer.Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType).setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        return r;
    }
}

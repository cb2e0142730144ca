package ai.finops.gateway.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.gateway.observability.GatewayMetrics;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpMethod;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The API port's routes ({@link ApiHandler#ROUTES}): which method and path reach which endpoint, and
 * what a method and path that none serves gets: 405 on a route's path (before the key is looked at),
 * 404 anywhere else, each in the dialect of the path's surface.
 */
class RouteTableTest {
    private static final Map<Endpoint, String> ENDPOINTS = Map.of(Endpoint.MESSAGES, "messages", Endpoint.COUNT_TOKENS, "count_tokens",
            Endpoint.CHAT_COMPLETIONS, "chat_completions", Endpoint.ANTHROPIC_MODELS, "anthropic_models",
            Endpoint.OPENAI_MODELS, "openai_models", Endpoint.MCP, "mcp", Endpoint.LIVENESS, "liveness");

    @Test
    void everyRouteAndItsEndpoint() {
        assertThat(ApiHandler.ROUTES.routes()).extracting(r -> r.method() + " " + r.path() + " -> " + ENDPOINTS.get(r.endpoint())
                + " (" + r.surface().tag() + (r.probe() ? ", probe: no key)" : ")")).containsExactly(
                "POST /anthropic/v1/messages -> messages (anthropic)",
                "POST /v1/messages -> messages (anthropic)",
                "POST /anthropic/v1/messages/count_tokens -> count_tokens (anthropic)",
                "POST /v1/messages/count_tokens -> count_tokens (anthropic)",
                "GET /anthropic/v1/models -> anthropic_models (anthropic)",
                "GET /v1/models -> anthropic_models (anthropic)",
                "POST /openai/v1/chat/completions -> chat_completions (openai)",
                "POST /v1/chat/completions -> chat_completions (openai)",
                "GET /openai/v1/models -> openai_models (openai)",
                "POST /mcp -> mcp (anthropic)",
                "DELETE /mcp -> mcp (anthropic)",
                "GET /mcp -> mcp (anthropic)",
                "HEAD / -> liveness (anthropic, probe: no key)",
                "GET / -> liveness (anthropic, probe: no key)");
        for (RouteTable.Route r : ApiHandler.ROUTES.routes()) {
            assertThat(ApiHandler.ROUTES.find(r.method(), r.path())).as(r.toString()).isSameAs(r);
            assertThat(ApiHandler.needsKey(r.path())).as(r.toString()).isEqualTo(!r.probe());
            assertThat(ApiHandler.openAiSurface(r.path())).as(r.toString()).isEqualTo(r.surface() == RouteTable.Surface.OPENAI);
            assertThat(ApiHandler.ROUTES.allowed(r.path())).as(r.toString()).isEqualTo(r.probe() ? List.of()
                    : r.path().equals("/mcp") ? List.of(HttpMethod.POST, HttpMethod.DELETE, HttpMethod.GET) : List.of(r.method()));
        }
    }

    @Test
    void aPathNoRowHasNeedsNoKeyAndTakesItsSurfaceFromItsPrefix() {
        for (String path : new String[] {"/v1/complete", "/anthropic/v1/chat/completions", "/openai/v1/messages", "/openai", "/v1/mcp", "/"}) {
            assertThat(ApiHandler.ROUTES.find(HttpMethod.POST, path)).as(path).isNull();
            assertThat(ApiHandler.ROUTES.allowed(path)).as(path).isEmpty();
        }
        assertThat(ApiHandler.needsKey("/v1/complete")).isFalse();
        assertThat(ApiHandler.needsKey("/openai/v1/messages")).isFalse();
        assertThat(ApiHandler.openAiSurface("/openai/v1/messages")).isTrue();
        assertThat(ApiHandler.openAiSurface("/anthropic/v1/chat/completions")).isFalse();
        assertThat(ApiHandler.openAiSurface("/openai")).isFalse();
    }

    @Test
    void aTableHasOneRowPerMethodAndPathAndOneSurfaceAndKindPerPath() {
        assertThatThrownBy(() -> RouteTable.of(RouteTable.route(HttpMethod.POST, "/x", RouteTable.Surface.ANTHROPIC, Endpoint.MESSAGES),
                RouteTable.route(HttpMethod.POST, "/x", RouteTable.Surface.ANTHROPIC, Endpoint.COUNT_TOKENS)))
                .hasMessageContaining("two rows for POST /x");
        assertThatThrownBy(() -> RouteTable.of(RouteTable.route(HttpMethod.POST, "/x", RouteTable.Surface.ANTHROPIC, Endpoint.MESSAGES),
                RouteTable.route(HttpMethod.GET, "/x", RouteTable.Surface.OPENAI, Endpoint.OPENAI_MODELS)))
                .hasMessageContaining("share a path");
        assertThatThrownBy(() -> RouteTable.of(RouteTable.route(HttpMethod.POST, "/x", RouteTable.Surface.ANTHROPIC, Endpoint.MESSAGES),
                RouteTable.probe(HttpMethod.GET, "/x", Endpoint.LIVENESS)))
                .hasMessageContaining("share a path");
        RouteTable two = RouteTable.of(RouteTable.route(HttpMethod.POST, "/x", RouteTable.Surface.ANTHROPIC, Endpoint.MESSAGES),
                RouteTable.route(HttpMethod.GET, "/x", RouteTable.Surface.ANTHROPIC, Endpoint.ANTHROPIC_MODELS));
        assertThat(two.allowed("/x")).containsExactly(HttpMethod.POST, HttpMethod.GET);
    }

    private static final String ANTHROPIC_HINT = "the Anthropic API is served under /anthropic/v1/messages and /v1/messages";
    private static final String OPENAI_HINT = "the OpenAI API is served under /openai/v1/chat/completions and /openai/v1/models";

    private static String request(String method, String target, String... headers) {
        StringBuilder sb = new StringBuilder(method + " " + target + " HTTP/1.1\r\nhost: x\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        boolean body = method.equals("POST") || method.equals("PUT") || method.equals("PATCH") || method.equals("DELETE");
        return sb.append(body ? "content-length: 2\r\n\r\n{}" : "\r\n").toString();
    }

    private static String requestId(String response) {
        Matcher m = Pattern.compile("(?im)^x-finops-request-id: (\\S+)").matcher(response);
        assertThat(m.find()).as("x-finops-request-id on " + response).isTrue();
        return m.group(1);
    }

    private static String body(String response) {
        return response.substring(response.indexOf("\r\n\r\n") + 4);
    }

    private static String anthropicError(String type, String message, String requestId) {
        return "{\"type\":\"error\",\"error\":{\"type\":\"" + type + "\",\"message\":\"" + message + "\"},\"request_id\":\"" + requestId + "\"}";
    }

    private static String openAiError(String code, String message) {
        return "{\"error\":{\"message\":\"" + message + "\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"" + code + "\"}}";
    }

    private static double count(GatewayMetrics metrics, String api, String outcome, int status) {
        var counter = metrics.registry().find("finops.gateway.requests").tags("api", api, "virtual_key", "none", "outcome", outcome,
                "status", Integer.toString(status)).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void aRoutesPathAskedWithAnotherMethodIs405NamingTheMethodItTakesBeforeAnyKeyIsAsked() {
        String[][] cases = {    // method, request target, path as matched, the method the path takes, surface
                {"GET", "/v1/messages", "/v1/messages", "POST", "anthropic"},
                {"PUT", "/anthropic/v1/messages", "/anthropic/v1/messages", "POST", "anthropic"},
                {"HEAD", "/anthropic/v1/messages", "/anthropic/v1/messages", "POST", "anthropic"},
                {"GET", "/v1/messages/?beta=true", "/v1/messages", "POST", "anthropic"},
                {"GET", "/v1/messages/count_tokens", "/v1/messages/count_tokens", "POST", "anthropic"},
                {"DELETE", "/anthropic/v1/messages/count_tokens", "/anthropic/v1/messages/count_tokens", "POST", "anthropic"},
                {"POST", "/v1/models", "/v1/models", "GET", "anthropic"},
                {"PATCH", "/anthropic/v1/models", "/anthropic/v1/models", "GET", "anthropic"},
                {"GET", "/openai/v1/chat/completions", "/openai/v1/chat/completions", "POST", "openai"},
                {"GET", "/v1/chat/completions", "/v1/chat/completions", "POST", "openai"},
                {"PUT", "/openai/v1/models", "/openai/v1/models", "GET", "openai"}};
        GatewayMetrics metrics = new GatewayMetrics();
        EmbeddedChannel ch = ApiPipelineTest.channel(1 << 20, null, metrics);
        for (String[] c : cases) {
            String response = ApiPipelineTest.exchange(ch, request(c[0], c[1]));
            String message = "method " + c[0] + " not allowed on " + c[2] + "; use " + c[3];
            assertThat(response).as(c[0] + " " + c[1]).startsWith("HTTP/1.1 405 Method Not Allowed\r\n").contains("\r\nallow: " + c[3] + "\r\n");
            if (c[0].equals("HEAD")) {
                continue;    // no body to a HEAD
            }
            assertThat(body(response)).as(c[0] + " " + c[1]).isEqualTo(c[4].equals("openai") ? openAiError("invalid_request_error", message)
                    : anthropicError("invalid_request_error", message, requestId(response)));
        }
        assertThat(count(metrics, "anthropic", "rejected_method", 405)).isEqualTo(8);
        assertThat(count(metrics, "openai", "rejected_method", 405)).isEqualTo(3);
        assertThat(ch.isActive()).isTrue();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void anyOtherMethodAndPathIs404SayingWhereItsSurfaceIsServed() {
        String[][] cases = {    // method, request target, path as matched, surface
                {"POST", "/v1/complete", "/v1/complete", "anthropic"},
                {"POST", "/", "/", "anthropic"},    // a probe's path: any other method is no endpoint, not 405
                {"PUT", "/?x=1", "/", "anthropic"},
                {"POST", "/anthropic/v1/chat/completions", "/anthropic/v1/chat/completions", "anthropic"},
                {"GET", "/anthropic/", "/anthropic", "anthropic"},
                {"POST", "/anthropic/anthropic/v1/messages", "/anthropic/anthropic/v1/messages", "anthropic"},
                {"GET", "/V1/models", "/V1/models", "anthropic"},
                {"POST", "/v1/mcp", "/v1/mcp", "anthropic"},
                {"POST", "/openai/v1/messages", "/openai/v1/messages", "openai"},
                {"POST", "/openai/v1/completions", "/openai/v1/completions", "openai"},
                {"GET", "/openai/v1/models/gpt-4o", "/openai/v1/models/gpt-4o", "openai"},
                {"GET", "/openai", "/openai", "anthropic"}};
        GatewayMetrics metrics = new GatewayMetrics();
        EmbeddedChannel ch = ApiPipelineTest.channel(1 << 20, null, metrics);
        for (String[] c : cases) {
            String response = ApiPipelineTest.exchange(ch, request(c[0], c[1], "x-api-key: " + ApiPipelineTest.TOKEN));
            boolean openAi = c[3].equals("openai");
            String message = "no such endpoint: " + c[0] + " " + c[2] + " (" + (openAi ? OPENAI_HINT : ANTHROPIC_HINT) + ")";
            assertThat(response).as(c[0] + " " + c[1]).startsWith("HTTP/1.1 404 Not Found\r\n").doesNotContainIgnoringCase("\r\nallow:");
            assertThat(body(response)).as(c[0] + " " + c[1]).isEqualTo(openAi ? openAiError("not_found_error", message)
                    : anthropicError("not_found_error", message, requestId(response)));
        }
        assertThat(count(metrics, "anthropic", "rejected_not_found", 404)).isEqualTo(9);
        assertThat(count(metrics, "openai", "rejected_not_found", 404)).isEqualTo(3);
        assertThat(ch.isActive()).isTrue();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void theRootAnswersHeadAndGetWithoutAKey() {
        GatewayMetrics metrics = new GatewayMetrics();
        EmbeddedChannel ch = ApiPipelineTest.channel(1 << 20, null, metrics);
        for (String target : new String[] {"HEAD /", "GET /", "GET /?probe=1"}) {
            String[] t = target.split(" ");
            String response = ApiPipelineTest.exchange(ch, request(t[0], t[1]));
            assertThat(response).as(target).startsWith("HTTP/1.1 200 OK\r\n").contains("\r\ncontent-length: 0\r\n").endsWith("\r\n\r\n");
        }
        assertThat(count(metrics, "anthropic", "local", 200)).isEqualTo(3);
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aRouteIsMatchedWithoutTheQueryAndATrailingSlash() {
        EmbeddedChannel ch = ApiPipelineTest.channel(1 << 20, null, new GatewayMetrics());
        for (String target : new String[] {"/v1/models/", "/anthropic/v1/models?limit=5", "/openai/v1/models/?x"}) {
            String response = ApiPipelineTest.exchange(ch, request("GET", target, "x-api-key: " + ApiPipelineTest.TOKEN));
            assertThat(response).as(target).startsWith("HTTP/1.1 200 OK\r\n");
            assertThat(body(response)).as(target).isEqualTo(target.startsWith("/openai") ? "{\"object\":\"list\",\"data\":[]}"
                    : "{\"data\":[],\"has_more\":false,\"first_id\":null,\"last_id\":null}");
        }
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }
}

package ai.finops.gateway.provider;

import ai.finops.gateway.dialect.ErrorResponses;
import ai.finops.gateway.upstream.UpstreamEndpoint;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Claude on Google Vertex AI: {@code POST /v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:streamRawPredict}
 * (or {@code :rawPredict}), on the regional host or {@code aiplatform.googleapis.com} for {@code global}.
 * The body is the Messages body without {@code model}, with {@code anthropic_version: vertex-2023-10-16}
 * ({@code stream} stays, as Anthropic's Vertex SDK sends it); betas Vertex lacks are dropped with their
 * fields; the request carries an OAuth access token of the service account (or of the platform
 * identity). {@code count_tokens} goes to the {@code count-tokens:rawPredict} model with the model in
 * the body. Streams come back as Anthropic SSE; Google's error envelope is unwrapped.
 */
public final class VertexAdapter implements ProviderAdapter {
    public static final String ANTHROPIC_VERSION = "vertex-2023-10-16";
    /** Betas Vertex accepts for Claude (feature table {@value ProviderFeatures#VERSION}). */
    public static final Set<String> VERTEX_BETAS = ProviderFeatures.BEDROCK_BETAS;

    private final UpstreamEndpoint endpoint;
    private final String project;
    private final String region;
    private final GoogleTokens tokens;

    public VertexAdapter(UpstreamEndpoint endpoint, String project, String region, GoogleTokens tokens) {
        this.endpoint = endpoint;
        this.project = project;
        this.region = region;
        this.tokens = tokens;
    }

    public static String defaultEndpoint(String region) {
        return "global".equals(region) ? "https://aiplatform.googleapis.com" : "https://" + region + "-aiplatform.googleapis.com";
    }

    @Override
    public CompletableFuture<Void> ready() {
        return tokens.ready();
    }

    @Override
    public boolean anthropicFormat() {
        return false;
    }

    @Override
    public FullHttpRequest request(ProviderCall call) {
        AnthropicBodies.Adapted adapted = AnthropicBodies.forPlatform(call, ProviderFeatures.VERTEX_MISSING_SERVER_TOOLS, "vertex",
                VERTEX_BETAS);
        ObjectNode body = adapted.body();
        List<String> betas = adapted.betas();
        boolean countTokens = call.apiPath().endsWith("/count_tokens");
        String model;
        if (countTokens) {
            body.put("model", call.model().providerId());
            model = "count-tokens";
        } else {
            body.remove("model");
            model = call.model().providerId();
        }
        ObjectNode out = body.objectNode();
        out.put("anthropic_version", ANTHROPIC_VERSION);
        out.setAll(body);
        byte[] bytes = AnthropicBodies.write(out);
        String method = countTokens || !call.body().stream() ? "rawPredict" : "streamRawPredict";
        String path = endpoint.basePath() + "/v1/projects/" + segment(project) + "/locations/" + segment(region)
                + "/publishers/anthropic/models/" + segment(model) + ":" + method;
        ByteBuf content = call.alloc().buffer(bytes.length).writeBytes(bytes);
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path, content);
        HttpHeaders h = request.headers();
        h.set(HttpHeaderNames.HOST, endpoint.authority());
        h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + tokens.bearer());
        h.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        h.set(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.IDENTITY);
        if (!betas.isEmpty()) {
            h.set("anthropic-beta", String.join(",", betas));
        }
        return request;
    }

    /** One path segment, percent-encoded ({@code @} of versioned model ids kept). */
    private static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20").replace("%40", "@");
    }

    /**
     * Vertex answers model errors in Anthropic's form (passed as they are) and platform errors in
     * Google's envelope {@code {"error": {"code", "message", "status"}}} (possibly inside a list).
     */
    @Override
    public ProviderError error(int status, HttpHeaders responseHeaders, String body) {
        JsonNode node;
        try {
            node = AnthropicBodies.JSON.readTree(body);
        } catch (Exception e) {
            node = null;
        }
        if (node != null && node.isArray() && !node.isEmpty()) {
            node = node.get(0);
        }
        if (node != null && "error".equals(node.path("type").asText())) {
            return new ProviderError(status, node.toString());
        }
        String message = node != null && node.path("error").has("message") ? node.path("error").path("message").asText() : body;
        String googleStatus = node == null ? "" : node.path("error").path("status").asText("");
        int code = switch (googleStatus) {
            case "RESOURCE_EXHAUSTED" -> 429;
            case "UNAVAILABLE" -> 529;
            case "UNAUTHENTICATED" -> 401;
            case "PERMISSION_DENIED" -> 403;
            case "NOT_FOUND" -> 404;
            case "INVALID_ARGUMENT", "FAILED_PRECONDITION" -> 400;
            case "DEADLINE_EXCEEDED" -> 504;
            default -> status == 503 ? 529 : status;
        };
        return new ProviderError(code, new String(ErrorResponses.json(ErrorResponses.typeFor(code), message, null), StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "VertexAdapter[" + endpoint + ", " + project + ", " + region + "]";
    }
}

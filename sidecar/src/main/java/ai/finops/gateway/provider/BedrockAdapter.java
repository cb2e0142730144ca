package ai.finops.gateway.provider;

import ai.finops.gateway.dialect.BedrockErrors;
import ai.finops.gateway.dialect.ErrorResponses;
import ai.finops.gateway.translate.BedrockStreamTranscoder;
import ai.finops.gateway.translate.ResponseTranscoder;
import ai.finops.gateway.upstream.UpstreamEndpoint;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.net.URI;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/**
 * Claude on Amazon Bedrock: {@code POST /model/{model id}/invoke} or {@code .../invoke-with-response-stream}.
 * The body is the Messages body without {@code model} and {@code stream}, with {@code anthropic_version:
 * bedrock-2023-05-31} and the client's betas that Bedrock accepts as {@code anthropic_beta}. The model id
 * (an inference profile such as {@code global.anthropic.claude-haiku-4-6}, or an ARN) is URL-encoded
 * into the path. Requests are signed with SigV4 by the AWS SDK's signer (service {@code bedrock}; the
 * canonical path encoded twice, as AWS requires for every service but S3), or carry a Bedrock API key
 * as a Bearer token. Streams arrive as AWS event-stream frames and leave as Anthropic SSE.
 */
public final class BedrockAdapter implements ProviderAdapter {
    public static final String ANTHROPIC_VERSION = "bedrock-2023-05-31";
    private static final AwsV4HttpSigner SIGNER = AwsV4HttpSigner.create();

    /** Static AWS credentials from a Secret; never logged. */
    public record AwsKeys(String accessKeyId, String secretAccessKey, String sessionToken) {
        AwsCredentialsIdentity identity() {
            return sessionToken == null || sessionToken.isEmpty() ? AwsCredentialsIdentity.create(accessKeyId, secretAccessKey)
                    : AwsSessionCredentialsIdentity.create(accessKeyId, secretAccessKey, sessionToken);
        }

        @Override
        public String toString() {
            return "AwsKeys[***]";
        }
    }

    private final UpstreamEndpoint endpoint;
    private final String region;
    private final AwsKeys keys;
    private final String apiKey;
    private final AwsIdentity platform;

    /**
     * @param keys SigV4 credentials from a Secret, or null
     * @param apiKey a Bedrock API key (Bearer), or null
     * @param platform the default-chain identity, used when neither is given
     */
    public BedrockAdapter(UpstreamEndpoint endpoint, String region, AwsKeys keys, String apiKey, AwsIdentity platform) {
        this.endpoint = endpoint;
        this.region = region;
        this.keys = keys;
        this.apiKey = apiKey;
        this.platform = platform;
    }

    @Override
    public java.util.concurrent.CompletableFuture<Void> ready() {
        return keys == null && apiKey == null ? platform.ready() : READY;
    }

    /** The default endpoint of a region. */
    public static String defaultEndpoint(String region) {
        return "https://bedrock-runtime." + region + ".amazonaws.com";
    }

    @Override
    public FullHttpRequest request(ProviderCall call) {
        AnthropicBodies.Adapted adapted = AnthropicBodies.forPlatform(call, ProviderFeatures.BEDROCK_MISSING_SERVER_TOOLS, "bedrock",
                ProviderFeatures.BEDROCK_BETAS);
        ObjectNode body = adapted.body();
        List<String> betas = adapted.betas();
        boolean countTokens = call.apiPath().endsWith("/count_tokens");
        boolean stream = call.body().stream() && !countTokens;
        body.remove("model");
        body.remove("stream");
        ObjectNode out = body.objectNode();
        out.put("anthropic_version", ANTHROPIC_VERSION);
        if (!betas.isEmpty()) {
            ArrayNode array = out.putArray("anthropic_beta");
            betas.forEach(array::add);
        }
        out.setAll(body);
        byte[] bytes = AnthropicBodies.write(out);
        String operation = countTokens ? "/count-tokens" : stream ? "/invoke-with-response-stream" : "/invoke";
        if (countTokens) {
            // CountTokens takes the InvokeModel body it would count, base64 in input.invokeModel.body
            if (!out.has("max_tokens")) {
                out.put("max_tokens", 1);
            }
            ObjectNode request = out.objectNode();
            request.putObject("input").putObject("invokeModel").put("body", java.util.Base64.getEncoder().encodeToString(AnthropicBodies.write(out)));
            bytes = AnthropicBodies.write(request);
        }
        String path = endpoint.basePath() + "/model/" + SdkHttpUtils.urlEncode(call.model().providerId()) + operation;
        String accept = stream ? "application/vnd.amazon.eventstream" : "application/json";
        Map<String, List<String>> signed = authorization(path, accept, bytes);
        ByteBuf content = call.alloc().buffer(bytes.length).writeBytes(bytes);
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path, content);
        HttpHeaders h = request.headers();
        signed.forEach(h::set);
        h.set(HttpHeaderNames.HOST, endpoint.authority());
        h.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        h.set(HttpHeaderNames.ACCEPT, accept);
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        h.set(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.IDENTITY);
        return request;
    }

    /** The Authorization (and X-Amz-*) headers for the request. */
    private Map<String, List<String>> authorization(String path, String accept, byte[] body) {
        if (apiKey != null) {
            return Map.of("authorization", List.of("Bearer " + apiKey));
        }
        SdkHttpRequest unsigned = SdkHttpRequest.builder()
                .method(SdkHttpMethod.POST)
                .uri(URI.create(endpoint.scheme() + "://" + endpoint.authority() + path))
                .putHeader("host", endpoint.authority())
                .putHeader("content-type", "application/json")
                .putHeader("accept", accept)
                .build();
        AwsCredentialsIdentity identity = keys != null ? keys.identity() : platform.identity();
        SdkHttpRequest signed = SIGNER.sign(r -> r.identity(identity)
                        .request(unsigned)
                        .payload(ContentStreamProvider.fromByteArrayUnsafe(body))
                        .putProperty(AwsV4FamilyHttpSigner.SERVICE_SIGNING_NAME, "bedrock")
                        .putProperty(AwsV4HttpSigner.REGION_NAME, region))
                .request();
        Map<String, List<String>> headers = new java.util.TreeMap<>();
        signed.headers().forEach((name, values) -> {
            String lower = name.toLowerCase(java.util.Locale.ROOT);
            if (lower.equals("authorization") || lower.startsWith("x-amz-")) {
                headers.put(lower, values);
            }
        });
        return headers;
    }

    @Override
    public ResponseTranscoder transcoder(HttpHeaders responseHeaders, io.netty.buffer.ByteBufAllocator alloc,
            ai.finops.gateway.translate.openai.ToolNames toolNames) {
        String type = responseHeaders.get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.startsWith("application/vnd.amazon.eventstream") ? new BedrockStreamTranscoder(alloc) : null;
    }

    @Override
    public boolean anthropicFormat() {
        return false;
    }

    /** Invoke answers are Anthropic messages as they are; only CountTokens answers ({@code {"inputTokens": n}}) are rewritten. */
    @Override
    public boolean rewritesResponseBody(String apiPath) {
        return apiPath.endsWith("/count_tokens");
    }

    @Override
    public byte[] responseBody(byte[] body, ai.finops.gateway.translate.openai.ToolNames toolNames) throws java.io.IOException {
        JsonNode node = AnthropicBodies.JSON.readTree(body);
        return AnthropicBodies.JSON.writeValueAsBytes(AnthropicBodies.JSON.createObjectNode().put("input_tokens", node.path("inputTokens").asLong()));
    }

    @Override
    public ProviderError error(int status, HttpHeaders responseHeaders, String body) {
        String message = body;
        try {
            JsonNode node = AnthropicBodies.JSON.readTree(body);
            message = node.path("message").asText(node.path("Message").asText(body));
        } catch (Exception e) {
            // not JSON: keep the text
        }
        BedrockErrors.Mapped mapped = BedrockErrors.of(responseHeaders.get("x-amzn-errortype"), status);
        return new ProviderError(mapped.status(), new String(ErrorResponses.json(mapped.type(), message, null),
                java.nio.charset.StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "BedrockAdapter[" + endpoint + ", " + region + ", " + (apiKey != null ? "api key" : keys != null ? "sigv4" : "sigv4, default chain") + "]";
    }
}

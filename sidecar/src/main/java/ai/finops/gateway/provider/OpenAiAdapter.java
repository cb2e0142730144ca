package ai.finops.gateway.provider;

import ai.finops.gateway.translate.ResponseTranscoder;
import ai.finops.gateway.translate.openai.AnthropicToOpenAi;
import ai.finops.gateway.translate.openai.OpenAiToAnthropic;
import ai.finops.gateway.translate.openai.OpenAiToAnthropicStream;
import ai.finops.gateway.translate.openai.ToolNames;
import ai.finops.gateway.upstream.UpstreamEndpoint;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Providers of the OpenAI Chat Completions API, for Anthropic clients: {@code openai}
 * ({@code {endpoint}/chat/completions}, Bearer key), {@code azure-openai}
 * ({@code /openai/deployments/{deployment}/chat/completions?api-version=...}, {@code api-key}) and
 * {@code openai-compatible} (Groq, Mistral, Ollama, vLLM, OpenRouter...: the endpoint given, Bearer
 * key if any, {@code max_tokens} rather than {@code max_completion_tokens}). The request is translated
 * by {@link AnthropicToOpenAi}, the stream by {@link OpenAiToAnthropicStream}, a whole response and
 * errors by {@link OpenAiToAnthropic}.
 */
public final class OpenAiAdapter implements ProviderAdapter {
    public static final String DEFAULT_AZURE_API_VERSION = "2024-10-21";

    public enum Flavor { OPENAI, AZURE_OPENAI, COMPATIBLE }

    private final UpstreamEndpoint endpoint;
    private final Flavor flavor;
    private final String apiKey;
    private final String apiVersion;
    private final AnthropicToOpenAi.Target target;

    public OpenAiAdapter(UpstreamEndpoint endpoint, Flavor flavor, String providerId, String apiKey, String apiVersion) {
        this.endpoint = endpoint;
        this.flavor = flavor;
        this.apiKey = apiKey;
        this.apiVersion = apiVersion != null ? apiVersion : DEFAULT_AZURE_API_VERSION;
        this.target = new AnthropicToOpenAi.Target(providerId, flavor != Flavor.COMPATIBLE, flavor != Flavor.COMPATIBLE);
    }

    @Override
    public String unsupported(String apiPath) {
        return apiPath.endsWith("/count_tokens") ? "count_tokens has no equivalent on provider " + target.provider() : null;
    }

    @Override
    public boolean anthropicFormat() {
        return false;
    }

    @Override
    public FullHttpRequest request(ProviderCall call) {
        ObjectNode anthropic = AnthropicBodies.parse(call.client().content());
        ObjectNode openai = AnthropicToOpenAi.translate(anthropic, call.model().providerId(), call.body().stream(), target, call.toolNames());
        String path;
        if (flavor == Flavor.AZURE_OPENAI) {
            openai.remove("model");   // the deployment is in the path
            path = endpoint.basePath() + "/openai/deployments/" + URLEncoder.encode(call.model().providerId(), StandardCharsets.UTF_8)
                    + "/chat/completions?api-version=" + URLEncoder.encode(apiVersion, StandardCharsets.UTF_8);
        } else {
            path = endpoint.basePath() + "/chat/completions";
        }
        byte[] bytes = AnthropicBodies.write(openai);
        ByteBuf content = call.alloc().buffer(bytes.length).writeBytes(bytes);
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path, content);
        HttpHeaders h = request.headers();
        h.set(HttpHeaderNames.HOST, endpoint.authority());
        h.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        h.set(HttpHeaderNames.ACCEPT, call.body().stream() ? "text/event-stream" : "application/json");
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        h.set(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.IDENTITY);
        if (apiKey != null) {
            if (flavor == Flavor.AZURE_OPENAI) {
                h.set("api-key", apiKey);
            } else {
                h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + apiKey);
            }
        }
        return request;
    }

    @Override
    public ResponseTranscoder transcoder(HttpHeaders responseHeaders, ByteBufAllocator alloc, ToolNames toolNames) {
        String type = responseHeaders.get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.regionMatches(true, 0, "text/event-stream", 0, 17) ? new OpenAiToAnthropicStream(alloc, toolNames) : null;
    }

    @Override
    public boolean rewritesResponseBody(String apiPath) {
        return true;
    }

    @Override
    public byte[] responseBody(byte[] body, ToolNames toolNames) throws IOException {
        return OpenAiToAnthropic.message(body, toolNames);
    }

    @Override
    public ProviderError error(int status, HttpHeaders responseHeaders, String body) {
        return new ProviderError(status == 503 ? 529 : status, OpenAiToAnthropic.error(status, body));
    }

    @Override
    public String toString() {
        return "OpenAiAdapter[" + endpoint + ", " + flavor + "]";   // never the key
    }
}

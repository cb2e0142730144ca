package ai.finops.gateway.provider;

import ai.finops.gateway.dialect.Headers;
import ai.finops.gateway.upstream.UpstreamEndpoint;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Providers that speak the Anthropic Messages API itself: Anthropic ({@code x-api-key}) and Claude
 * on Microsoft Foundry ({@code azure}: the {@code /anthropic} base path of the resource, the key in
 * {@code api-key}, the deployment name as model). The body goes out as the client sent it, with only
 * the model value spliced; every {@code anthropic-*} header and body field passes verbatim.
 */
public final class AnthropicAdapter implements ProviderAdapter {
    private final UpstreamEndpoint endpoint;
    private final String keyHeader;
    private final String apiKey;

    /**
     * @param keyHeader {@code x-api-key} (Anthropic) or {@code api-key} (Foundry)
     * @param apiKey the provider key, or null to send none
     */
    public AnthropicAdapter(UpstreamEndpoint endpoint, String keyHeader, String apiKey) {
        this.endpoint = endpoint;
        this.keyHeader = keyHeader;
        this.apiKey = apiKey;
    }

    @Override
    public FullHttpRequest request(ProviderCall call) {
        ByteBuf content;
        if (call.withoutThinkingHistory()) {
            // rare (a conversation that switched provider): rewrite the tree; else the bytes go as sent
            com.fasterxml.jackson.databind.node.ObjectNode tree = AnthropicBodies.parse(call.client().content());
            tree.put("model", call.model().providerId());
            AnthropicBodies.stripThinkingHistory(tree);
            byte[] bytes = AnthropicBodies.write(tree);
            content = call.alloc().buffer(bytes.length).writeBytes(bytes);
        } else {
            content = call.body().withModel(call.client().content(), call.model().providerId(), call.alloc());
        }
        String target = endpoint.target(call.apiPath()) + (call.betaQuery() ? "?beta=true" : "");
        FullHttpRequest out = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, target, content);
        HttpHeaders h = out.headers();
        Headers.copyRequestHeaders(call.client().headers(), h);
        h.set(HttpHeaderNames.HOST, endpoint.authority());
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        h.set(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.IDENTITY);
        if (apiKey != null) {
            h.set(keyHeader, apiKey);
        }
        return out;
    }

    @Override
    public String toString() {
        return "AnthropicAdapter[" + endpoint + ", " + keyHeader + "]";   // never the key
    }
}

package ai.finops.gateway.provider;

import ai.finops.gateway.translate.ResponseTranscoder;
import ai.finops.gateway.translate.openai.ToolNames;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.concurrent.CompletableFuture;

/**
 * How one kind of provider is spoken to: the upstream request for an Anthropic Messages request, and
 * how its responses become Anthropic responses. One instance per compiled ProviderDeployment
 * (endpoint and credentials bound); called on event loops, so nothing here blocks.
 */
public interface ProviderAdapter {

    /**
     * Completes when {@link #request} can be called without blocking: at once, except while a
     * credential (an OAuth access token) is being fetched off the event loop.
     */
    default CompletableFuture<Void> ready() {
        return READY;
    }

    /** An already completed {@link #ready()}. */
    CompletableFuture<Void> READY = CompletableFuture.completedFuture(null);

    /** The upstream request: target, headers (Host and Content-Length included) and body, owned by the caller. */
    FullHttpRequest request(ProviderCall call);

    /** Why this provider cannot serve {@code apiPath} (e.g. count_tokens where it has none), or null. */
    default String unsupported(String apiPath) {
        return null;
    }

    /** Whether error bodies are Anthropic error JSON already (else {@link #error} rewrites them). */
    default boolean anthropicFormat() {
        return true;
    }

    /** A converter for a successful streamed response that is not Anthropic SSE as is; null relays it untouched. */
    default ResponseTranscoder transcoder(HttpHeaders responseHeaders, ByteBufAllocator alloc, ToolNames toolNames) {
        return null;
    }

    /** Whether a successful response to {@code apiPath} that is not streamed must be rewritten whole ({@link #responseBody}). */
    default boolean rewritesResponseBody(String apiPath) {
        return false;
    }

    /** The Anthropic Messages response for the provider's successful response body. */
    default byte[] responseBody(byte[] body, ToolNames toolNames) throws java.io.IOException {
        return body;
    }

    /**
     * Anthropic error JSON for a provider's error response, keeping its wording; null relays the body
     * as is (Anthropic-format providers).
     */
    default ProviderError error(int status, HttpHeaders responseHeaders, String body) {
        return null;
    }

    /** An error in Anthropic's form: the status the client gets and the JSON body. */
    record ProviderError(int status, String json) {}
}

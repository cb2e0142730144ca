package ai.finops.gateway.provider;

import ai.finops.gateway.routing.ModelEntry;
import ai.finops.gateway.translate.RequestBody;
import ai.finops.gateway.translate.openai.ToolNames;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpRequest;

/**
 * What an adapter builds one upstream request from.
 *
 * @param client the client's request (its body is the Anthropic Messages request; not consumed)
 * @param body what the gateway learned of that body
 * @param apiPath the Anthropic API path ({@code /v1/messages}, {@code /v1/messages/count_tokens})
 * @param betaQuery whether the client sent {@code ?beta=true}
 * @param model the resolved model: {@link ModelEntry#providerId()} is what the provider is asked for
 * @param withoutBetas send no beta at all (and none of the fields that need one): the provider refused one
 * @param withoutThinkingHistory drop the thinking blocks of earlier turns: the provider refused signatures another one made
 * @param toolNames tool names the adapter had to change for the provider, to restore in its response
 */
public record ProviderCall(FullHttpRequest client, RequestBody body, String apiPath, boolean betaQuery, ModelEntry model,
        ByteBufAllocator alloc, boolean withoutBetas, boolean withoutThinkingHistory, ToolNames toolNames) {}

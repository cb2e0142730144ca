package ai.finops.gateway.server;

import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * What serves a row of the route table ({@link ApiHandler#ROUTES}). It gets the request once
 * {@link ApiHandler} has routed it and, on a route, authenticated its key; it answers it, at once
 * ({@link ApiCall#reply}) or through a provider ({@link ApiCall#proxy}), either of which releases it.
 * It runs on the connection's event loop and must not block. The constants below are the endpoints
 * there are; a new one is one more constant here and one more row in the table.
 */
@FunctionalInterface
interface Endpoint {
    void serve(ApiCall call);

    /** The Anthropic Messages API, streaming or not: to a provider. */
    Endpoint MESSAGES = call -> call.proxy("/v1/messages");

    /** Token counting: to a provider, routed like messages. */
    Endpoint COUNT_TOKENS = call -> call.proxy("/v1/messages/count_tokens");

    /** OpenAI Chat Completions: translated into a Messages request, then as {@link #MESSAGES}. */
    Endpoint CHAT_COMPLETIONS = new ChatCompletions();

    /** The models the key may name, in Anthropic's list form. */
    Endpoint ANTHROPIC_MODELS = ModelLists::anthropic;

    /** The models the key may name, in OpenAI's list form. */
    Endpoint OPENAI_MODELS = ModelLists::openAi;

    /** MCP streamable HTTP: the tools of the key's McpServers ({@link ai.finops.gateway.mcp.McpGateway}). */
    Endpoint MCP = ApiCall::mcp;

    /** 200 and no body, for clients that probe the base URL. */
    Endpoint LIVENESS = call -> {
        FullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        ok.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        call.reply(ok);
    };
}

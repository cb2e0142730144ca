package ai.finops.gateway.server;

import ai.finops.gateway.dialect.ErrorResponses;
import ai.finops.gateway.translate.RequestBody;
import ai.finops.gateway.translate.openai.OpenAiRequestToAnthropic;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBufInputStream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;

/**
 * {@code POST /openai/v1/chat/completions} ({@link Endpoint#CHAT_COMPLETIONS}): the Chat Completions
 * request is translated into the Messages request the pipeline serves ({@link
 * OpenAiRequestToAnthropic}), which then goes as {@link Endpoint#MESSAGES} does; {@link
 * OpenAiClientDialect} turns everything written back into OpenAI's dialect. A request that cannot be
 * expressed is answered 400.
 */
final class ChatCompletions implements Endpoint {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MESSAGES = "/v1/messages";

    @Override
    public void serve(ApiCall call) {
        ChannelHandlerContext ctx = call.ctx();
        FullHttpRequest request = call.request();
        byte[] anthropic;
        boolean includeUsage;
        try {
            JsonNode in = JSON.readTree(new ByteBufInputStream(request.content().duplicate()));
            includeUsage = in != null && in.path("stream_options").path("include_usage").asBoolean(false);
            anthropic = JSON.writeValueAsBytes(OpenAiRequestToAnthropic.translate(in));
        } catch (OpenAiRequestToAnthropic.Invalid e) {
            call.reply(ErrorResponses.response(ctx.alloc(), 400, e.getMessage(), call.requestId()));
            return;
        } catch (IOException e) {
            call.reply(ErrorResponses.response(ctx.alloc(), 400, RequestBody.notValidJson(e), call.requestId()));
            return;
        }
        call.openai().begin(includeUsage);
        FullHttpRequest translated = new DefaultFullHttpRequest(request.protocolVersion(), HttpMethod.POST, MESSAGES,
                ctx.alloc().buffer(anthropic.length).writeBytes(anthropic));
        translated.headers().set(request.headers());
        translated.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, anthropic.length);
        if (!translated.headers().contains("anthropic-version")) {
            translated.headers().set("anthropic-version", "2023-06-01");
        }
        call.replaceRequest(translated);
        Endpoint.MESSAGES.serve(call);
    }
}

package ai.finops.gateway.mcp;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;

/**
 * Where the answer to one {@code /mcp} request goes: either one whole response, or a head followed by
 * server-sent events and an end. Callable from any thread (the implementation moves each call to the
 * connection's event loop, in order); after {@link #full} or {@link #end} nothing more is sent, and an
 * event sent after the client left is released.
 */
public interface McpReply {
    /** The whole answer. */
    void full(FullHttpResponse response);

    /** The head of an event stream (no content length: chunked). */
    void head(HttpResponse head);

    /** One complete SSE event of the stream; the reply releases it. */
    void event(ByteBuf event);

    /** The stream's end. */
    void end();
}

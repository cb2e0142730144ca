package ai.finops.gateway.translate;

import ai.finops.gateway.dialect.BedrockErrors;
import ai.finops.gateway.translate.ResponseTranscoder;
import ai.finops.gateway.dialect.ErrorResponses;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Bedrock's InvokeModelWithResponseStream to Anthropic SSE. Each {@code chunk} event carries one
 * Anthropic stream event, base64 in {@code {"bytes": ...}}; it becomes {@code event: <type>} and
 * {@code data: <json>} (Bedrock's {@code amazon-bedrock-invocationMetrics} removed, its usage being
 * in the events already). An {@code exception} frame (throttling, model errors) becomes an Anthropic
 * {@code error} event with the provider's message, so a failure is never a clean end.
 */
public final class BedrockStreamTranscoder implements ResponseTranscoder {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String METRICS = "amazon-bedrock-invocationMetrics";

    private final EventStreamDecoder decoder;
    private ByteBuf out;
    private MalformedResponse failure;

    public BedrockStreamTranscoder(ByteBufAllocator alloc) {
        this.decoder = new EventStreamDecoder(alloc);
    }

    @Override
    public ByteBuf decode(ByteBuf in, ByteBufAllocator alloc) throws MalformedResponse {
        out = alloc.buffer(in.readableBytes() + 64);
        try {
            decoder.decode(in, this::frame);
            if (failure != null) {
                throw failure;
            }
            ByteBuf result = out;
            out = null;
            return result;
        } catch (MalformedResponse | RuntimeException e) {
            out.release();
            out = null;
            throw e;
        }
    }

    private void frame(EventStreamDecoder.Frame frame) {
        if (failure != null) {
            return;
        }
        String messageType = frame.header(":message-type");
        if ("event".equals(messageType)) {
            if (!"chunk".equals(frame.header(":event-type"))) {
                return;   // nothing else carries Anthropic events
            }
            try {
                JsonNode wrapper = JSON.readTree((java.io.InputStream) new ByteBufInputStream(frame.payload().duplicate()));
                byte[] event = Base64.getDecoder().decode(wrapper.path("bytes").asText(""));
                JsonNode tree = JSON.readTree(event);
                String type = tree.path("type").asText(null);
                if (type == null) {
                    failure = new MalformedResponse("Bedrock chunk without an event type");
                    return;
                }
                if (tree instanceof ObjectNode object && object.has(METRICS)) {
                    object.remove(METRICS);
                    event = JSON.writeValueAsBytes(object);
                }
                sse(type, event);
            } catch (IOException | IllegalArgumentException e) {
                failure = new MalformedResponse("Bedrock chunk is not a base64 Anthropic event: " + e.getMessage());
            }
        } else if ("exception".equals(messageType)) {
            String message = message(frame.payload());
            String exception = frame.header(":exception-type");
            sse("error", ErrorResponses.json(BedrockErrors.of(exception, 500).type(), message, null));
        } else if ("error".equals(messageType)) {
            String message = frame.header(":error-message");
            sse("error", ErrorResponses.json("api_error", frame.header(":error-code") + ": " + (message == null ? "" : message), null));
        }
    }

    private static String message(ByteBuf payload) {
        try {
            JsonNode node = JSON.readTree((java.io.InputStream) new ByteBufInputStream(payload.duplicate()));
            return node.path("message").asText(node.path("Message").asText(node.toString()));
        } catch (IOException e) {
            return payload.toString(StandardCharsets.UTF_8);
        }
    }

    private void sse(String type, byte[] json) {
        out.writeCharSequence("event: ", StandardCharsets.US_ASCII);
        out.writeCharSequence(type, StandardCharsets.UTF_8);
        out.writeCharSequence("\ndata: ", StandardCharsets.US_ASCII);
        out.writeBytes(json);
        out.writeCharSequence("\n\n", StandardCharsets.US_ASCII);
    }

    @Override
    public ByteBuf finish(ByteBufAllocator alloc) throws MalformedResponse {
        if (decoder.partial()) {
            throw new MalformedResponse("the Bedrock stream ended inside a frame");
        }
        return io.netty.buffer.Unpooled.EMPTY_BUFFER;
    }

    @Override
    public void release() {
        decoder.release();
    }
}

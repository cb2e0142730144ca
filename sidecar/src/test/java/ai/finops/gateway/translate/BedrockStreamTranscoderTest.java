package ai.finops.gateway.translate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.gateway.translate.ResponseTranscoder.MalformedResponse;
import ai.finops.testkit.EventStreamFrames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Bedrock's event stream to Anthropic SSE: frames split at every byte offset, CRCs checked, exceptions as error events. */
class BedrockStreamTranscoderTest {
    static final List<String> EVENTS = List.of(
            "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
                    + "\"model\":\"claude\",\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}",
            "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"Bash\",\"input\":{}}}",
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"command\\\": \\\"ls\"}}",
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\" -la\\\"}\"}}",
            "{\"type\":\"content_block_stop\",\"index\":0}",
            "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":9}}",
            "{\"type\":\"message_stop\",\"amazon-bedrock-invocationMetrics\":{\"inputTokenCount\":12,\"outputTokenCount\":9}}");

    static byte[] stream() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        EVENTS.forEach(e -> out.writeBytes(EventStreamFrames.chunk(e)));
        return out.toByteArray();
    }

    static String expectedSse() {
        StringBuilder sb = new StringBuilder();
        for (String e : EVENTS) {
            String type = e.substring(9, e.indexOf('"', 9));
            String json = e.contains("amazon-bedrock-invocationMetrics") ? "{\"type\":\"message_stop\"}" : e;
            sb.append("event: ").append(type).append("\ndata: ").append(json).append("\n\n");
        }
        return sb.toString();
    }

    static String run(byte[] bytes, int... splits) throws MalformedResponse {
        BedrockStreamTranscoder t = new BedrockStreamTranscoder(ByteBufAllocator.DEFAULT);
        StringBuilder sse = new StringBuilder();
        try {
            int from = 0;
            for (int i = 0; i <= splits.length; i++) {
                int to = i < splits.length ? splits[i] : bytes.length;
                ByteBuf in = Unpooled.wrappedBuffer(bytes, from, to - from);
                ByteBuf out = t.decode(in, ByteBufAllocator.DEFAULT);
                sse.append(out.toString(StandardCharsets.UTF_8));
                out.release();
                from = to;
            }
            t.finish(ByteBufAllocator.DEFAULT).release();
        } finally {
            t.release();
        }
        return sse.toString();
    }

    @Test
    void framesSplitAtEveryOffsetGiveTheSameEvents() throws MalformedResponse {
        byte[] bytes = stream();
        String expected = expectedSse();
        assertThat(run(bytes)).isEqualTo(expected);
        for (int split = 1; split < bytes.length; split++) {
            assertThat(run(bytes, split)).as("split at %d", split).isEqualTo(expected);
        }
        for (int a = 1; a < bytes.length; a += 37) {
            for (int b = a + 1; b < bytes.length; b += 53) {
                assertThat(run(bytes, a, b)).isEqualTo(expected);
            }
        }
    }

    @Test
    void aCorruptedByteAnywhereIsAnErrorNotGarbage() {
        byte[] frame = EventStreamFrames.chunk(EVENTS.get(2));
        for (int i = 0; i < frame.length; i++) {
            byte[] corrupted = frame.clone();
            corrupted[i] ^= 0x01;
            int at = i;
            assertThatThrownBy(() -> run(corrupted)).as("byte %d flipped", at).isInstanceOf(MalformedResponse.class);
        }
    }

    @Test
    void aStreamEndingInsideAFrameIsAnError() {
        byte[] bytes = stream();
        assertThatThrownBy(() -> run(java.util.Arrays.copyOf(bytes, bytes.length - 3))).isInstanceOf(MalformedResponse.class)
                .hasMessageContaining("inside a frame");
    }

    @Test
    void anExceptionFrameBecomesAnAnthropicErrorEventWithItsWording() throws MalformedResponse {
        byte[] bytes = EventStreamFrames.exception("throttlingException", "Too many tokens, please wait before trying again.");
        assertThat(run(bytes)).isEqualTo("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
                + "\"message\":\"Too many tokens, please wait before trying again.\"}}\n\n");
    }
}

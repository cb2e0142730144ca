package ai.finops.gateway.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What the light scan reads of a response besides its tokens: id, model, stop reason (for traces). */
class AnthropicStreamScannerTest {

    static ByteBuf utf8(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    @Test
    void aStreamNamesItsMessageInMessageStartAndItsStopReasonInMessageDelta() {
        Usage usage = new Usage();
        AnthropicStreamScanner scanner = new AnthropicStreamScanner(usage);
        scanner.onEvent(utf8("message_start"), utf8("{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
                + "\"role\":\"assistant\",\"model\":\"claude-sonnet-4-6\",\"content\":[],\"stop_reason\":null,"
                + "\"usage\":{\"input_tokens\":5,\"cache_read_input_tokens\":7,\"output_tokens\":1}}}"));
        assertThat(usage.stopReason).isNull();
        scanner.onEvent(utf8("content_block_start"), utf8("{\"type\":\"content_block_start\",\"index\":0,"
                + "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"Bash\",\"input\":{}}}"));
        scanner.onEvent(utf8("message_delta"), utf8("{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
                + "\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}"));

        assertThat(usage.responseId).as("the message's, not a content block's").isEqualTo("msg_1");
        assertThat(usage.responseModel).isEqualTo("claude-sonnet-4-6");
        assertThat(usage.stopReason).isEqualTo("tool_use");
        assertThat(usage.inputTokens).isEqualTo(5);
        assertThat(usage.cacheReadInputTokens).isEqualTo(7);
        assertThat(usage.outputTokens).isEqualTo(9);
    }

    @Test
    void aWholeResponseNamesAllThreeAtTopLevel() {
        Usage usage = new Usage();
        AnthropicStreamScanner.readResponseUsage(utf8("{\"id\":\"msg_2\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-haiku-4-6\","
                + "\"content\":[{\"type\":\"text\",\"text\":\"hi\"}],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":3,\"output_tokens\":4}}"),
                usage);
        assertThat(usage.responseId).isEqualTo("msg_2");
        assertThat(usage.responseModel).isEqualTo("claude-haiku-4-6");
        assertThat(usage.stopReason).isEqualTo("end_turn");
        assertThat(usage.outputTokens).isEqualTo(4);
    }

    @Test
    void everyEventOfAStreamIsCheckedAsJsonByOneParser() {
        AnthropicStreamScanner scanner = new AnthropicStreamScanner(new Usage());
        for (int i = 0; i < 1000; i++) {
            scanner.onEvent(utf8("content_block_delta"), utf8("{\"type\":\"content_block_delta\",\"index\":0,"
                    + "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"command\\\": \\\"ls " + i + "\"}}"));
        }
        scanner.onEvent(utf8("ping"), utf8(""));
        scanner.onEvent(utf8("message_stop"), utf8("{\"type\":\"message_stop\"}"));
        assertThat(scanner.malformed()).isNull();
        assertThat(scanner.complete()).isTrue();
        scanner.close();
    }

    @Test
    void anEventCutOffOrGarbledIsMalformedWhereverItIsAndNothingAfterItCounts() {
        for (String[] bad : new String[][] {
                {"content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\""},
                {"message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"content\":["},
                {"message_delta", "{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":"},
                {"content_block_delta", "{\"type\":\"content_block_delta\"}}"},
                {"content_block_delta", "<html>"},
        }) {
            AnthropicStreamScanner scanner = new AnthropicStreamScanner(new Usage());
            scanner.onEvent(utf8("content_block_start"), utf8("{\"type\":\"content_block_start\",\"index\":0}"));
            scanner.onEvent(utf8(bad[0]), utf8(bad[1]));
            scanner.onEvent(utf8("message_stop"), utf8("{\"type\":\"message_stop\"}"));
            assertThat(scanner.malformed()).as(bad[1]).isEqualTo("event '" + bad[0] + "' has malformed data");
            assertThat(scanner.complete()).as("a stream with a malformed event is never complete").isFalse();
        }
    }
}

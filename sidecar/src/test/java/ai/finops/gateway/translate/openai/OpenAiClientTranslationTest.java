package ai.finops.gateway.translate.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pair for OpenAI clients: their request as Anthropic's, Anthropic's stream and message as theirs. */
class OpenAiClientTranslationTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aChatRequestWithToolsAndResultsBecomesAMessagesRequest() throws Exception {
        JsonNode out = OpenAiRequestToAnthropic.translate(JSON.readTree("""
                {"model":"gpt-4o","max_completion_tokens":4000,"stop":"END","user":"u-1","reasoning_effort":"low","parallel_tool_calls":false,
                 "tools":[{"type":"function","function":{"name":"Read","parameters":{"type":"object"}}}],"tool_choice":"required",
                 "messages":[
                  {"role":"developer","content":"Be terse."},
                  {"role":"user","content":[{"type":"text","text":"read both"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBOR"}}]},
                  {"role":"assistant","content":null,"tool_calls":[
                    {"id":"call_1","type":"function","function":{"name":"Read","arguments":"{\\"path\\":\\"/a\\"}"}},
                    {"id":"call_2","type":"function","function":{"name":"Read","arguments":"{\\"path\\":\\"/b\\"}"}}]},
                  {"role":"tool","tool_call_id":"call_1","content":"A"},
                  {"role":"tool","tool_call_id":"call_2","content":"B"}]}
                """));
        assertThat(out.path("system").asText()).isEqualTo("Be terse.");
        assertThat(out.path("max_tokens").asInt()).isEqualTo(4000);
        assertThat(out.path("stop_sequences")).isEqualTo(JSON.readTree("[\"END\"]"));
        assertThat(out.path("metadata").path("user_id").asText()).isEqualTo("u-1");
        assertThat(out.path("thinking").path("budget_tokens").asInt()).isEqualTo(1024);
        assertThat(out.path("tool_choice")).isEqualTo(JSON.readTree("{\"type\":\"any\",\"disable_parallel_tool_use\":true}"));
        assertThat(out.path("tools").get(0).path("input_schema").path("type").asText()).isEqualTo("object");
        JsonNode messages = out.path("messages");
        assertThat(messages.get(0).path("content").get(1).path("source").path("media_type").asText()).isEqualTo("image/png");
        assertThat(messages.get(1).path("content").get(1).path("input")).isEqualTo(JSON.readTree("{\"path\":\"/b\"}"));
        // both tool results in one user turn, in order
        assertThat(messages.get(2).path("content").size()).isEqualTo(2);
        assertThat(messages.get(2).path("content").get(1).path("tool_use_id").asText()).isEqualTo("call_2");
        assertThat(messages.size()).isEqualTo(3);
    }

    @Test
    void whatHasNoEquivalentIsRefused() {
        assertThatThrownBy(() -> OpenAiRequestToAnthropic.translate(JSON.readTree("{\"model\":\"x\",\"n\":3,\"messages\":[]}")))
                .isInstanceOf(OpenAiRequestToAnthropic.Invalid.class).hasMessageContaining("n:");
        assertThatThrownBy(() -> OpenAiRequestToAnthropic.translate(JSON.readTree(
                "{\"model\":\"x\",\"response_format\":{\"type\":\"json_schema\"},\"messages\":[]}")))
                .isInstanceOf(OpenAiRequestToAnthropic.Invalid.class).hasMessageContaining("response_format");
    }

    static final String ANTHROPIC_STREAM = """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-6","usage":{"input_tokens":30,"cache_read_input_tokens":10,"output_tokens":1}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Reading é."}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: content_block_start
            data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"Read","input":{}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"path\\":"}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \\"/a\\"}"}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":1}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":12}}

            event: message_stop
            data: {"type":"message_stop"}

            """;

    static List<String> chunks(String stream, int split) {
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
        AnthropicToOpenAiResponses.Stream t = new AnthropicToOpenAiResponses.Stream(ByteBufAllocator.DEFAULT, true, 1);
        StringBuilder out = new StringBuilder();
        try {
            for (int[] range : split <= 0 ? new int[][] {{0, bytes.length}} : new int[][] {{0, split}, {split, bytes.length}}) {
                ByteBuf o = t.translate(Unpooled.wrappedBuffer(bytes, range[0], range[1] - range[0]), ByteBufAllocator.DEFAULT);
                out.append(o.toString(StandardCharsets.UTF_8));
                o.release();
            }
        } finally {
            t.release();
        }
        List<String> data = new ArrayList<>();
        for (String event : out.toString().split("\n\n")) {
            data.add(event.substring("data: ".length()));
        }
        return data;
    }

    @Test
    void aMessagesStreamBecomesChunksEndingInDone() throws Exception {
        List<String> chunks = chunks(ANTHROPIC_STREAM, 0);
        assertThat(chunks.get(chunks.size() - 1)).isEqualTo("[DONE]");
        StringBuilder text = new StringBuilder();
        StringBuilder args = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        for (String c : chunks.subList(0, chunks.size() - 1)) {
            JsonNode chunk = JSON.readTree(c);
            assertThat(chunk.path("id").asText()).isEqualTo("chatcmpl-msg_1");
            JsonNode choice = chunk.path("choices").path(0);
            text.append(choice.path("delta").path("content").asText(""));
            for (JsonNode call : choice.path("delta").path("tool_calls")) {
                assertThat(call.path("index").asInt()).isZero();
                args.append(call.path("function").path("arguments").asText(""));
            }
            if (choice.hasNonNull("finish_reason")) {
                finish = choice.get("finish_reason").asText();
            }
            if (chunk.has("usage")) {
                usage = chunk.get("usage");
                assertThat(chunk.path("choices").isEmpty()).isTrue();
            }
        }
        assertThat(text.toString()).isEqualTo("Reading é.");
        assertThat(JSON.readTree(args.toString())).isEqualTo(JSON.readTree("{\"path\":\"/a\"}"));
        assertThat(finish).isEqualTo("tool_calls");
        assertThat(usage.path("prompt_tokens").asInt()).isEqualTo(40);
        assertThat(usage.path("completion_tokens").asInt()).isEqualTo(12);
        assertThat(usage.path("prompt_tokens_details").path("cached_tokens").asInt()).isEqualTo(10);
    }

    @Test
    void splitAnywhereGivesTheSameChunks() {
        List<String> expected = chunks(ANTHROPIC_STREAM, 0);
        int length = ANTHROPIC_STREAM.getBytes(StandardCharsets.UTF_8).length;
        for (int split = 1; split < length; split++) {
            assertThat(chunks(ANTHROPIC_STREAM, split)).as("split at %d", split).isEqualTo(expected);
        }
    }

    @Test
    void aMessageAndAnErrorInOpenAisForm() throws Exception {
        JsonNode completion = JSON.readTree(AnthropicToOpenAiResponses.completion(("{\"id\":\"msg_2\",\"type\":\"message\",\"model\":\"m\","
                + "\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}],\"stop_reason\":\"max_tokens\",\"usage\":{\"input_tokens\":3,\"output_tokens\":4}}")
                .getBytes(StandardCharsets.UTF_8), 7));
        assertThat(completion.path("choices").get(0).path("message").path("content").asText()).isEqualTo("Hi");
        assertThat(completion.path("choices").get(0).path("finish_reason").asText()).isEqualTo("length");
        assertThat(completion.path("usage").path("total_tokens").asInt()).isEqualTo(7);
        JsonNode error = JSON.readTree(AnthropicToOpenAiResponses.error(
                "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}".getBytes(StandardCharsets.UTF_8)));
        assertThat(error.path("error").path("message").asText()).isEqualTo("slow down");
        assertThat(error.path("error").path("type").asText()).isEqualTo("rate_limit_exceeded");
    }
}

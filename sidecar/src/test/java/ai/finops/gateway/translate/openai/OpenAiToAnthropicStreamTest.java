package ai.finops.gateway.translate.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.gateway.translate.ResponseTranscoder.MalformedResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** OpenAI chunks to Anthropic events: tool-call argument shapes, block discipline, terminal events, every split offset. */
class OpenAiToAnthropicStreamTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static String chunk(String choicesJson) {
        return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-5\",\"choices\":" + choicesJson + "}\n\n";
    }

    static String call(int index, String id, String name, String args) {
        StringBuilder sb = new StringBuilder("{\"index\":").append(index);
        if (id != null) {
            sb.append(",\"id\":\"").append(id).append("\",\"type\":\"function\"");
        }
        sb.append(",\"function\":{");
        if (name != null) {
            sb.append("\"name\":\"").append(name).append("\",");
        }
        sb.append("\"arguments\":").append(args).append("}}");
        return "[{\"index\":0,\"delta\":{\"tool_calls\":[" + sb + "]}}]";
    }

    static String finish(String reason) {
        return chunk("[{\"index\":0,\"delta\":{},\"finish_reason\":\"" + reason + "\"}]");
    }

    static final String USAGE = "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":20,"
            + "\"prompt_tokens_details\":{\"cached_tokens\":40}}}\n\n";
    static final String DONE = "data: [DONE]\n\n";

    /** The events in order as (type, data) pairs, decoding {@code bytes} split at {@code splits}. */
    static List<Map.Entry<String, JsonNode>> run(String stream, int... splits) throws Exception {
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
        OpenAiToAnthropicStream t = new OpenAiToAnthropicStream(ByteBufAllocator.DEFAULT, new ToolNames());
        StringBuilder sse = new StringBuilder();
        try {
            int from = 0;
            for (int i = 0; i <= splits.length; i++) {
                int to = i < splits.length ? splits[i] : bytes.length;
                ByteBuf out = t.decode(Unpooled.wrappedBuffer(bytes, from, to - from), ByteBufAllocator.DEFAULT);
                sse.append(out.toString(StandardCharsets.UTF_8));
                out.release();
                from = to;
            }
            ByteBuf tail = t.finish(ByteBufAllocator.DEFAULT);
            sse.append(tail.toString(StandardCharsets.UTF_8));
            tail.release();
        } finally {
            t.release();
        }
        List<Map.Entry<String, JsonNode>> events = new ArrayList<>();
        for (String event : sse.toString().split("\n\n")) {
            String[] lines = event.split("\n");
            assertThat(lines[0]).startsWith("event: ");
            assertThat(lines[1]).startsWith("data: ");
            events.add(Map.entry(lines[0].substring(7), JSON.readTree(lines[1].substring(6))));
        }
        return events;
    }

    static List<String> types(List<Map.Entry<String, JsonNode>> events) {
        return events.stream().map(Map.Entry::getKey).toList();
    }

    /** The tool inputs, by block index, reassembled from input_json_delta as a client would. */
    static Map<Integer, JsonNode> inputs(List<Map.Entry<String, JsonNode>> events) throws Exception {
        Map<Integer, StringBuilder> partial = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : events) {
            if (e.getKey().equals("content_block_start") && e.getValue().path("content_block").path("type").asText().equals("tool_use")) {
                partial.put(e.getValue().path("index").asInt(), new StringBuilder());
            }
            if (e.getKey().equals("content_block_delta") && e.getValue().path("delta").path("type").asText().equals("input_json_delta")) {
                partial.get(e.getValue().path("index").asInt()).append(e.getValue().path("delta").path("partial_json").asText());
            }
        }
        Map<Integer, JsonNode> out = new LinkedHashMap<>();
        for (Map.Entry<Integer, StringBuilder> p : partial.entrySet()) {
            out.put(p.getKey(), JSON.readTree(p.getValue().toString()));
        }
        return out;
    }

    /** One open block at a time, indexes sequential, every block stopped, terminal events once at the end. */
    static void wellFormed(List<Map.Entry<String, JsonNode>> events) {
        assertThat(events.get(0).getKey()).isEqualTo("message_start");
        int open = -1;
        int next = 0;
        for (Map.Entry<String, JsonNode> e : events.subList(1, events.size() - 2)) {
            int index = e.getValue().path("index").asInt(-1);
            switch (e.getKey()) {
                case "content_block_start" -> {
                    assertThat(open).as("a block starts while another is open").isEqualTo(-1);
                    assertThat(index).isEqualTo(next);
                    open = index;
                }
                case "content_block_delta" -> assertThat(index).isEqualTo(open);
                case "content_block_stop" -> {
                    assertThat(index).isEqualTo(open);
                    open = -1;
                    next++;
                }
                default -> throw new AssertionError("unexpected " + e.getKey());
            }
        }
        assertThat(open).isEqualTo(-1);
        assertThat(types(events).subList(events.size() - 2, events.size())).containsExactly("message_delta", "message_stop");
    }

    @Test
    void textThenFragmentedToolCallWithUsageMergedOnce() throws Exception {
        String stream = chunk("[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]")
                + chunk("[{\"index\":0,\"delta\":{\"content\":\"Let me look.\"}}]")
                + chunk(call(0, "call_1", "Bash", "\"\""))
                + chunk(call(0, null, null, "\"{\\\"comm\""))
                + chunk(call(0, null, null, "\"and\\\": \\\"ls\\\"}\""))
                + finish("tool_calls") + USAGE + DONE;
        List<Map.Entry<String, JsonNode>> events = run(stream);
        wellFormed(events);
        assertThat(types(events)).containsExactly("message_start", "content_block_start", "content_block_delta", "content_block_stop",
                "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop");
        assertThat(events.get(4).getValue().path("content_block").path("id").asText()).isEqualTo("call_1");
        assertThat(inputs(events).get(1)).isEqualTo(JSON.readTree("{\"command\":\"ls\"}"));
        JsonNode delta = events.get(8).getValue();
        assertThat(delta.path("delta").path("stop_reason").asText()).isEqualTo("tool_use");
        assertThat(delta.path("usage").path("input_tokens").asInt()).isEqualTo(60);
        assertThat(delta.path("usage").path("cache_read_input_tokens").asInt()).isEqualTo(40);
        assertThat(delta.path("usage").path("output_tokens").asInt()).isEqualTo(20);
    }

    @Test
    void parallelCallsArgumentsWholeOrAsObjectsOrEmpty() throws Exception {
        String stream = chunk(call(0, "call_a", "Read", "\"{\\\"path\\\": \\\"/a\\\"}\""))          // whole
                + chunk(call(1, "call_b", "Glob", "{\"pattern\":\"*.java\"}"))                  // an object, not a string
                + chunk(call(2, "call_c", "Clock", "\"\""))                                     // no arguments at all
                + finish("tool_calls") + DONE;
        List<Map.Entry<String, JsonNode>> events = run(stream);
        wellFormed(events);
        Map<Integer, JsonNode> inputs = inputs(events);
        assertThat(inputs.get(0)).isEqualTo(JSON.readTree("{\"path\":\"/a\"}"));
        assertThat(inputs.get(1)).isEqualTo(JSON.readTree("{\"pattern\":\"*.java\"}"));
        assertThat(inputs.get(2)).isEqualTo(JSON.readTree("{}"));
    }

    @Test
    void interleavedFragmentsOfParallelCallsAreNotGarbled() throws Exception {
        String stream = chunk(call(0, "call_a", "Read", "\"{\\\"path\\\":\""))
                + chunk(call(1, "call_b", "Read", "\"{\\\"path\\\":\""))
                + chunk(call(1, null, null, "\" \\\"/b\\\"}\""))
                + chunk(call(0, null, null, "\" \\\"/a\\\"}\""))      // call 0 ended when call 1 began: late
                + finish("tool_calls") + DONE;
        assertThatThrownBy(() -> run(stream)).isInstanceOf(MalformedResponse.class).hasMessageContaining("had ended");

        String sequentialFirst = chunk(call(0, "call_a", "Read", "\"{\\\"path\\\":\""))
                + chunk(call(0, null, null, "\" \\\"/a\\\"}\""))
                + chunk(call(1, "call_b", "Read", "\"{\\\"path\\\":\""))
                + chunk(call(1, null, null, "\" \\\"/b\\\"}\""))
                + finish("tool_calls") + DONE;
        Map<Integer, JsonNode> inputs = inputs(run(sequentialFirst));
        assertThat(inputs.get(0)).isEqualTo(JSON.readTree("{\"path\":\"/a\"}"));
        assertThat(inputs.get(1)).isEqualTo(JSON.readTree("{\"path\":\"/b\"}"));
    }

    @Test
    void toolCallsKeyedByIdWhenAProviderLeavesOutTheIndex() throws Exception {
        String stream = chunk("[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"call_x\",\"type\":\"function\",\"function\":{\"name\":\"Bash\",\"arguments\":\"{\\\"command\\\"\"}}]}}]")
                + chunk("[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"call_x\",\"function\":{\"arguments\":\": \\\"pwd\\\"}\"}}]}}]")
                + finish("tool_calls") + DONE;
        assertThat(inputs(run(stream)).get(0)).isEqualTo(JSON.readTree("{\"command\":\"pwd\"}"));
    }

    @Test
    void contentInTheFinishChunkIsKeptAndPreambleChunksTolerated() throws Exception {
        String stream = "data: {\"id\":\"\",\"choices\":[],\"prompt_filter_results\":[{\"prompt_index\":0}]}\n\n"
                + chunk("[{\"index\":0,\"delta\":{\"content\":\"All \"}}]")
                + chunk("[{\"index\":0,\"delta\":{\"content\":\"done.\"},\"finish_reason\":\"stop\"}]") + DONE;
        List<Map.Entry<String, JsonNode>> events = run(stream);
        wellFormed(events);
        String text = events.stream().filter(e -> e.getKey().equals("content_block_delta"))
                .map(e -> e.getValue().path("delta").path("text").asText()).reduce("", String::concat);
        assertThat(text).isEqualTo("All done.");
        assertThat(events.get(events.size() - 2).getValue().path("delta").path("stop_reason").asText()).isEqualTo("end_turn");
    }

    @Test
    void finishReasonsMap() throws Exception {
        assertThat(run(chunk("[{\"index\":0,\"delta\":{\"content\":\"x\"}}]") + finish("length") + DONE)
                .get(4).getValue().path("delta").path("stop_reason").asText()).isEqualTo("max_tokens");
        assertThat(run(chunk("[{\"index\":0,\"delta\":{\"content\":\"x\"}}]") + finish("content_filter") + DONE)
                .get(4).getValue().path("delta").path("stop_reason").asText()).isEqualTo("refusal");
    }

    @Test
    void aStreamThatEndsBeforeItsFinishIsAnErrorAndAnErrorChunkAnErrorEvent() throws Exception {
        assertThatThrownBy(() -> run(chunk("[{\"index\":0,\"delta\":{\"content\":\"x\"}}]"))).isInstanceOf(MalformedResponse.class);
        List<Map.Entry<String, JsonNode>> events = run(chunk("[{\"index\":0,\"delta\":{\"content\":\"x\"}}]")
                + "data: {\"error\":{\"message\":\"The server had an error while processing your request.\",\"type\":\"server_error\"}}\n\n");
        assertThat(types(events)).endsWith("content_block_stop", "error");
        assertThat(events.get(events.size() - 1).getValue().path("error").path("message").asText()).contains("server had an error");
    }

    @Test
    void everySplitOffsetGivesTheSameEvents() throws Exception {
        String stream = chunk("[{\"index\":0,\"delta\":{\"content\":\"Hi é ✓ \"}}]")
                + chunk(call(0, "call_1", "Bash", "\"{\\\"command\\\": \""))
                + chunk(call(0, null, null, "\"\\\"ls\\\"}\""))
                + chunk(call(1, "call_2", "Read", "{\"path\":\"/x\"}"))
                + finish("tool_calls") + USAGE + DONE;
        String crlf = stream.replace("\n", "\r\n");
        List<Map.Entry<String, JsonNode>> expected = run(stream);
        int length = stream.getBytes(StandardCharsets.UTF_8).length;
        for (int split = 1; split < length; split++) {
            assertThat(run(stream, split)).as("split at %d", split).isEqualTo(expected);
        }
        int crlfLength = crlf.getBytes(StandardCharsets.UTF_8).length;
        for (int split = 1; split < crlfLength; split++) {
            assertThat(run(crlf, split)).as("CRLF split at %d", split).isEqualTo(expected);
        }
    }

    @Test
    void longToolNamesAreShortenedReversibly() throws Exception {
        ToolNames names = new ToolNames();
        String name = "mcp__github__create_or_update_file_in_repository_with_a_very_long_descriptive_name";
        String shortName = names.shorten(name);
        assertThat(shortName).hasSize(64).matches("[a-zA-Z0-9_-]+");
        assertThat(new ToolNames().shorten(name)).isEqualTo(shortName);   // the same on every turn
        assertThat(names.restore(shortName)).isEqualTo(name);
        assertThat(names.shorten("Bash")).isEqualTo("Bash");
    }
}

package ai.finops.gateway.translate.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class AnthropicToOpenAiTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final AnthropicToOpenAi.Target OPENAI = new AnthropicToOpenAi.Target("openai", true, true);
    static final AnthropicToOpenAi.Target COMPATIBLE = new AnthropicToOpenAi.Target("openai-compatible", false, false);

    static JsonNode translate(String anthropic, AnthropicToOpenAi.Target target, boolean stream) throws Exception {
        return AnthropicToOpenAi.translate((ObjectNode) JSON.readTree(anthropic), "gpt-5", stream, target, new ToolNames());
    }

    @Test
    void aToolRoundTrip() throws Exception {
        JsonNode out = translate("""
                {"model":"x","max_tokens":100,"system":[{"type":"text","text":"Be brief."},{"type":"text","text":"Use tools."}],
                 "stop_sequences":["END"],"temperature":0.2,"top_k":5,
                 "tools":[{"name":"Bash","description":"Run","input_schema":{"type":"object","properties":{"command":{"type":"string"}}}}],
                 "tool_choice":{"type":"any","disable_parallel_tool_use":true},
                 "messages":[
                   {"role":"user","content":[{"type":"text","text":"look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}}]},
                   {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"text","text":"Running."},
                     {"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}]},
                   {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"a b"}]},
                     {"type":"text","text":"and now?"}]}]}
                """, OPENAI, true);
        assertThat(out.path("messages").get(0)).isEqualTo(JSON.readTree("{\"role\":\"system\",\"content\":\"Be brief.\\n\\nUse tools.\"}"));
        assertThat(out.path("messages").get(1).path("content").get(1).path("image_url").path("url").asText()).isEqualTo("data:image/png;base64,iVBOR");
        JsonNode assistant = out.path("messages").get(2);
        assertThat(assistant.path("content").asText()).isEqualTo("Running.");
        assertThat(assistant.path("tool_calls").get(0).path("function").path("arguments").asText()).isEqualTo("{\"command\":\"ls\"}");
        // the tool result comes right after the call, before the user's text
        assertThat(out.path("messages").get(3)).isEqualTo(JSON.readTree("{\"role\":\"tool\",\"tool_call_id\":\"toolu_1\",\"content\":\"a b\"}"));
        assertThat(out.path("messages").get(4)).isEqualTo(JSON.readTree("{\"role\":\"user\",\"content\":\"and now?\"}"));
        assertThat(out.path("tool_choice").asText()).isEqualTo("required");
        assertThat(out.path("parallel_tool_calls").asBoolean(true)).isFalse();
        assertThat(out.path("tools").get(0).path("function").path("parameters").path("properties").has("command")).isTrue();
        assertThat(out.path("stop")).isEqualTo(JSON.readTree("[\"END\"]"));
        assertThat(out.path("max_completion_tokens").asInt()).isEqualTo(100);
        assertThat(out.has("top_k")).isFalse();
        assertThat(out.path("stream_options").path("include_usage").asBoolean()).isTrue();
    }

    @Test
    void thinkingBecomesReasoningEffortWhereTheProviderHasIt() throws Exception {
        assertThat(translate("{\"max_tokens\":10,\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":20000},\"messages\":[]}", OPENAI, false)
                .path("reasoning_effort").asText()).isEqualTo("high");
        assertThat(translate("{\"max_tokens\":10,\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2000},\"messages\":[]}", OPENAI, false)
                .path("reasoning_effort").asText()).isEqualTo("low");
        assertThat(translate("{\"max_tokens\":10,\"output_config\":{\"effort\":\"medium\"},\"messages\":[]}", OPENAI, false)
                .path("reasoning_effort").asText()).isEqualTo("medium");
        JsonNode compatible = translate("{\"max_tokens\":10,\"thinking\":{\"type\":\"adaptive\"},\"messages\":[]}", COMPATIBLE, false);
        assertThat(compatible.has("reasoning_effort")).isFalse();
        assertThat(compatible.path("max_tokens").asInt()).isEqualTo(10);
    }

    @Test
    void toolChoiceOfANamedToolAndNone() throws Exception {
        String tools = "\"tools\":[{\"name\":\"Read\",\"input_schema\":{\"type\":\"object\"}}],";
        assertThat(translate("{" + tools + "\"tool_choice\":{\"type\":\"tool\",\"name\":\"Read\"},\"messages\":[]}", OPENAI, false).path("tool_choice"))
                .isEqualTo(JSON.readTree("{\"type\":\"function\",\"function\":{\"name\":\"Read\"}}"));
        assertThat(translate("{" + tools + "\"tool_choice\":{\"type\":\"none\"},\"messages\":[]}", OPENAI, false).path("tool_choice").asText())
                .isEqualTo("none");
    }

    @Test
    void featuresWithoutAnEquivalentAreRefusedByName() {
        assertThatThrownBy(() -> translate("{\"tools\":[{\"type\":\"web_search_20250305\",\"name\":\"web_search\"}],\"messages\":[]}", OPENAI, false))
                .isInstanceOf(UnsupportedFeature.class).hasMessageContaining("web_search_20250305").hasMessageContaining("openai");
        assertThatThrownBy(() -> translate("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"document\",\"source\":{}}]}]}", OPENAI, false))
                .isInstanceOf(UnsupportedFeature.class).hasMessageContaining("document");
        assertThatThrownBy(() -> translate("{\"mcp_servers\":[],\"messages\":[]}", OPENAI, false))
                .isInstanceOf(UnsupportedFeature.class).hasMessageContaining("mcp_servers");
    }
}

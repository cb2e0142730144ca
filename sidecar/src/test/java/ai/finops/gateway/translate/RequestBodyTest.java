package ai.finops.gateway.translate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RequestBodyTest {

    private static ByteBuf buf(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    @Test
    void findsModelAndStreamAndSplicesOnlyTheModelValue() throws Exception {
        String json = "{\"max_tokens\":10,\"model\":\"sonnet-model\",\"messages\":[{\"role\":\"user\",\"content\":\"model\"}],\"stream\":true,\"x\":{\"model\":1}}";
        ByteBuf in = buf(json);
        RequestBody body = RequestBody.scan(in);
        assertThat(body.model()).isEqualTo("sonnet-model");
        assertThat(body.stream()).isTrue();
        ByteBuf out = body.withModel(in, "claude-sonnet-4-6", ByteBufAllocator.DEFAULT);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(json.replace("\"sonnet-model\"", "\"claude-sonnet-4-6\""));
        out.release();
        assertThat(in.refCnt()).isEqualTo(1);
        in.release();
    }

    @Test
    void escapedModelValuesAreReplacedWhole() throws Exception {
        String json = "{\"model\" : \"a\\u0062c\\\"d\", \"stream\":false}";
        ByteBuf in = buf(json);
        RequestBody body = RequestBody.scan(in);
        assertThat(body.model()).isEqualTo("abc\"d");
        ByteBuf out = body.withModel(in, "new\"model", ByteBufAllocator.DEFAULT);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("{\"model\" : \"new\\\"model\", \"stream\":false}");
        out.release();
        in.release();
    }

    @Test
    void sameModelForwardsTheSameBytes() throws Exception {
        ByteBuf in = buf("{\"model\":\"m\"}");
        ByteBuf out = RequestBody.scan(in).withModel(in, "m", ByteBufAllocator.DEFAULT);
        assertThat(ByteBufUtil.equals(in, out)).isTrue();
        out.release();
        in.release();
    }

    @Test
    void claudeCodeBodiesKeepEveryByteButTheModel() throws Exception {
        for (String name : new String[] {"turn1-request.json", "turn2-request.json"}) {
            byte[] sent = ai.finops.testkit.ClaudeCodeFixtures.load(name).body();
            ByteBuf in = Unpooled.wrappedBuffer(sent);
            RequestBody body = RequestBody.scan(in);
            assertThat(body.model()).isEqualTo("sonnet-model");
            assertThat(body.stream()).isTrue();
            ByteBuf out = body.withModel(in, "claude-sonnet-4-6", ByteBufAllocator.DEFAULT);
            String expected = new String(sent, StandardCharsets.UTF_8).replaceFirst("\"model\":\"sonnet-model\"", "\"model\":\"claude-sonnet-4-6\"");
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(expected);
            out.release();
            in.release();
        }
    }

    @Test
    void rejectsMalformedBodies() {
        for (String bad : new String[] {"", "[]", "{\"model\":\"m\"", "{\"model\":\"m\"} x", "{\"model\":5}", "{\"stream\":true}",
                "{\"model\":\"m\",\"stream\":\"yes\"}", "{model:\"m\"}"}) {
            ByteBuf in = buf(bad);
            assertThatThrownBy(() -> RequestBody.scan(in)).as(bad).isInstanceOf(RequestBody.InvalidBody.class);
            in.release();
        }
    }
    @Test
    void malformedJsonSaysWhatAndWhereWithoutParserInternals() {
        assertInvalid("{\"model\":\"claude-sonnet-4-6\",", "request body is not valid JSON: unexpected end of input at line 1, column 30");
        assertInvalid("{\"model\":\"m\",\n  \"max_tokens\": 8,\n}",
                "request body is not valid JSON: unexpected character '}' at line 3, column 1 (was expecting double-quote to start field name)");
        assertInvalid("{\"model\": abc}", "request body is not valid JSON: unrecognized token 'abc' at line 1, column 15");
        assertInvalid("{\"model\":\"m\"]", "request body is not valid JSON: unexpected close marker ']' at line 1, column 13 (expected '}')");
        assertInvalid("{\"model\":\"m", "request body is not valid JSON: unexpected end of input at line 1, column 12");
        for (String bad : new String[] {"{\"messages\":[1,2", "{\"a\":\"\u0001\"}", "{\"model\":\"m\"]"}) {
            ByteBuf in = buf(bad);
            assertThatThrownBy(() -> RequestBody.scan(in)).as(bad).hasMessageStartingWith("request body is not valid JSON: ")
                    .hasMessageContaining(" at line 1, column ")
                    .hasMessageNotContainingAny("Source", "REDACTED", "StreamReadFeature", "com.fasterxml", "VALUE_", "\n");
            in.release();
        }
    }

    @Test
    void aModelOrStreamGivenTwiceIsRefusedSinceAProviderMightReadTheOtherOne() {
        assertInvalid("{\"model\":\"anthropic/claude-opus-4-6\",\"max_tokens\":8,\"model\":\"claude-haiku-4-5\"}",
                "model: given more than once");
        assertInvalid("{\"stream\":false,\"model\":\"m\",\"stream\":true}", "stream: given more than once");
    }

    private static void assertInvalid(String body, String message) {
        ByteBuf in = buf(body);
        try {
            assertThatThrownBy(() -> RequestBody.scan(in)).as(body).isInstanceOf(RequestBody.InvalidBody.class).hasMessage(message);
        } finally {
            in.release();
        }
    }

    @Test
    void maxTokensIsTheTopLevelWholeNumberAndTheSizeIsTheBody() throws Exception {
        String json = "{\"model\":\"m\",\"metadata\":{\"max_tokens\":5},\"max_tokens\":1024,\"tools\":[{\"max_tokens\":7}]}";
        RequestBody body = RequestBody.scan(Unpooled.copiedBuffer(json, StandardCharsets.UTF_8));
        assertThat(body.maxTokens()).isEqualTo(1_024);
        assertThat(body.size()).isEqualTo(json.length());
        assertThat(RequestBody.scan(Unpooled.copiedBuffer("{\"model\":\"m\"}", StandardCharsets.UTF_8)).maxTokens()).isEqualTo(-1);
        assertThat(RequestBody.scan(Unpooled.copiedBuffer("{\"model\":\"m\",\"max_tokens\":\"64\"}", StandardCharsets.UTF_8)).maxTokens()).isEqualTo(-1);
        assertThat(RequestBody.scan(Unpooled.copiedBuffer("{\"model\":\"m\",\"max_tokens\":6.5}", StandardCharsets.UTF_8)).maxTokens()).isEqualTo(-1);
        assertThat(RequestBody.scan(Unpooled.copiedBuffer("{\"max_tokens\":99999999999999999999999,\"model\":\"m\"}", StandardCharsets.UTF_8))
                .maxTokens()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void maxTokensGivenTwiceIsRefused() {
        // a budget would reserve for one value while a provider might read the other
        assertThatThrownBy(() -> RequestBody.scan(Unpooled.copiedBuffer("{\"model\":\"m\",\"max_tokens\":1,\"max_tokens\":64000}",
                StandardCharsets.UTF_8))).isInstanceOf(RequestBody.InvalidBody.class).hasMessage("max_tokens: given more than once");
    }
}

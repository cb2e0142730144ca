package ai.finops.gateway.translate;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.testkit.ClaudeCodeFixtures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fast scan decides only what Jackson would decide the same way: wherever it answers, the body is
 * JSON to Jackson and every field it read is Jackson's; otherwise it leaves the body to Jackson.
 */
class QuickScanTest {

    static ByteBuf direct(byte[] bytes) {
        return ByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
    }

    /** The quick answer, checked against Jackson's: null when it left the body to Jackson. */
    static RequestBody checked(byte[] bytes) {
        ByteBuf body = direct(bytes);
        try {
            RequestBody quick = QuickScan.scan(body);
            RequestBody jackson;
            try {
                jackson = RequestBody.parse(body);
            } catch (RequestBody.InvalidBody e) {
                assertThat(quick).as("accepted what Jackson refuses (%s): %s", e.getMessage(), new String(bytes, StandardCharsets.UTF_8))
                        .isNull();
                return null;
            }
            if (quick != null) {
                assertThat(quick.model()).isEqualTo(jackson.model());
                assertThat(quick.stream()).isEqualTo(jackson.stream());
                assertThat(quick.maxTokens()).isEqualTo(jackson.maxTokens());
                assertThat(quick.size()).isEqualTo(jackson.size());
                assertThat(spliced(quick, body)).as("the model's place in the body").isEqualTo(spliced(jackson, body));
            }
            return quick;
        } finally {
            body.release();
        }
    }

    static String spliced(RequestBody scanned, ByteBuf body) {
        ByteBuf out = scanned.withModel(body, "routed-\u00e9-model", ByteBufAllocator.DEFAULT);
        try {
            return out.toString(StandardCharsets.UTF_8);
        } finally {
            out.release();
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void claudeCodeBodiesAreDecidedByTheFastScanAlone() {
        for (String fixture : new String[] {"turn1-request.json", "turn2-request.json"}) {
            byte[] body = ClaudeCodeFixtures.load(fixture).body();
            RequestBody quick = checked(body);
            assertThat(quick).as(fixture).isNotNull();
            assertThat(quick.model()).isNotBlank();
        }
        // a heap body is scanned in place
        RequestBody heap = QuickScan.scan(Unpooled.wrappedBuffer(utf8("  {\"max_tokens\": 64, \"model\":\"m\", \"stream\": true}\n")));
        assertThat(heap).isNotNull();
        assertThat(heap.maxTokens()).isEqualTo(64);
        assertThat(heap.stream()).isTrue();
    }

    @Test
    void whatItCannotDecidePlainlyIsLeftToJackson() {
        String[] undecided = {
                "{\"model\":\"a\",\"model\":\"b\"}",                        // given twice: Jackson's error
                "{\"mod\\u0065l\":\"m\"}",                                   // an escape in a top-level name
                "{\"model\":\"m\\\"x\"}",                                   // an escape in the model
                "{\"model\":\"m\",\"stream\":\"yes\"}",
                "{\"model\":5}",
                "{\"model\":\"m\",\"max_tokens\":99999999999999999999}",    // past a long
                "{\"model\":\"m\",\"x\":" + "[".repeat(100) + "]".repeat(100) + "}",   // deeper than it goes
                "{}",
                "{\"model\":\"m\"} x",
                "{\"model\":\"m\",}",
                "{\"model\":\"m\",\"x\":01}",
                "{\"model\":\"m\",\"x\":\"\u0001\"}",
                "{\"model\":\"m\",\"x\":truex}",
                "{\"model\":\"m\",\"x\":[1,]}",
                "{\"model\":\"m\",\"x\":\"\\q\"}",
                "[1]",
                "",
        };
        for (String s : undecided) {
            assertThat(checked(utf8(s))).as(s).isNull();
        }
        byte[] badUtf8 = {'{', '"', 'm', 'o', 'd', 'e', 'l', '"', ':', '"', 'm', '"', ',', '"', 'x', '"', ':', '"', (byte) 0xc3, '"', '}'};
        assertThat(checked(badUtf8)).isNull();
    }

    @Test
    void everythingJsonAllowsInsideValuesIsDecidedAsJacksonDecidesIt() {
        String[] decided = {
                "{\"model\":\"m\"}",
                "{ \"x\" : { \"a\" : [ 1 , -0.5e+10 , 2E3 , true , false , null , \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\" ] } , \"model\" : \"m\" }",
                "{\"model\":\"cl\u00e9-\ud83d\ude00-model\",\"text\":\"\u65e5\u672c\u8a9e and ascii runs longer than eight bytes\"}",
                "{\"model\":\"m\",\"max_tokens\":-3}",
                "{\"model\":\"m\",\"max_tokens\":6.5}",
                "{\"model\":\"m\",\"max_tokens\":\"64\"}",
                "{\"model\":\"m\",\"max_tokens\":[64]}",
                "{\"model\":\"m\",\"x\":{},\"y\":[],\"z\":\"\"}",
                "\t\r\n{\"model\":\"m\",\"stream\":false}\n",
        };
        for (String s : decided) {
            assertThat(checked(utf8(s))).as(s).isNotNull();
        }
    }

    @Test
    void aBodyMutatedAtRandomIsNeverAcceptedUnlessJacksonAcceptsItAlike() {
        Random random = new Random(20261207);
        byte[][] seeds = {
                utf8("{\"model\":\"sonnet-model\",\"max_tokens\":32000,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":"
                        + "[{\"type\":\"text\",\"text\":\"caf\u00e9 \\\"quoted\\\" \\u00e9 line\\nbreak, a long run of plain ascii text here\"}]}],"
                        + "\"tools\":[{\"name\":\"Bash\",\"input_schema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"number\","
                        + "\"minimum\":-1.5e3}},\"required\":[\"n\"]}}],\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":1024},"
                        + "\"metadata\":null,\"temperature\":0}"),
        };
        byte[] alphabet = utf8("{}[]\":,\\ \n-+.0123456789eEtrufalsn\u00e9x");
        int decided = 0;
        for (int round = 0; round < 20_000; round++) {
            byte[] body = seeds[round % seeds.length].clone();
            int edits = 1 + random.nextInt(3);
            for (int e = 0; e < edits; e++) {
                int at = random.nextInt(body.length);
                switch (random.nextInt(3)) {
                    case 0 -> body[at] = alphabet[random.nextInt(alphabet.length)];
                    case 1 -> body = splice(body, at, new byte[] {alphabet[random.nextInt(alphabet.length)]}, 0);
                    default -> body = splice(body, at, new byte[0], 1);
                }
            }
            if (checked(body) != null) {
                decided++;
            }
        }
        assertThat(decided).as("mutations in long strings stay valid and are decided quickly").isGreaterThan(1000);
    }

    static byte[] splice(byte[] body, int at, byte[] insert, int remove) {
        remove = Math.min(remove, body.length - at);
        byte[] out = new byte[body.length - remove + insert.length];
        System.arraycopy(body, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(body, at + remove, out, at + insert.length, body.length - at - remove);
        return out;
    }
}

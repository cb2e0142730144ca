package ai.finops.gateway.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SseScannerTest {

    /** Feeds {@code stream} in pieces cut at {@code cuts}, the way a relay does, and records events and forwarded bytes. */
    static final class Relay {
        final SseScanner scanner = new SseScanner();
        final List<String> events = new ArrayList<>();
        final StringBuilder forwarded = new StringBuilder();
        final ByteBuf pending = Unpooled.buffer();

        void feed(byte[] piece) {
            pending.writeBytes(piece);
            int complete = scanner.scan(pending, (name, data) ->
                    events.add((name == null ? "message" : name.toString(StandardCharsets.UTF_8)) + "|" + data.toString(StandardCharsets.UTF_8)));
            forwarded.append(pending.readCharSequence(complete, StandardCharsets.UTF_8));
            pending.discardReadBytes();
        }

        void release() {
            pending.release();
        }
    }

    private static final String STREAM = """
            event: message_start
            data: {"type":"message_start","message":{"usage":{"input_tokens":12,"output_tokens":1}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\\"com"}}

            : a comment line
            event: ping
            data: {"type": "ping"}

            event: message_stop
            data: {"type":"message_stop"}

            """;

    private static List<String> expected() {
        return List.of(
                "message_start|{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}",
                "content_block_delta|{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"com\"}}",
                "ping|{\"type\": \"ping\"}",
                "message_stop|{\"type\":\"message_stop\"}");
    }

    @Test
    void everySplitPointYieldsTheSameEventsAndForwardsOnlyWholeEvents() {
        for (String eol : List.of("\n", "\r\n", "\r")) {
            byte[] bytes = STREAM.replace("\n", eol).getBytes(StandardCharsets.UTF_8);
            for (int cut = 0; cut <= bytes.length; cut++) {
                for (int cut2 = cut; cut2 <= bytes.length; cut2 += Math.max(1, bytes.length / 17)) {
                    Relay relay = new Relay();
                    relay.feed(java.util.Arrays.copyOfRange(bytes, 0, cut));
                    assertWholeEvents(relay.forwarded.toString(), eol);
                    relay.feed(java.util.Arrays.copyOfRange(bytes, cut, cut2));
                    assertWholeEvents(relay.forwarded.toString(), eol);
                    relay.feed(java.util.Arrays.copyOfRange(bytes, cut2, bytes.length));
                    assertThat(relay.events).as("eol %s cut %d/%d", printable(eol), cut, cut2).isEqualTo(expected());
                    assertThat(relay.forwarded.toString()).isEqualTo(new String(bytes, StandardCharsets.UTF_8));
                    relay.release();
                }
            }
        }
    }

    @Test
    void aLongLineArrivingInManyReadsIsScannedOnceNotFromItsStartEachTime() {
        Relay relay = new Relay();
        try {
            byte[] piece = "x".repeat(4096).getBytes(StandardCharsets.US_ASCII);
            relay.feed("event: content_block_delta\ndata: ".getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 256; i++) {
                relay.feed(piece);
                // everything held has been looked at: the next read is scanned from its own first byte
                assertThat(relay.scanner.scanned()).isEqualTo(relay.pending.readableBytes());
            }
            relay.feed("\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(relay.events).singleElement().satisfies(e -> assertThat(e).hasSize("content_block_delta|".length() + 256 * 4096));
            assertThat(relay.pending.readableBytes()).isZero();
        } finally {
            relay.release();
        }
    }

    @Test
    void byteByByte() {
        byte[] bytes = STREAM.getBytes(StandardCharsets.UTF_8);
        Relay relay = new Relay();
        for (byte b : bytes) {
            relay.feed(new byte[] {b});
        }
        assertThat(relay.events).isEqualTo(expected());
        assertThat(relay.forwarded.toString()).isEqualTo(STREAM);
        relay.release();
    }

    @Test
    void multiLineDataIsJoinedWithLineFeeds() {
        Relay relay = new Relay();
        relay.feed("event: x\ndata: first\ndata:second\ndata\n\n".getBytes(StandardCharsets.UTF_8));
        assertThat(relay.events).containsExactly("x|first\nsecond\n");
        relay.release();
    }

    @Test
    void anEventWithoutTheFinalBlankLineIsNotForwarded() {
        Relay relay = new Relay();
        relay.feed("event: a\ndata: 1\n\nevent: b\ndata: 2\n".getBytes(StandardCharsets.UTF_8));
        assertThat(relay.events).containsExactly("a|1");
        assertThat(relay.forwarded.toString()).isEqualTo("event: a\ndata: 1\n\n");
        assertThat(relay.pending.readableBytes()).isEqualTo("event: b\ndata: 2\n".length());
        relay.release();
    }

    @Test
    void seededRandomSplitsOfALargeStream() {
        StringBuilder sb = new StringBuilder();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            String data = "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"word " + i + " \\u00e9\"}}";
            sb.append("event: content_block_delta\ndata: ").append(data).append("\n\n");
            expected.add("content_block_delta|" + data);
        }
        byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
        Random random = new Random(42);
        for (int round = 0; round < 20; round++) {
            Relay relay = new Relay();
            int at = 0;
            while (at < bytes.length) {
                int n = Math.min(bytes.length - at, 1 + random.nextInt(700));
                relay.feed(java.util.Arrays.copyOfRange(bytes, at, at + n));
                at += n;
            }
            assertThat(relay.events).isEqualTo(expected);
            assertThat(relay.forwarded.length()).isEqualTo(sb.length());
            relay.release();
        }
    }

    /** An event as large as a Claude Code request (one 88 KB data line), split at seeded random offsets. */
    @Test
    void fixtureSizedEventsSplitAtRandomOffsets() {
        byte[] fixture = ai.finops.testkit.ClaudeCodeFixtures.load("turn2-request.json").body();
        String data = new String(fixture, StandardCharsets.UTF_8);
        String stream = "event: big\ndata: " + data + "\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
        Random random = new Random(7);
        for (int round = 0; round < 30; round++) {
            Relay relay = new Relay();
            int at = 0;
            while (at < bytes.length) {
                int n = Math.min(bytes.length - at, 1 + random.nextInt(9000));
                relay.feed(java.util.Arrays.copyOfRange(bytes, at, at + n));
                at += n;
            }
            assertThat(relay.events).containsExactly("big|" + data, "message_stop|{\"type\":\"message_stop\"}");
            assertThat(relay.forwarded.toString()).isEqualTo(stream);
            relay.release();
        }
    }

    private static void assertWholeEvents(String forwarded, String eol) {
        if (!forwarded.isEmpty()) {
            // a CRLF blank line split after its CR: the event is complete, its LF follows with the next
            assertThat(forwarded.endsWith(eol + eol) || eol.equals("\r\n") && forwarded.endsWith("\r\n\r"))
                    .as("forwarded ends with a blank line: %s", printable(forwarded.substring(Math.max(0, forwarded.length() - 8))))
                    .isTrue();
        }
    }

    private static String printable(String eol) {
        return eol.replace("\r", "CR").replace("\n", "LF");
    }
}

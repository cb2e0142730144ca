package ai.finops.testkit;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.CRC32;

/** Encodes AWS event-stream frames the way Bedrock sends them (string headers only). */
public final class EventStreamFrames {
    private EventStreamFrames() {}

    public static byte[] frame(Map<String, String> headers, byte[] payload) {
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        headers.forEach((name, value) -> {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            byte[] v = value.getBytes(StandardCharsets.UTF_8);
            h.write(n.length);
            h.writeBytes(n);
            h.write(7);   // string
            h.write(v.length >> 8);
            h.write(v.length & 0xff);
            h.writeBytes(v);
        });
        byte[] headerBytes = h.toByteArray();
        int total = 12 + headerBytes.length + payload.length + 4;
        ByteBuffer buf = ByteBuffer.allocate(total);
        buf.putInt(total).putInt(headerBytes.length);
        buf.putInt((int) crc(buf.array(), 0, 8));
        buf.put(headerBytes).put(payload);
        buf.putInt((int) crc(buf.array(), 0, total - 4));
        return buf.array();
    }

    /** A {@code chunk} event carrying one Anthropic stream event (JSON), base64 in {@code {"bytes": ...}}. */
    public static byte[] chunk(String eventJson) {
        String payload = "{\"bytes\":\"" + java.util.Base64.getEncoder().encodeToString(eventJson.getBytes(StandardCharsets.UTF_8)) + "\"}";
        return frame(new java.util.LinkedHashMap<>(Map.of(":event-type", "chunk", ":content-type", "application/json", ":message-type", "event")),
                payload.getBytes(StandardCharsets.UTF_8));
    }

    /** An {@code exception} frame such as {@code throttlingException}. */
    public static byte[] exception(String exceptionType, String message) {
        return frame(new java.util.LinkedHashMap<>(Map.of(":exception-type", exceptionType, ":content-type", "application/json",
                ":message-type", "exception")), ("{\"message\":\"" + message + "\"}").getBytes(StandardCharsets.UTF_8));
    }

    private static long crc(byte[] data, int offset, int length) {
        CRC32 crc = new CRC32();
        crc.update(data, offset, length);
        return crc.getValue();
    }
}

package ai.finops.gateway.translate;

import ai.finops.gateway.translate.ResponseTranscoder.MalformedResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.CRC32;

/**
 * The AWS event stream ({@code application/vnd.amazon.eventstream}) that Bedrock streams in, decoded
 * frame by frame from chunks that split frames anywhere:
 *
 * <pre>
 * total length (4) | headers length (4) | prelude CRC32 (4) | headers | payload | message CRC32 (4)
 * header: name length (1) | name | value type (1) | value (strings and byte arrays: length (2) | bytes)
 * </pre>
 *
 * Both CRCs are checked: a corrupted frame is an error, never garbage passed on.
 */
public final class EventStreamDecoder {
    static final int PRELUDE = 12;
    static final int MAX_FRAME = 16 << 20;

    /** One frame: its headers (string values; other types as their text) and payload (valid during the callback only). */
    public record Frame(Map<String, String> headers, ByteBuf payload) {
        public String header(String name) {
            return headers.get(name);
        }
    }

    private final ByteBuf cumulation;

    public EventStreamDecoder(ByteBufAllocator alloc) {
        this.cumulation = alloc.buffer(4096);
    }

    /** Consumes {@code in} and calls {@code frames} for each complete frame. */
    public void decode(ByteBuf in, Consumer<Frame> frames) throws MalformedResponse {
        cumulation.writeBytes(in);
        while (cumulation.readableBytes() >= PRELUDE) {
            int start = cumulation.readerIndex();
            long total = cumulation.getUnsignedInt(start);
            long headersLength = cumulation.getUnsignedInt(start + 4);
            if (total < PRELUDE + 4 || total > MAX_FRAME || headersLength > total - PRELUDE - 4) {
                throw new MalformedResponse("event stream frame with impossible lengths (total " + total + ", headers " + headersLength + ")");
            }
            if (crc(cumulation, start, 8) != cumulation.getUnsignedInt(start + 8)) {
                throw new MalformedResponse("event stream prelude CRC mismatch");
            }
            if (cumulation.readableBytes() < total) {
                break;
            }
            int length = (int) total;
            if (crc(cumulation, start, length - 4) != cumulation.getUnsignedInt(start + length - 4)) {
                throw new MalformedResponse("event stream message CRC mismatch");
            }
            Map<String, String> headers = headers(cumulation, start + PRELUDE, (int) headersLength);
            int payloadStart = start + PRELUDE + (int) headersLength;
            ByteBuf payload = cumulation.slice(payloadStart, length - PRELUDE - (int) headersLength - 4);
            cumulation.readerIndex(start + length);
            frames.accept(new Frame(headers, payload));
        }
        cumulation.discardSomeReadBytes();
    }

    /** Whether bytes of an unfinished frame are waiting. */
    public boolean partial() {
        return cumulation.isReadable();
    }

    public void release() {
        if (cumulation.refCnt() > 0) {
            cumulation.release();
        }
    }

    private static long crc(ByteBuf buf, int index, int length) {
        CRC32 crc = new CRC32();
        crc.update(buf.nioBuffer(index, length));
        return crc.getValue();
    }

    private static Map<String, String> headers(ByteBuf buf, int index, int length) throws MalformedResponse {
        Map<String, String> headers = new LinkedHashMap<>();
        int end = index + length;
        int i = index;
        try {
            while (i < end) {
                int nameLength = buf.getUnsignedByte(i++);
                String name = buf.toString(i, nameLength, StandardCharsets.UTF_8);
                i += nameLength;
                int type = buf.getUnsignedByte(i++);
                String value;
                switch (type) {
                    case 0 -> value = "true";
                    case 1 -> value = "false";
                    case 2 -> value = Byte.toString(buf.getByte(i++));
                    case 3 -> { value = Short.toString(buf.getShort(i)); i += 2; }
                    case 4 -> { value = Integer.toString(buf.getInt(i)); i += 4; }
                    case 5, 8 -> { value = Long.toString(buf.getLong(i)); i += 8; }
                    case 6, 7 -> {
                        int valueLength = buf.getUnsignedShort(i);
                        i += 2;
                        value = buf.toString(i, valueLength, StandardCharsets.UTF_8);
                        i += valueLength;
                    }
                    case 9 -> { value = Long.toHexString(buf.getLong(i)) + Long.toHexString(buf.getLong(i + 8)); i += 16; }
                    default -> throw new MalformedResponse("event stream header " + name + " has unknown type " + type);
                }
                headers.put(name, value);
            }
        } catch (IndexOutOfBoundsException e) {
            throw new MalformedResponse("event stream headers overrun their length");
        }
        if (i != end) {
            throw new MalformedResponse("event stream headers overrun their length");
        }
        return headers;
    }
}

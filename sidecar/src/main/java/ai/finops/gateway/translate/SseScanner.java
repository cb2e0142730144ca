package ai.finops.gateway.translate;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

/**
 * Splits a server-sent-event byte stream into complete events, without copying and without
 * decoding text. Handles {@code \n}, {@code \r\n} and {@code \r} line endings, multi-line
 * {@code data:} fields and input split at any byte.
 *
 * <p>The scanner only remembers how far it has looked; the caller keeps the bytes. {@link
 * #scan(ByteBuf, Listener)} walks the readable bytes from the last position, reports each event
 * that completes (its {@code event:} name and its data lines, as slices of the caller's buffer), and
 * returns the reader index just past the last complete event: the bytes before it can be forwarded
 * as whole events, the bytes after it stay buffered for the next read.
 */
public final class SseScanner {

    /** Receives complete events. Slices are valid only during the call. */
    public interface Listener {
        /**
         * @param eventName the {@code event:} field value, or null for the default event type
         * @param data the event's data: the {@code data:} lines joined with {@code \n}; a slice of the
         *     input when the event has one data line, a fresh buffer otherwise (released by the scanner)
         */
        void onEvent(ByteBuf eventName, ByteBuf data);
    }

    private int position;          // offset from the buffer's reader index already scanned: never scanned twice
    private int lineStart;         // offset where the line being scanned begins
    private int eventStart;        // offset where the event being scanned begins
    private int nameStart = -1, nameEnd;
    private int dataStart = -1, dataEnd, dataLines;
    private int dataLineStart;     // where the first data line begins (its field name)
    private boolean lastWasCr;     // a CR ended the previous line; a following LF belongs to it

    /**
     * Scans newly arrived bytes.
     *
     * @return the number of bytes from {@code buf.readerIndex()} that form complete events
     */
    public int scan(ByteBuf buf, Listener listener) {
        int base = buf.readerIndex();
        int end = buf.writerIndex() - base;
        int completeUpTo = eventStart;
        int lineStart = this.lineStart;
        int i = position;
        while (i < end) {
            // jump to the next line break: one bounds-checked pass, not a call per byte
            int found = buf.forEachByte(base + i, end - i, ByteProcessor.FIND_CRLF);
            if (found < 0) {
                lastWasCr = false;
                break;
            }
            int at = found - base;
            if (at > i) {
                lastWasCr = false;
            }
            byte b = buf.getByte(found);
            i = at + 1;
            if (b == '\n' && lastWasCr) {      // the LF of a CRLF: the line already ended
                lastWasCr = false;
                if (eventStart == at) {        // ... and it was the blank line closing an event
                    eventStart = at + 1;
                    completeUpTo = eventStart;
                }
                lineStart = at + 1;
                continue;
            }
            lastWasCr = b == '\r';
            if (at == lineStart) {             // blank line: dispatch
                if (dataStart >= 0 || nameStart >= 0) {
                    dispatch(buf, base, listener);
                }
                resetEvent();
                eventStart = at + 1;
                completeUpTo = eventStart;
            } else {
                field(buf, base, lineStart, at);
            }
            lineStart = at + 1;
        }
        // Go on from where this scan stopped, not from the start of the incomplete line: an event
        // that arrives in many reads is scanned once, in linear time, however long its line.
        position = end;
        this.lineStart = lineStart;
        rebase(completeUpTo);
        return completeUpTo;
    }

    /** Offsets are relative to the caller's reader index, which the caller advances by what it consumes. */
    private void rebase(int consumed) {
        position -= consumed;
        lineStart -= consumed;
        eventStart -= consumed;
        if (nameStart >= 0) {
            nameStart -= consumed;
            nameEnd -= consumed;
        }
        if (dataStart >= 0) {
            dataStart -= consumed;
            dataLineStart -= consumed;
            dataEnd -= consumed;
        }
    }

    private void field(ByteBuf buf, int base, int from, int to) {
        if (startsWith(buf, base + from, to - from, "data")) {
            int v = valueStart(buf, base, from + 4, to);
            if (v < 0) {
                return;
            }
            if (dataStart < 0) {
                dataStart = v;
                dataLineStart = from;
            }
            dataEnd = to;
            dataLines++;
        } else if (startsWith(buf, base + from, to - from, "event")) {
            int v = valueStart(buf, base, from + 5, to);
            if (v >= 0) {
                nameStart = v;
                nameEnd = to;
            }
        }
        // id, retry, comments (": ...") and unknown fields carry nothing the gateway needs
    }

    /** Index of a field's value after {@code name} ends at {@code at}, or -1 when the line is another field. */
    private static int valueStart(ByteBuf buf, int base, int at, int lineEnd) {
        if (at == lineEnd) {
            return at;                                     // "data" alone: empty value
        }
        if (buf.getByte(base + at) != ':') {
            return -1;                                     // e.g. "dataX: ..."
        }
        at++;
        if (at < lineEnd && buf.getByte(base + at) == ' ') {
            at++;
        }
        return at;
    }

    private void dispatch(ByteBuf buf, int base, Listener listener) {
        ByteBuf name = nameStart >= 0 ? buf.slice(base + nameStart, nameEnd - nameStart) : null;
        if (dataLines <= 1) {
            ByteBuf data = dataStart >= 0 ? buf.slice(base + dataStart, dataEnd - dataStart) : buf.slice(base, 0);
            listener.onEvent(name, data);
            return;
        }
        // Several data lines: join their values with LF, as the SSE specification says.
        ByteBuf joined = buf.alloc().heapBuffer(dataEnd - dataStart);
        try {
            int lineStart = dataLineStart;
            boolean first = true;
            for (int i = dataLineStart; i <= dataEnd; i++) {
                byte b = i < dataEnd ? buf.getByte(base + i) : (byte) '\n';
                if (b != '\n' && b != '\r') {
                    continue;
                }
                if (i > lineStart && startsWith(buf, base + lineStart, i - lineStart, "data")) {
                    int v = valueStart(buf, base, lineStart + 4, i);
                    if (v >= 0) {
                        if (!first) {
                            joined.writeByte('\n');
                        }
                        joined.writeBytes(buf, base + v, i - v);
                        first = false;
                    }
                }
                if (b == '\r' && i + 1 < dataEnd && buf.getByte(base + i + 1) == '\n') {
                    i++;
                }
                lineStart = i + 1;
            }
            listener.onEvent(name, joined);
        } finally {
            joined.release();
        }
    }

    /** How many bytes from the reader index have been scanned already (the next scan starts there). */
    int scanned() {
        return position;
    }

    private void resetEvent() {
        nameStart = -1;
        dataStart = -1;
        dataLines = 0;
    }

    /** True when {@code buf} holds nothing but line breaks (what may trail the last complete event). */
    public static boolean onlyLineBreaks(ByteBuf buf) {
        return buf.forEachByte(b -> b == '\r' || b == '\n') == -1;
    }

    private static boolean startsWith(ByteBuf buf, int at, int length, String prefix) {
        if (length < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (buf.getByte(at + i) != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}

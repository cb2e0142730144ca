package ai.finops.gateway.translate;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Cuts a server-sent event stream, arriving in arbitrary chunks, at event boundaries: what is passed
 * on is always whole events, and the bytes of an unfinished event are held until it completes. So a
 * stream that fails can still end with a well-formed {@code error} event, never one glued onto half
 * of another. The common case (a chunk of whole events) passes the chunk itself on, uncopied.
 */
public final class SseFramer {
    private final SseScanner scanner = new SseScanner();
    private ByteBuf held;

    /**
     * The complete events that {@code chunk} finishes (retained; the caller releases them), or null
     * when it finishes none; the rest of {@code chunk} is held. {@code listener} sees each event.
     */
    public ByteBuf next(ByteBuf chunk, ByteBufAllocator alloc, SseScanner.Listener listener) {
        boolean direct = held == null || !held.isReadable();
        ByteBuf buf = direct ? chunk : held.writeBytes(chunk);
        int complete = scanner.scan(buf, listener);
        ByteBuf events = null;
        if (complete > 0) {
            events = direct ? chunk.readRetainedSlice(complete) : buf.readBytes(complete);
        }
        if (direct && chunk.isReadable()) {
            if (held == null) {
                held = alloc.buffer(chunk.readableBytes());
            }
            held.writeBytes(chunk);
        } else if (!direct) {
            held.discardSomeReadBytes();
        }
        return events;
    }

    /** True when the bytes held are part of an event (not only the line breaks after the last one). */
    public boolean holdsPartialEvent() {
        return held != null && held.isReadable() && !SseScanner.onlyLineBreaks(held);
    }

    /** The bytes held (line breaks after the last event), handed over (retained), or null when none. */
    public ByteBuf takeHeld() {
        return held != null && held.isReadable() ? held.readRetainedSlice(held.readableBytes()) : null;
    }

    public void release() {
        if (held != null) {
            held.release();
            held = null;
        }
    }
}

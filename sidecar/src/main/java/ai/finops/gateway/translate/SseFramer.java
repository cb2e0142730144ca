package ai.finops.gateway.translate;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Cuts a server-sent event stream, arriving in arbitrary chunks, at event boundaries: what is passed
 * on is always whole events, and the bytes of an unfinished event are held until it completes. So a
 * stream that fails can still end with a well-formed {@code error} event, never one glued onto half
 * of another. The common case (a chunk of whole events) passes the chunk itself on, uncopied.
 *
 * <p>What it holds is capped ({@code limits.maxEventSize}): when the unfinished event would hold more
 * than {@code maxEventBytes} (checked once per chunk, so the most held is the cap plus one chunk), the
 * framer releases it, reports {@link #tooLarge()}, and passes nothing more on; the caller ends the
 * stream with an error event and closes the upstream. A caller that does not ask still ends it with an
 * error: {@link #holdsPartialEvent()} stays true, as for a stream that ends inside an event. Each byte
 * is copied and scanned once, however many chunks an event takes.
 */
public final class SseFramer {
    /** The default cap on one unfinished event: 4 MiB. */
    public static final int DEFAULT_MAX_EVENT_BYTES = 4 << 20;

    private final SseScanner scanner = new SseScanner();
    private final int maxEventBytes;
    private ByteBuf held;
    private boolean tooLarge;

    /** A framer that holds at most {@link #DEFAULT_MAX_EVENT_BYTES} of an unfinished event. */
    public SseFramer() {
        this(DEFAULT_MAX_EVENT_BYTES);
    }

    /** A framer that holds at most {@code maxEventBytes} of an unfinished event. */
    public SseFramer(int maxEventBytes) {
        if (maxEventBytes < 1) {
            throw new IllegalArgumentException("maxEventBytes must be positive: " + maxEventBytes);
        }
        this.maxEventBytes = maxEventBytes;
    }

    /**
     * The complete events that {@code chunk} finishes (retained; the caller releases them), or null
     * when it finishes none; the rest of {@code chunk} is held. {@code listener} sees each event.
     * After {@link #tooLarge()}, nothing: the chunk is left to the caller, as always.
     */
    public ByteBuf next(ByteBuf chunk, ByteBufAllocator alloc, SseScanner.Listener listener) {
        if (tooLarge) {
            return null;
        }
        boolean direct = held == null || !held.isReadable();
        ByteBuf buf = direct ? chunk : held.writeBytes(chunk);
        int complete = scanner.scan(buf, listener);
        ByteBuf events = null;
        if (complete > 0) {
            events = direct ? chunk.readRetainedSlice(complete) : buf.readBytes(complete);
        }
        int unfinished = direct ? chunk.readableBytes() : held.readableBytes();
        if (unfinished > maxEventBytes) {
            if (direct) {
                chunk.skipBytes(unfinished);    // consumed, as a held remainder would be
            }
            tooLarge = true;
            release();
            return events;
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

    /**
     * True once an unfinished event outgrew the cap: what was held is released, and the stream cannot
     * go on (the events returned with the chunk that outgrew it are whole, and are the last).
     */
    public boolean tooLarge() {
        return tooLarge;
    }

    /** The cap on one unfinished event, in bytes. */
    public int maxEventBytes() {
        return maxEventBytes;
    }

    /** True when the bytes held are part of an event (not only the line breaks after the last one), or an event outgrew the cap. */
    public boolean holdsPartialEvent() {
        return tooLarge || held != null && held.isReadable() && !SseScanner.onlyLineBreaks(held);
    }

    /** The bytes held (line breaks after the last event), handed over (retained), or null when none. */
    public ByteBuf takeHeld() {
        return held != null && held.isReadable() ? held.readRetainedSlice(held.readableBytes()) : null;
    }

    /** How many bytes are held (for tests). */
    int heldBytes() {
        return held == null ? 0 : held.readableBytes();
    }

    /** How many of the bytes held have been scanned already (for tests): all of them, never again. */
    int scanned() {
        return scanner.scanned();
    }

    public void release() {
        if (held != null) {
            held.release();
            held = null;
        }
    }
}

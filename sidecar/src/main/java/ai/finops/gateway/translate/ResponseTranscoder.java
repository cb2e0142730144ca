package ai.finops.gateway.translate;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** Turns a provider's response body, chunk by chunk, into Anthropic SSE bytes. */
public interface ResponseTranscoder {

    /** The SSE bytes for {@code in} (consumed; not released), possibly none; the caller owns the result. */
    ByteBuf decode(ByteBuf in, ByteBufAllocator alloc) throws MalformedResponse;

    /** At the end of the body: the last SSE bytes (possibly none); bytes of an unfinished frame are an error. */
    ByteBuf finish(ByteBufAllocator alloc) throws MalformedResponse;

    /** Releases what the transcoder holds. */
    void release();

    /** The provider's bytes cannot be what it promised (a bad frame, a CRC mismatch). */
    final class MalformedResponse extends Exception {
        public MalformedResponse(String message) {
            super(message, null, false, false);
        }
    }
}

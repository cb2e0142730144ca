package ai.finops.gateway.translate;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.testkit.NettyLeakDetector;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The framer's cap on one unfinished event: what it holds, what it releases, what it costs. */
@ExtendWith(NettyLeakDetector.class)
class SseFramerTest {

    /** An allocator that keeps every buffer it hands out, so a test can see each one released. */
    static final class Tracking extends AbstractByteBufAllocator {
        final List<ByteBuf> allocated = new ArrayList<>();

        Tracking() {
            super(false);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
            allocated.add(b);
            return b;
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
            allocated.add(b);
            return b;
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }

        void assertAllReleased() {
            assertThat(allocated).allSatisfy(b -> assertThat(b.refCnt()).as("refCnt of a buffer the framer took").isZero());
        }
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    /** Feeds {@code chunk} as a relay does: whole events come back (collected and released), the chunk is released. */
    private static String feed(SseFramer framer, ByteBufAllocator alloc, ByteBuf chunk, List<String> names) {
        try {
            ByteBuf events = framer.next(chunk, alloc, (name, data) -> names.add(name == null ? "message" : name.toString(StandardCharsets.UTF_8)));
            if (events == null) {
                return "";
            }
            try {
                return events.toString(StandardCharsets.UTF_8);
            } finally {
                events.release();
            }
        } finally {
            chunk.release();
        }
    }

    @Test
    void theDefaultCapIsFourMebibytes() {
        assertThat(new SseFramer().maxEventBytes()).isEqualTo(4 << 20).isEqualTo(SseFramer.DEFAULT_MAX_EVENT_BYTES);
    }

    @Test
    void anEventUpToTheCapIsHeldAndPassedOnWhole() {
        Tracking alloc = new Tracking();
        SseFramer framer = new SseFramer(1024);
        List<String> names = new ArrayList<>();
        String head = "event: big\ndata: ";
        String body = "x".repeat(1024 - head.length());
        assertThat(feed(framer, alloc, ascii("event: a\ndata: 1\n\n" + head), names)).isEqualTo("event: a\ndata: 1\n\n");
        assertThat(feed(framer, alloc, ascii(body), names)).isEmpty();
        assertThat(framer.heldBytes()).isEqualTo(1024);
        assertThat(framer.tooLarge()).isFalse();
        assertThat(feed(framer, alloc, ascii("\n\n"), names)).isEqualTo(head + body + "\n\n");
        assertThat(names).containsExactly("a", "big");
        assertThat(framer.holdsPartialEvent()).isFalse();
        framer.release();
        alloc.assertAllReleased();
    }

    @Test
    void anEventThatOutgrowsTheCapIsReleasedAndReported() {
        Tracking alloc = new Tracking();
        SseFramer framer = new SseFramer(1024);
        List<String> names = new ArrayList<>();
        assertThat(feed(framer, alloc, ascii("event: a\ndata: 1\n\nevent: big\ndata: "), names)).isEqualTo("event: a\ndata: 1\n\n");
        String piece = "x".repeat(100);
        int fed = "event: big\ndata: ".length();
        while (fed + piece.length() <= 1024) {
            assertThat(feed(framer, alloc, ascii(piece), names)).isEmpty();
            fed += piece.length();
            assertThat(framer.tooLarge()).isFalse();
        }
        // this chunk takes the unfinished event past the cap
        assertThat(feed(framer, alloc, ascii(piece), names)).isEmpty();
        assertThat(framer.tooLarge()).isTrue();
        assertThat(framer.heldBytes()).isZero();
        alloc.assertAllReleased();
        // nothing more is passed on, and a caller that only asks at the end finds the stream cut inside an event
        assertThat(feed(framer, alloc, ascii("\n\nevent: message_stop\ndata: {}\n\n"), names)).isEmpty();
        assertThat(framer.holdsPartialEvent()).isTrue();
        assertThat(framer.takeHeld()).isNull();
        assertThat(names).containsExactly("a");
        framer.release();
        framer.release();
        alloc.assertAllReleased();
    }

    @Test
    void oneChunkWithWholeEventsAndAnOversizedRemainderPassesTheEventsAndHoldsNothing() {
        Tracking alloc = new Tracking();
        SseFramer framer = new SseFramer(1024);
        List<String> names = new ArrayList<>();
        ByteBuf chunk = ascii("event: a\ndata: 1\n\nevent: b\ndata: 2\n\nevent: big\ndata: " + "y".repeat(2000));
        assertThat(feed(framer, alloc, chunk, names)).isEqualTo("event: a\ndata: 1\n\nevent: b\ndata: 2\n\n");
        assertThat(chunk.refCnt()).isZero();
        assertThat(framer.tooLarge()).isTrue();
        assertThat(names).containsExactly("a", "b");
        assertThat(alloc.allocated).as("nothing was copied to be held").isEmpty();
        framer.release();
    }

    @Test
    void anEventAtTheDefaultCapInSmallChunksCostsLinearTimeEachByteScannedOnce() {
        Tracking alloc = new Tracking();
        SseFramer framer = new SseFramer();
        List<String> names = new ArrayList<>();
        byte[] piece = "z".repeat(64).getBytes(StandardCharsets.US_ASCII);
        String head = "event: content_block_delta\ndata: ";
        long start = System.nanoTime();
        feed(framer, alloc, ascii(head), names);
        int held = head.length();
        while (held + piece.length <= SseFramer.DEFAULT_MAX_EVENT_BYTES) {
            feed(framer, alloc, Unpooled.wrappedBuffer(piece), names);
            held += piece.length;
            if ((held & 0xffff) < piece.length) {
                // what is held has been looked at: the next chunk is scanned from its own first byte
                assertThat(framer.scanned()).isEqualTo(framer.heldBytes()).isEqualTo(held);
            }
        }
        String out = feed(framer, alloc, ascii("\n\n"), names);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(out).hasSize(held + 2);
        assertThat(names).containsExactly("content_block_delta");
        // about 65,000 chunks: rescanning what is held on every chunk would take minutes, once is milliseconds
        assertThat(millis).as("4 MiB in 64-byte chunks, ms").isLessThan(10_000);
        framer.release();
        alloc.assertAllReleased();

        // one chunk more than the cap allows: released at once, in the same linear pass
        SseFramer capped = new SseFramer();
        feed(capped, alloc, ascii(head), names);
        for (int i = 0; i <= SseFramer.DEFAULT_MAX_EVENT_BYTES / piece.length && !capped.tooLarge(); i++) {
            feed(capped, alloc, Unpooled.wrappedBuffer(piece), names);
        }
        assertThat(capped.tooLarge()).isTrue();
        assertThat(capped.heldBytes()).isZero();
        capped.release();
        alloc.assertAllReleased();
    }
}

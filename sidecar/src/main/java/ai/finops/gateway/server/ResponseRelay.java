package ai.finops.gateway.server;

import ai.finops.gateway.dialect.Headers;
import ai.finops.gateway.translate.ResponseTranscoder;
import ai.finops.gateway.translate.AnthropicStreamScanner;
import ai.finops.gateway.translate.SseFramer;
import ai.finops.gateway.translate.Usage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * A response passed on to the client as it arrives: an event stream event by event (each flushed
 * when whole, an unfinished one held), a provider's own stream format transcoded into Anthropic SSE,
 * or a plain body chunk by chunk. Usage is read on the way (the stream's events, or a plain body of up
 * to {@link #MAX_SCANNED_BODY}).
 */
final class ResponseRelay {
    /** Bodies of non-streaming responses are kept up to this size to read their usage. */
    static final int MAX_SCANNED_BODY = 8 << 20;

    /** How the body ended: passed on whole ({@code last} to write), or cut ({@code kind} and why). */
    record Ending(LastHttpContent last, String kind, String message) {
        static Ending whole(LastHttpContent last) {
            return new Ending(last, null, null);
        }

        static Ending cut(String kind, String message) {
            return new Ending(null, kind, message);
        }

        boolean cut() {
            return kind != null;
        }
    }

    private final ChannelHandlerContext client;
    private final int status;
    private final ResponseTranscoder transcoder;   // a provider's stream format to Anthropic SSE, or null
    private final SseFramer framer;                // an event stream: whole events on, an unfinished one held; else null
    private final AnthropicStreamScanner scanner;
    private final Usage usage;
    private CompositeByteBuf scannedBody;          // a plain body, for its usage
    private boolean released;

    private ResponseRelay(ChannelHandlerContext client, int status, ResponseTranscoder transcoder, boolean sse, Usage usage, int maxEventBytes) {
        this.client = client;
        this.status = status;
        this.transcoder = transcoder;
        this.usage = usage;
        this.framer = sse ? new SseFramer(maxEventBytes) : null;
        this.scanner = sse ? new AnthropicStreamScanner(usage) : null;
        this.scannedBody = !sse && status < 300 ? client.alloc().compositeBuffer() : null;
    }

    /**
     * An event stream when the provider says so, or when its own stream format is transcoded into one;
     * at most {@code maxEventBytes} of one unfinished event is held.
     */
    static ResponseRelay open(ChannelHandlerContext client, HttpResponse head, ResponseTranscoder transcoder, Usage usage, int maxEventBytes) {
        return new ResponseRelay(client, head.status().code(), transcoder, transcoder != null || isEventStream(head), usage, maxEventBytes);
    }

    static boolean isEventStream(HttpResponse head) {
        String contentType = head.headers().get(HttpHeaderNames.CONTENT_TYPE);
        return contentType != null && contentType.regionMatches(true, 0, "text/event-stream", 0, 17);
    }

    boolean events() {
        return framer != null;
    }

    /** The head the client gets: the provider's, hop-by-hop headers dropped, framed for what follows. */
    HttpResponse clientHead(HttpResponse head, String requestId) {
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, head.status());
        boolean lengthKnown = framer == null && HttpUtil.isContentLengthSet(head);
        Headers.copyResponseHeaders(head.headers(), response.headers(), lengthKnown);
        if (transcoder != null) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        }
        if (!lengthKnown) {
            HttpUtil.setTransferEncodingChunked(response, true);
        }
        response.headers().set(Headers.GATEWAY_REQUEST_ID, requestId);
        return response;
    }

    /** Passes {@code chunk} on (not retained); null while the body goes on, else how it ended. */
    Ending relay(ByteBuf chunk, boolean last) {
        if (transcoder != null) {
            return relayTranscoded(chunk, last);
        }
        return framer != null ? relayEvents(chunk, last) : relayBody(chunk, last);
    }

    /** Forwards the complete events of {@code chunk}; a chunk of whole events is forwarded itself. */
    private Ending relayEvents(ByteBuf chunk, boolean last) {
        if (chunk.isReadable()) {
            ByteBuf events = framer.next(chunk, client.alloc(), scanner);
            if (scanner.malformed() != null) {
                if (events != null) {
                    events.release();
                }
                return Ending.cut("malformed", "the provider sent a malformed stream: " + scanner.malformed());
            }
            if (events != null) {
                client.writeAndFlush(new DefaultHttpContent(events));
            }
            if (framer.tooLarge()) {
                // whole events only went out: the error event that follows stands on its own
                return Ending.cut("event_too_large", "the provider sent an event larger than the gateway holds ("
                        + framer.maxEventBytes() + " bytes, limits.maxEventSize)");
            }
        }
        if (!last) {
            return null;
        }
        if (framer.holdsPartialEvent()) {
            return Ending.cut("malformed", "the provider's stream ended inside an event");
        }
        if (!scanner.complete() && !scanner.upstreamError()) {
            return Ending.cut("truncated", "the provider's stream ended before the message was complete");
        }
        ByteBuf tail = framer.takeHeld();
        return Ending.whole(tail != null ? new DefaultLastHttpContent(tail) : LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /** A provider's own stream format, turned into Anthropic SSE, then relayed like Anthropic's. */
    private Ending relayTranscoded(ByteBuf chunk, boolean last) {
        ByteBufAllocator alloc = client.alloc();
        ByteBuf converted;
        try {
            converted = transcoder.decode(chunk, alloc);
            if (last) {
                ByteBuf tail;
                try {
                    tail = transcoder.finish(alloc);
                } catch (ResponseTranscoder.MalformedResponse e) {
                    converted.release();
                    throw e;
                }
                if (tail.isReadable()) {
                    converted = alloc.compositeBuffer(2).addComponents(true, converted, tail);
                } else {
                    tail.release();
                }
            }
        } catch (ResponseTranscoder.MalformedResponse e) {
            return Ending.cut("malformed", "the provider sent a malformed stream: " + e.getMessage());
        }
        try {
            return relayEvents(converted, last);
        } finally {
            converted.release();
        }
    }

    private Ending relayBody(ByteBuf chunk, boolean last) {
        if (scannedBody != null && chunk.isReadable()) {
            if (scannedBody.readableBytes() + chunk.readableBytes() <= MAX_SCANNED_BODY) {
                scannedBody.addComponent(true, chunk.retainedDuplicate());
            } else {
                scannedBody.release();
                scannedBody = null;
            }
        }
        if (!last) {
            if (chunk.isReadable()) {
                client.writeAndFlush(new DefaultHttpContent(chunk.retain()));
            }
            return null;
        }
        if (scannedBody != null) {
            AnthropicStreamScanner.readResponseUsage(scannedBody, usage);
        }
        return Ending.whole(chunk.isReadable() ? new DefaultLastHttpContent(chunk.retain()) : LastHttpContent.EMPTY_LAST_CONTENT);
    }

    int status() {
        return status;
    }

    void release() {
        if (released) {
            return;
        }
        released = true;
        if (framer != null) {
            framer.release();
            scanner.close();
        }
        if (scannedBody != null) {
            scannedBody.release();
            scannedBody = null;
        }
        if (transcoder != null) {
            transcoder.release();
        }
    }
}

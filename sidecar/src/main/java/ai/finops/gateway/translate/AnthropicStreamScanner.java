package ai.finops.gateway.translate;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteBufferFeeder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The light scan of a passthrough Anthropic stream: checks that every event's data is JSON, picks
 * the usage (and the message's id, model and stop reason) out of {@code message_start} and
 * {@code message_delta}, and notes the terminal
 * {@code message_stop} (or an upstream {@code error} event), so the relay can tell a complete
 * stream from one that broke. Also reads the usage of a non-streaming response body.
 */
public final class AnthropicStreamScanner implements SseScanner.Listener {
    private static final JsonFactory JSON = JsonFactory.builder().build();

    private final Usage usage;
    private JsonParser stream;             // created at the first event
    private ByteBufferFeeder feeder;
    private boolean messageStop;
    private boolean upstreamError;
    private String malformed;

    public AnthropicStreamScanner(Usage usage) {
        this.usage = usage;
    }

    @Override
    public void onEvent(ByteBuf eventName, ByteBuf data) {
        if (malformed != null) {
            return;
        }
        Kind kind = Kind.of(eventName);
        try {
            JsonParser p = streamParser();
            feeder.feedInput(data.nioBuffer());
            switch (kind) {
                case MESSAGE_START -> readUsage(p, "message");
                case MESSAGE_DELTA -> readUsage(p, "delta");
                default -> skipAll(p);
            }
        } catch (IOException | RuntimeException e) {
            malformed = "event '" + (eventName == null ? "message" : eventName.toString(StandardCharsets.US_ASCII)) + "' has malformed data";
            close();
            return;
        }
        if (kind == Kind.MESSAGE_STOP) {
            messageStop = true;
        } else if (kind == Kind.ERROR) {
            upstreamError = true;
        }
    }

    /**
     * One non-blocking parser reads the whole stream, each event's data fed to it in turn: the events
     * are a sequence of root-level values to it, so nothing is built per event (no parser, no context,
     * no symbol table).
     */
    private JsonParser streamParser() throws IOException {
        if (stream == null) {
            stream = JSON.createNonBlockingByteBufferParser();
            feeder = (ByteBufferFeeder) stream.getNonBlockingInputFeeder();
        }
        return stream;
    }

    /** Returns the stream's parser to Jackson's buffer pool; nothing is read after it. */
    public void close() {
        if (stream != null) {
            try {
                stream.close();
            } catch (IOException ignored) {
                // nothing is held that a failed close could leak
            }
            stream = null;
        }
    }

    /** The events whose names the scan acts on, told apart without decoding the name. */
    private enum Kind {
        MESSAGE_START, MESSAGE_DELTA, MESSAGE_STOP, ERROR, OTHER;

        private static final byte[][] NAMES = {bytes("message_start"), bytes("message_delta"), bytes("message_stop"), bytes("error")};
        private static final Kind[] KINDS = values();

        static Kind of(ByteBuf name) {
            if (name != null) {
                for (int i = 0; i < NAMES.length; i++) {
                    if (equals(name, NAMES[i])) {
                        return KINDS[i];
                    }
                }
            }
            return OTHER;
        }

        private static boolean equals(ByteBuf name, byte[] expected) {
            if (name.readableBytes() != expected.length) {
                return false;
            }
            int at = name.readerIndex();
            for (int i = 0; i < expected.length; i++) {
                if (name.getByte(at + i) != expected[i]) {
                    return false;
                }
            }
            return true;
        }

        private static byte[] bytes(String s) {
            return s.getBytes(StandardCharsets.US_ASCII);
        }
    }

    /** True once {@code message_stop} arrived: the stream is complete. */
    public boolean complete() {
        return messageStop;
    }

    /** True when the upstream itself sent an {@code error} event (the stream ended properly, with an error). */
    public boolean upstreamError() {
        return upstreamError;
    }

    /** A description of the first malformed event, or null. */
    public String malformed() {
        return malformed;
    }

    /** Reads {@code usage} (and id, model, stop reason) from a complete non-streaming Messages response. */
    public static void readResponseUsage(ByteBuf body, Usage usage) {
        try (JsonParser p = JSON.createParser((java.io.InputStream) new ByteBufInputStream(body.duplicate()))) {
            new AnthropicStreamScanner(usage).readUsage(p, null);
        } catch (IOException | RuntimeException ignored) {
            // an unreadable body carries no usage; the response itself is forwarded unchanged
        }
    }

    /** Finds {@code usage} at top level, or inside the top-level object field {@code within}. */
    private void readUsage(JsonParser p, String within) throws IOException {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            throw new IOException("not an object");
        }
        findUsage(p, within);
        skipAll(p);
    }

    /**
     * Walks the fields of the current object, descending into {@code within} when given ({@code message}
     * of {@code message_start}, {@code delta} of {@code message_delta}); content arrays are skipped whole.
     */
    private void findUsage(JsonParser p, String within) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (value == JsonToken.START_OBJECT && field.equals(within)) {
                findUsage(p, null);
            } else if (value == JsonToken.START_OBJECT && field.equals("usage")) {
                usageFields(p);
            } else if (value == JsonToken.VALUE_STRING) {
                describes(field, p.getText());
            } else {
                p.skipChildren();
            }
        }
    }

    private void describes(String field, String text) {
        switch (field) {
            case "id" -> usage.responseId = text;
            case "model" -> usage.responseModel = text;
            case "stop_reason" -> usage.stopReason = text;
            default -> { }
        }
    }

    private void usageFields(JsonParser p) throws IOException {
        usage.seen = true;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (value != JsonToken.VALUE_NUMBER_INT) {
                p.skipChildren();
                continue;
            }
            long n = p.getLongValue();
            switch (field) {
                case "input_tokens" -> usage.inputTokens = n;
                case "output_tokens" -> usage.outputTokens = n;
                case "cache_creation_input_tokens" -> usage.cacheCreationInputTokens = n;
                case "cache_read_input_tokens" -> usage.cacheReadInputTokens = n;
                default -> { }
            }
        }
    }

    /**
     * Reads every token left of the value (which validates it) up to the end of the input: the end of
     * the body for a blocking parser, of the event's data for the stream's. A value cut off there is malformed.
     */
    private static void skipAll(JsonParser p) throws IOException {
        JsonToken t;
        do {
            t = p.nextToken();
        } while (t != null && t != JsonToken.NOT_AVAILABLE);
        if (!p.getParsingContext().inRoot()) {
            throw new IOException("incomplete JSON value");
        }
    }
}

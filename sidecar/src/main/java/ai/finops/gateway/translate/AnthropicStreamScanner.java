package ai.finops.gateway.translate;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
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
        String name = eventName == null ? "message" : eventName.toString(StandardCharsets.US_ASCII);
        try (JsonParser p = JSON.createParser((java.io.InputStream) new ByteBufInputStream(data.duplicate()))) {
            switch (name) {
                case "message_start" -> readUsage(p, "message");
                case "message_delta" -> readUsage(p, "delta");
                default -> skipAll(p);
            }
        } catch (IOException | RuntimeException e) {
            malformed = "event '" + name + "' has malformed data";
            return;
        }
        if ("message_stop".equals(name)) {
            messageStop = true;
        } else if ("error".equals(name)) {
            upstreamError = true;
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

    private static void skipAll(JsonParser p) throws IOException {
        while (p.nextToken() != null) {
            // reading every token validates the JSON
        }
    }
}

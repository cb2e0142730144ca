package ai.finops.testkit;

import java.time.Duration;

/**
 * A scripted answer to one {@code /v1/messages} request: content (text, tool use, thinking) in the
 * Anthropic wire format, streamed or not as the request asks, or a fault.
 */
public final class Reply {
    /** What the reply does. */
    public enum Kind {
        TEXT, TOOL_USE, THINKING, LARGE_TEXT, STATUS,
        RESET_BEFORE_FIRST_BYTE, RESET_AFTER_FIRST_BYTE, STALL_BEFORE_FIRST_BYTE, STALL_AFTER_FIRST_BYTE,
        MALFORMED_SSE_AFTER_FIRST_BYTE, END_WITHOUT_MESSAGE_STOP
    }

    final Kind kind;
    final String text;
    final String toolName;
    final String toolInput;
    final int fragments;
    final String thinking;
    final String signature;
    final int deltas;
    final int bytesPerDelta;
    final int status;
    final String errorType;
    final String retryAfter;
    final Duration delay;
    final long[] usage;    // input, output, cache creation, cache read; null = computed

    private Reply(Kind kind, String text, String toolName, String toolInput, int fragments, String thinking, String signature,
            int deltas, int bytesPerDelta, int status, String errorType, String retryAfter, Duration delay, long[] usage) {
        this.kind = kind;
        this.text = text;
        this.toolName = toolName;
        this.toolInput = toolInput;
        this.fragments = fragments;
        this.thinking = thinking;
        this.signature = signature;
        this.deltas = deltas;
        this.bytesPerDelta = bytesPerDelta;
        this.status = status;
        this.errorType = errorType;
        this.retryAfter = retryAfter;
        this.delay = delay;
        this.usage = usage;
    }

    private static Reply of(Kind kind) {
        return new Reply(kind, null, null, null, 0, null, null, 0, 0, 0, null, null, null, null);
    }

    /** A text answer, streamed a few words per delta. */
    public static Reply text(String text) {
        return new Reply(Kind.TEXT, text, null, null, 0, null, null, 0, 0, 0, null, null, null, null);
    }

    /** A tool call whose {@code input_json_delta} fragments concatenate exactly to {@code inputJson}. */
    public static Reply toolUse(String toolName, String inputJson, int fragments) {
        return new Reply(Kind.TOOL_USE, null, toolName, inputJson, Math.max(1, fragments), null, null, 0, 0, 0, null, null, null, null);
    }

    /** A thinking block (deltas, then one signature delta with {@code signature} exactly), then a text block. */
    public static Reply thinking(String thinking, String signature, String text) {
        return new Reply(Kind.THINKING, text, null, null, 0, thinking, signature, 0, 0, 0, null, null, null, null);
    }

    /** Many large text deltas: for backpressure tests. */
    public static Reply largeText(int deltas, int bytesPerDelta) {
        return new Reply(Kind.LARGE_TEXT, null, null, null, 0, null, null, deltas, bytesPerDelta, 0, null, null, null, null);
    }

    /** An error answer in Anthropic error JSON, e.g. 429 {@code rate_limit_error}, 529 {@code overloaded_error}. */
    public static Reply status(int status, String errorType, String message) {
        return new Reply(Kind.STATUS, message, null, null, 0, null, null, 0, 0, status, errorType, null, null, null);
    }

    public static Reply resetBeforeFirstByte() {
        return of(Kind.RESET_BEFORE_FIRST_BYTE);
    }

    public static Reply resetAfterFirstByte() {
        return of(Kind.RESET_AFTER_FIRST_BYTE);
    }

    public static Reply stallBeforeFirstByte() {
        return of(Kind.STALL_BEFORE_FIRST_BYTE);
    }

    public static Reply stallAfterFirstByte() {
        return of(Kind.STALL_AFTER_FIRST_BYTE);
    }

    /** message_start, content_block_start, then an event whose data is cut-off JSON, then a clean end. */
    public static Reply malformedSseAfterFirstByte() {
        return of(Kind.MALFORMED_SSE_AFTER_FIRST_BYTE);
    }

    /** A stream that ends cleanly after a delta, without message_delta and message_stop. */
    public static Reply endWithoutMessageStop() {
        return of(Kind.END_WITHOUT_MESSAGE_STOP);
    }

    /** Adds a {@code retry-after} header (seconds) to a status reply. */
    public Reply retryAfter(String seconds) {
        return new Reply(kind, text, toolName, toolInput, fragments, thinking, signature, deltas, bytesPerDelta, status, errorType, seconds, delay, usage);
    }

    /** Waits this long before the response head. */
    public Reply delay(Duration delay) {
        return new Reply(kind, text, toolName, toolInput, fragments, thinking, signature, deltas, bytesPerDelta, status, errorType, retryAfter, delay, usage);
    }

    /** Exact usage numbers to report. */
    public Reply withUsage(long input, long output, long cacheCreation, long cacheRead) {
        return new Reply(kind, text, toolName, toolInput, fragments, thinking, signature, deltas, bytesPerDelta, status, errorType, retryAfter, delay,
                new long[] {input, output, cacheCreation, cacheRead});
    }

    public Kind kind() {
        return kind;
    }

    @Override
    public String toString() {
        return "Reply[" + kind + "]";
    }
}

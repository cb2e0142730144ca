package ai.finops.gateway.translate;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The fast path of {@link RequestBody#scan}: one pass over the body's bytes that proves it is JSON and
 * finds the top-level {@code model}, {@code stream} and {@code max_tokens}, skipping the inside of a
 * string eight bytes at a time (a request body is mostly long strings: prompts, tool descriptions,
 * file contents). It accepts only what Jackson accepts, and anything it does not decide plainly it
 * leaves to Jackson by answering null: any invalid input (so the client gets Jackson's precise error),
 * an escape in a top-level name or in the model, a field given twice, a non-boolean {@code stream},
 * nesting deeper than {@value #MAX_DEPTH}, a number longer than Jackson's limit, bytes outside a
 * string that are not JSON, malformed UTF-8.
 */
final class QuickScan {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long QUOTES = ONES * '"';
    private static final long BACKSLASHES = ONES * '\\';
    private static final long SPACES = ONES * 0x20;
    static final int MAX_DEPTH = 64;
    private static final long UNDECIDED = Long.MIN_VALUE;
    private static final int MAX_NUMBER_LENGTH = 1000;       // Jackson's default StreamReadConstraints
    private static final int MAX_NAME_LENGTH = 50_000;
    private static final int MAX_STRING_LENGTH = 20_000_000;
    /** Bodies up to this size are copied into a buffer kept per thread; a larger one into its own array. */
    private static final int KEPT_SCRATCH = 4 << 20;
    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[128 * 1024];
        }
    };
    private static final byte[] MODEL = bytes("model");
    private static final byte[] STREAM = bytes("stream");
    private static final byte[] MAX_TOKENS = bytes("max_tokens");

    private final byte[] b;
    private final int end;
    private boolean escaped;     // the string last skipped held an escape

    private QuickScan(byte[] b, int end) {
        this.b = b;
        this.end = end;
    }

    /** The body's fields, or null when Jackson must decide. */
    static RequestBody scan(ByteBuf body) {
        int size = body.readableBytes();
        byte[] bytes;
        int from;
        if (body.hasArray()) {
            bytes = body.array();
            from = body.arrayOffset() + body.readerIndex();
        } else {
            bytes = scratch(size);
            body.getBytes(body.readerIndex(), bytes, 0, size);
            from = 0;
        }
        return new QuickScan(bytes, from + size).scan(from, size);
    }

    private static byte[] scratch(int size) {
        if (size > KEPT_SCRATCH) {
            return new byte[size];
        }
        byte[] kept = SCRATCH.get();
        if (kept.length < size) {
            kept = new byte[Math.max(size, Math.min(KEPT_SCRATCH, kept.length * 2))];
            SCRATCH.set(kept);
        }
        return kept;
    }

    private RequestBody scan(int from, int size) {
        String model = null;
        int modelStart = -1, modelEnd = -1;
        boolean stream = false, seenStream = false, seenMaxTokens = false;
        long maxTokens = -1;
        int i = ws(from);
        if (at(i) != '{') {
            return null;
        }
        i = ws(i + 1);
        if (at(i) == '}') {
            return null;                                   // no model: Jackson says so
        }
        while (true) {
            if (at(i) != '"') {
                return null;
            }
            int nameStart = i + 1;
            int nameEnd = string(i);
            if (nameEnd < 0 || escaped || nameEnd - nameStart - 1 > MAX_NAME_LENGTH) {
                return null;
            }
            i = ws(nameEnd);
            if (at(i) != ':') {
                return null;
            }
            i = ws(i + 1);
            int nameLength = nameEnd - 1 - nameStart;
            if (is(nameStart, nameLength, MODEL)) {
                if (model != null || at(i) != '"') {
                    return null;
                }
                int valueEnd = string(i);
                if (valueEnd < 0 || escaped) {
                    return null;
                }
                modelStart = i - from;
                modelEnd = valueEnd - from;
                model = new String(b, i + 1, valueEnd - i - 2, StandardCharsets.UTF_8);
                i = valueEnd;
            } else if (is(nameStart, nameLength, STREAM)) {
                if (seenStream) {
                    return null;
                }
                if (literal(i, "true")) {
                    stream = true;
                    i += 4;
                } else if (literal(i, "false")) {
                    i += 5;
                } else {
                    return null;
                }
                seenStream = true;
            } else if (is(nameStart, nameLength, MAX_TOKENS)) {
                if (seenMaxTokens) {
                    return null;
                }
                seenMaxTokens = true;
                int valueEnd = value(i);
                if (valueEnd < 0) {
                    return null;
                }
                maxTokens = wholeNumber(i, valueEnd);
                if (maxTokens == UNDECIDED) {
                    return null;
                }
                i = valueEnd;
            } else {
                i = value(i);
                if (i < 0) {
                    return null;
                }
            }
            i = ws(i);
            int c = at(i);
            if (c == ',') {
                i = ws(i + 1);
            } else if (c == '}') {
                break;
            } else {
                return null;
            }
        }
        if (ws(i + 1) != end || model == null) {
            return null;
        }
        return RequestBody.of(model, stream, modelStart, modelEnd, maxTokens, size);
    }

    /** A value starting at {@code i}: the index just past it, or -1. */
    private int value(int i) {
        long objects = 0;      // bit d: the container at depth d is an object
        int depth = 0;
        while (true) {
            int c = at(i);
            switch (c) {
                case '{', '[' -> {
                    if (depth == MAX_DEPTH) {
                        return -1;
                    }
                    boolean object = c == '{';
                    objects = object ? objects | (1L << depth) : objects & ~(1L << depth);
                    depth++;
                    i = ws(i + 1);
                    if (at(i) == (object ? '}' : ']')) {
                        depth--;
                        i++;
                        break;                                     // an empty container is a whole value
                    }
                    if (object && (i = name(i)) < 0) {
                        return -1;
                    }
                    continue;                                      // its first value
                }
                case '"' -> {
                    i = string(i);
                    if (i < 0) {
                        return -1;
                    }
                }
                case 't' -> i = literal(i, "true") ? i + 4 : -1;
                case 'f' -> i = literal(i, "false") ? i + 5 : -1;
                case 'n' -> i = literal(i, "null") ? i + 4 : -1;
                default -> i = number(i);
            }
            if (i < 0) {
                return -1;
            }
            // a value ended: what follows it in its container
            while (true) {
                if (depth == 0) {
                    return i;
                }
                boolean object = (objects & (1L << (depth - 1))) != 0;
                i = ws(i);
                int c2 = at(i);
                if (c2 == ',') {
                    i = ws(i + 1);
                    if (object && (i = name(i)) < 0) {
                        return -1;
                    }
                    break;                                         // the next value
                }
                if (c2 != (object ? '}' : ']')) {
                    return -1;
                }
                depth--;
                i++;
            }
        }
    }

    /** A member's name and colon at {@code i}: the index of its value, or -1. */
    private int name(int i) {
        if (at(i) != '"') {
            return -1;
        }
        int after = string(i);
        if (after < 0 || after - i - 2 > MAX_NAME_LENGTH) {
            return -1;
        }
        i = ws(after);
        return at(i) == ':' ? ws(i + 1) : -1;
    }

    /**
     * The string whose opening quote is at {@code i}: the index just past its closing quote, or -1 when
     * it is not a valid JSON string. Runs of ordinary ASCII are passed eight bytes at a time.
     */
    private int string(int i) {
        escaped = false;
        int start = i;
        i++;
        while (true) {
            while (i + 8 <= end) {
                long x = (long) LONGS.get(b, i);
                long q = x ^ QUOTES;
                long s = x ^ BACKSLASHES;
                // a byte that is a quote, a backslash, a control character or not ASCII (exact for the lowest such byte)
                long special = (((q - ONES) & ~q) | ((s - ONES) & ~s) | ((x - SPACES) & ~x) | x) & HIGHS;
                if (special != 0) {
                    i += Long.numberOfTrailingZeros(special) >>> 3;
                    break;
                }
                i += 8;
            }
            if (i >= end) {
                return -1;
            }
            int c = b[i] & 0xff;
            if (c == '"') {
                return i + 1 - start - 2 > MAX_STRING_LENGTH ? -1 : i + 1;
            }
            if (c == '\\') {
                escaped = true;
                i = escape(i + 1);
            } else if (c < 0x20) {
                return -1;
            } else if (c >= 0x80) {
                i = utf8(i, c);
            } else {
                i++;
            }
            if (i < 0) {
                return -1;
            }
        }
    }

    private int escape(int i) {
        int c = at(i);
        switch (c) {
            case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> {
                return i + 1;
            }
            case 'u' -> {
                for (int k = 1; k <= 4; k++) {
                    if (Character.digit(at(i + k), 16) < 0) {
                        return -1;
                    }
                }
                return i + 5;
            }
            default -> {
                return -1;
            }
        }
    }

    /** A well-formed multi-byte UTF-8 sequence whose lead byte {@code c} is at {@code i}: the index after it, or -1. */
    private int utf8(int i, int c) {
        int continuation;
        if (c >= 0xc2 && c <= 0xdf) {
            continuation = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            continuation = 2;
        } else if (c >= 0xf0 && c <= 0xf4) {
            continuation = 3;
        } else {
            return -1;
        }
        for (int k = 1; k <= continuation; k++) {
            if ((at(i + k) & 0xc0) != 0x80) {
                return -1;
            }
        }
        return i + 1 + continuation;
    }

    /** A JSON number at {@code i}: the index after it, or -1. */
    private int number(int i) {
        int start = i;
        if (at(i) == '-') {
            i++;
        }
        int c = at(i);
        if (c == '0') {
            i++;
        } else if (c >= '1' && c <= '9') {
            i = digits(i);
        } else {
            return -1;
        }
        if (at(i) == '.') {
            int after = digits(i + 1);
            if (after == i + 1) {
                return -1;
            }
            i = after;
        }
        c = at(i);
        if (c == 'e' || c == 'E') {
            i++;
            c = at(i);
            if (c == '+' || c == '-') {
                i++;
            }
            int after = digits(i);
            if (after == i) {
                return -1;
            }
            i = after;
        }
        return i - start > MAX_NUMBER_LENGTH ? -1 : i;
    }

    private int digits(int i) {
        while (i < end && b[i] >= '0' && b[i] <= '9') {
            i++;
        }
        return i;
    }

    /**
     * A whole number spanning {@code [from, to)} as Jackson reads it, -1 for any other value, or
     * {@link #UNDECIDED} for one of 19 digits or more (past or near a long's range: Jackson's to read).
     */
    private long wholeNumber(int from, int to) {
        boolean negative = b[from] == '-';
        int i = negative ? from + 1 : from;
        if (i >= to || b[i] < '0' || b[i] > '9') {
            return -1;
        }
        if (to - i >= 19) {
            return UNDECIDED;
        }
        long n = 0;
        for (; i < to; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) {
                return -1;                                         // a fraction or an exponent: not a whole number
            }
            n = n * 10 + d;
        }
        return negative ? -n : n;
    }

    private int ws(int i) {
        while (i < end) {
            byte c = b[i];
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                return i;
            }
            i++;
        }
        return i;
    }

    private int at(int i) {
        return i >= 0 && i < end ? b[i] & 0xff : -1;
    }

    private boolean literal(int i, String word) {
        if (i + word.length() > end) {
            return false;
        }
        for (int k = 0; k < word.length(); k++) {
            if (b[i + k] != word.charAt(k)) {
                return false;
            }
        }
        // "truex" is not a literal followed by garbage to Jackson either, but let it decide
        int next = at(i + word.length());
        return next < 0 || !(Character.isLetterOrDigit(next) || next == '_' || next >= 0x80);
    }

    private boolean is(int from, int length, byte[] name) {
        if (length != name.length) {
            return false;
        }
        for (int k = 0; k < length; k++) {
            if (b[from + k] != name[k]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}

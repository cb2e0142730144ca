package ai.finops.gateway.translate;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.CompositeByteBuf;
import java.io.IOException;
import java.io.InputStream;
import java.util.regex.Pattern;

/**
 * What the gateway needs from a Messages request body, found in one streaming pass that also proves
 * the body is well-formed JSON: the top-level {@code model} (and where its bytes are) and
 * {@code stream}. No tree is built; the body is forwarded as the client sent it, with only the model
 * value spliced when routing changes it.
 */
public final class RequestBody {
    private static final JsonFactory JSON = JsonFactory.builder().build();

    private final String model;
    private final boolean stream;
    private final int modelStart;   // offset of the model value's opening quote
    private final int modelEnd;     // offset just past its closing quote
    private final long maxTokens;   // the top-level max_tokens, or -1
    private final int size;

    private RequestBody(String model, boolean stream, int modelStart, int modelEnd, long maxTokens, int size) {
        this.model = model;
        this.stream = stream;
        this.modelStart = modelStart;
        this.modelEnd = modelEnd;
        this.maxTokens = maxTokens;
        this.size = size;
    }

    /** Thrown for a body that is not a JSON object or lacks a string {@code model}. */
    public static final class InvalidBody extends Exception {
        public InvalidBody(String message) {
            super(message, null, false, false);
        }
    }

    static RequestBody of(String model, boolean stream, int modelStart, int modelEnd, long maxTokens, int size) {
        return new RequestBody(model, stream, modelStart, modelEnd, maxTokens, size);
    }

    /**
     * Scans {@code body} (readable bytes; the reader index is not moved): {@link QuickScan} for the
     * usual body, Jackson's streaming parser for whatever it leaves undecided (and for the precise
     * error of a body that is not JSON).
     */
    public static RequestBody scan(ByteBuf body) throws InvalidBody {
        RequestBody quick = QuickScan.scan(body);
        return quick != null ? quick : parse(body);
    }

    /** The whole scan by Jackson's streaming parser. */
    static RequestBody parse(ByteBuf body) throws InvalidBody {
        String model = null;
        boolean stream = false;
        boolean seenStream = false;
        boolean seenMaxTokens = false;
        long maxTokens = -1;
        int modelStart = -1, modelEnd = -1;
        try (JsonParser p = parser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new InvalidBody("request body must be a JSON object");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (("model".equals(field) && model != null) || ("stream".equals(field) && seenStream)
                        || ("max_tokens".equals(field) && seenMaxTokens)) {
                    // the gateway would authorise and route one value while a provider might read the other
                    throw new InvalidBody(field + ": given more than once");
                }
                if ("model".equals(field)) {
                    if (value != JsonToken.VALUE_STRING) {
                        throw new InvalidBody("model: must be a string");
                    }
                    modelStart = (int) p.currentTokenLocation().getByteOffset();
                    model = p.getText();
                    modelEnd = (int) p.currentLocation().getByteOffset();
                } else if ("stream".equals(field)) {
                    if (value != JsonToken.VALUE_TRUE && value != JsonToken.VALUE_FALSE) {
                        throw new InvalidBody("stream: must be a boolean");
                    }
                    stream = value == JsonToken.VALUE_TRUE;
                    seenStream = true;
                } else if ("max_tokens".equals(field)) {
                    // what a budget reserves for the output; one that is not a whole number is the provider's to refuse
                    if (value == JsonToken.VALUE_NUMBER_INT) {
                        maxTokens = p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? Long.MAX_VALUE : p.getLongValue();
                    }
                    seenMaxTokens = true;
                    p.skipChildren();
                } else {
                    p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw new InvalidBody("request body is not valid JSON");
            }
            if (p.nextToken() != null) {
                throw new InvalidBody("request body has content after the JSON object");
            }
        } catch (IOException e) {
            throw new InvalidBody(notValidJson(e));
        }
        if (model == null) {
            throw new InvalidBody("model: field required");
        }
        return new RequestBody(model, stream, modelStart, modelEnd, maxTokens, body.readableBytes());
    }

    /**
     * A parser over the body without copying it into a new array: the array itself when the buffer
     * has one, else a stream that Jackson reads through its own recycled buffers (the usual case:
     * sockets fill direct buffers, and a copy per request would be 88 KB of garbage).
     */
    private static JsonParser parser(ByteBuf body) throws IOException {
        if (body.hasArray()) {
            return JSON.createParser(body.array(), body.arrayOffset() + body.readerIndex(), body.readableBytes());
        }
        return JSON.createParser((InputStream) new ByteBufInputStream(body.duplicate()));
    }

    public String model() {
        return model;
    }

    /** The top-level {@code max_tokens}, or -1 when the body has none that is a whole number. */
    public long maxTokens() {
        return maxTokens;
    }

    /** The body's size in bytes, as the client sent it. */
    public int size() {
        return size;
    }

    public boolean stream() {
        return stream;
    }

    /**
     * The body to send upstream: {@code body} itself (retained) when the model is unchanged, else a
     * composite of the untouched bytes around the new model value. The caller owns the result.
     */
    public ByteBuf withModel(ByteBuf body, String newModel, ByteBufAllocator alloc) {
        if (newModel.equals(model)) {
            return body.retainedDuplicate();
        }
        byte[] encoded = quote(newModel);
        int base = body.readerIndex();
        CompositeByteBuf out = alloc.compositeBuffer(3);
        out.addComponent(true, body.retainedSlice(base, modelStart));
        // from the allocator (direct), never a heap wrapper: one heap component makes the native
        // transport copy the whole composite into a new buffer instead of writing it with writev
        out.addComponent(true, alloc.buffer(encoded.length).writeBytes(encoded));
        out.addComponent(true, body.retainedSlice(base + modelEnd, body.readableBytes() - modelEnd));
        return out;
    }

    private static byte[] quote(String value) {
        byte[] inner = JsonStringEncoder.getInstance().quoteAsUTF8(value);
        byte[] out = new byte[inner.length + 2];
        out[0] = '"';
        System.arraycopy(inner, 0, out, 1, inner.length);
        out[out.length - 1] = '"';
        return out;
    }

    /**
     * "request body is not valid JSON: " and what the parser found where, in the gateway's words: no
     * parser class, source description or token names, e.g. {@code unexpected end of input at line 1,
     * column 57}.
     */
    public static String notValidJson(IOException e) {
        String what;
        String detail = null;
        String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        m = m == null ? "unreadable input" : m.strip();
        if (e instanceof JsonEOFException || m.startsWith("Unexpected end-of-input")) {
            what = "unexpected end of input";
        } else {
            int source = m.indexOf("[Source:");
            if (source >= 0) {
                int open = m.lastIndexOf(" (", source);
                m = m.substring(0, open >= 0 ? open : source).strip();
            }
            m = CHARACTER.matcher(m).replaceAll("'$1'");
            m = CONTROL.matcher(m).replaceAll("(control character $1)");
            int colon = m.indexOf(": ");
            what = colon < 0 ? m : m.substring(0, colon);
            if (colon >= 0 && !m.startsWith("was expecting (", colon + 2)) {   // not the parser's list of token kinds
                detail = m.substring(colon + 2);
            }
            what = what.isEmpty() ? "unreadable input" : Character.toLowerCase(what.charAt(0)) + what.substring(1);
        }
        JsonLocation at = e instanceof JsonProcessingException j ? j.getLocation() : null;
        StringBuilder sb = new StringBuilder("request body is not valid JSON: ").append(what);
        if (at != null && at.getLineNr() > 0) {
            sb.append(" at line ").append(at.getLineNr()).append(", column ").append(at.getColumnNr());
        }
        if (detail != null && !detail.isBlank()) {
            sb.append(" (").append(detail.strip()).append(')');
        }
        return sb.toString();
    }

    /** Jackson's {@code (']' (code 93))}. */
    private static final Pattern CHARACTER = Pattern.compile("\\('(.{1,2})' \\(code \\d+\\)\\)");
    /** Jackson's {@code ((CTRL-CHAR, code 1))}. */
    private static final Pattern CONTROL = Pattern.compile("\\(\\(CTRL-CHAR, code (\\d+)\\)\\)");
}

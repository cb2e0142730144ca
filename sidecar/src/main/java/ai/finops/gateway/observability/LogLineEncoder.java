package ai.finops.gateway.observability;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import org.slf4j.event.KeyValuePair;

/**
 * Every log line of the gateway, in the format {@code FINOPS_LOG_FORMAT} names (logback.xml passes it as
 * {@code format}): {@code text} (the default), {@code time LEVEL [thread] Logger message key="value" ...}, or
 * {@code json}, one object a line for Loki or Elastic: {@code time}, {@code level}, {@code logger}, {@code thread},
 * {@code message}, then the line's key-value pairs as fields, numbers as numbers and booleans as booleans, and
 * {@code stack_trace} when there is one. A pair whose value is null is left out in both formats, so no line
 * ever says {@code null} for a value it does not have. Decimals are written plainly ({@code 0.0000003}, never
 * {@code 3E-7}).
 */
public final class LogLineEncoder extends EncoderBase<ILoggingEvent> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneId.systemDefault());

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private boolean json;
    /** The last second formatted, reused for the lines of that second (formatting a time costs more than the rest of a line). */
    private volatile Second second = new Second(Long.MIN_VALUE, "");

    private record Second(long epochSecond, String formatted) {}

    /** {@code text} or {@code json}, any case; anything else is text, with a warning in logback's status. */
    public void setFormat(String format) {
        String f = format == null ? "" : format.trim().toLowerCase(Locale.ROOT);
        json = f.equals("json");
        if (!json && !f.isEmpty() && !f.equals("text")) {
            addWarn("FINOPS_LOG_FORMAT '" + format + "' is neither text nor json: logging as text");
        }
    }

    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        StringBuilder b = new StringBuilder(1024);
        appendLine(event, b);
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Appends the event's line (and its stack trace), newline included: what {@link BatchingStdoutAppender} batches. */
    public void appendLine(ILoggingEvent event, StringBuilder b) {
        if (json) {
            json(event, b);
        } else {
            text(event, b);
        }
    }

    /** {@code yyyy-MM-dd'T'HH:mm:ss.SSSXXX} in the system's zone. */
    private void time(long epochMilli, StringBuilder b) {
        long epochSecond = Math.floorDiv(epochMilli, 1000);
        Second s = second;
        if (s.epochSecond() != epochSecond) {
            s = new Second(epochSecond, TIME.format(Instant.ofEpochSecond(epochSecond)));
            second = s;
        }
        int millis = (int) Math.floorMod(epochMilli, 1000);
        b.append(s.formatted(), 0, 20).append((char) ('0' + millis / 100)).append((char) ('0' + millis / 10 % 10))
                .append((char) ('0' + millis % 10)).append(s.formatted(), 23, s.formatted().length());
    }

    private void text(ILoggingEvent e, StringBuilder b) {
        time(e.getTimeStamp(), b);
        String level = e.getLevel().toString();
        b.append(' ').append(level);
        for (int i = level.length(); i < 5; i++) {
            b.append(' ');
        }
        String logger = e.getLoggerName();
        b.append(" [").append(e.getThreadName()).append("] ").append(logger, logger.lastIndexOf('.') + 1, logger.length())
                .append(' ').append(e.getFormattedMessage());
        List<KeyValuePair> pairs = e.getKeyValuePairs();
        if (pairs != null) {
            for (KeyValuePair p : pairs) {
                if (p.value != null) {
                    b.append(' ').append(p.key).append("=\"").append(p.value instanceof BigDecimal d ? d.toPlainString() : p.value).append('"');
                }
            }
        }
        b.append('\n');
        IThrowableProxy thrown = e.getThrowableProxy();
        if (thrown != null) {
            b.append(ThrowableProxyUtil.asString(thrown)).append('\n');
        }
    }

    private void json(ILoggingEvent e, StringBuilder b) {
        b.append("{\"time\":\"");
        time(e.getTimeStamp(), b);
        b.append("\",\"level\":\"").append(e.getLevel()).append("\",\"logger\":");
        string(b, e.getLoggerName());
        b.append(",\"thread\":");
        string(b, e.getThreadName());
        b.append(",\"message\":");
        string(b, e.getFormattedMessage());
        List<KeyValuePair> pairs = e.getKeyValuePairs();
        if (pairs != null) {
            for (KeyValuePair p : pairs) {
                if (p.value != null) {
                    b.append(",\"").append(p.key).append("\":");     // keys are the code's own identifiers: nothing to escape
                    value(b, p.value);
                }
            }
        }
        IThrowableProxy thrown = e.getThrowableProxy();
        if (thrown != null) {
            b.append(",\"stack_trace\":");
            string(b, ThrowableProxyUtil.asString(thrown));
        }
        b.append("}\n");
    }

    /** A number as a JSON number (a non-finite double as a string), a boolean as one, anything else as its string. */
    private static void value(StringBuilder b, Object v) {
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte || v instanceof BigInteger
                || v instanceof Boolean) {
            b.append(v);
        } else if (v instanceof BigDecimal d) {
            b.append(d.toPlainString());
        } else if ((v instanceof Double || v instanceof Float) && Double.isFinite(((Number) v).doubleValue())) {
            b.append(v);
        } else {
            string(b, v.toString());
        }
    }

    /** A JSON string: quotes, backslashes and control characters escaped; a string with none of them appended whole. */
    private static void string(StringBuilder b, String s) {
        b.append('"');
        int from = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\') {
                continue;
            }
            b.append(s, from, i);
            from = i + 1;
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> b.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
            }
        }
        b.append(s, from, s.length()).append('"');
    }
}

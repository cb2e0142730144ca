package ai.finops.gateway.observability;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;

class LogLineEncoderTest {
    final LoggerContext context = new LoggerContext();

    LoggingEvent event(Throwable thrown) {
        LoggingEvent e = new LoggingEvent("fqcn", context.getLogger("ai.finops.gateway.access"), Level.INFO, "request \"quoted\"\n", thrown,
                null);
        e.setThreadName("finops-io-1");
        e.setTimeStamp(1_765_000_000_123L);
        e.addKeyValuePair(new KeyValuePair("request_id", "fgw_1"));
        e.addKeyValuePair(new KeyValuePair("session_id", null));
        e.addKeyValuePair(new KeyValuePair("status", 200));
        e.addKeyValuePair(new KeyValuePair("input_tokens", 12_345_678_901L));
        e.addKeyValuePair(new KeyValuePair("duration_ms", 12.5));
        e.addKeyValuePair(new KeyValuePair("cost_usd", new BigDecimal("0.0000003")));
        e.addKeyValuePair(new KeyValuePair("governed", true));
        e.addKeyValuePair(new KeyValuePair("failed_attempts", "a\\b\tc\u0001"));
        return e;
    }

    String encode(String format, LoggingEvent e) {
        LogLineEncoder encoder = new LogLineEncoder();
        encoder.setContext(context);
        encoder.setFormat(format);
        encoder.start();
        return new String(encoder.encode(e), StandardCharsets.UTF_8);
    }

    @Test
    void jsonIsOneObjectALineWithTypedFieldsAndNoNull() throws Exception {
        String line = encode("JSON", event(null));
        assertThat(line).endsWith("}\n").containsOnlyOnce("\n").doesNotContain("null");
        JsonNode json = new ObjectMapper().readTree(line);
        assertThat(json.get("level").asText()).isEqualTo("INFO");
        assertThat(json.get("logger").asText()).isEqualTo("ai.finops.gateway.access");
        assertThat(json.get("thread").asText()).isEqualTo("finops-io-1");
        assertThat(json.get("message").asText()).isEqualTo("request \"quoted\"\n");
        assertThat(json.get("time").asText()).matches("2025-12-0\\dT\\d\\d:\\d\\d:\\d\\d\\.123(Z|[+-]\\d\\d:\\d\\d)");
        assertThat(json.get("request_id").isTextual()).isTrue();
        assertThat(json.get("status").isInt()).isTrue();
        assertThat(json.get("input_tokens").asLong()).isEqualTo(12_345_678_901L);
        assertThat(json.get("duration_ms").isDouble()).isTrue();
        assertThat(json.get("cost_usd").isNumber()).isTrue();
        assertThat(json.get("cost_usd").decimalValue()).isEqualByComparingTo("0.0000003");
        assertThat(line).contains("\"cost_usd\":0.0000003");
        assertThat(json.get("governed").isBoolean()).isTrue();
        assertThat(json.get("failed_attempts").asText()).isEqualTo("a\\b\tc\u0001");
        assertThat(json.has("session_id")).isFalse();
    }

    @Test
    void jsonCarriesTheStackTraceInItsLine() throws Exception {
        String line = encode("json", event(new IllegalStateException("boom")));
        assertThat(line).containsOnlyOnce("\n");
        assertThat(new ObjectMapper().readTree(line).get("stack_trace").asText()).contains("IllegalStateException: boom")
                .contains("at ai.finops.gateway.observability.LogLineEncoderTest");
    }

    @Test
    void textIsTheFormerPatternWithoutNullsAndWithPlainDecimals() {
        String line = encode("text", event(null));
        assertThat(line).matches("(?s)\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.123\\S+ INFO  \\[finops-io-1\\] access request .*\n");
        assertThat(line).contains(" request_id=\"fgw_1\" status=\"200\" input_tokens=\"12345678901\" duration_ms=\"12.5\" cost_usd=\"0.0000003\"")
                .doesNotContain("session_id").doesNotContain("null");
    }

    @Test
    void anUnknownFormatIsText() {
        assertThat(encode("yaml", event(null))).doesNotStartWith("{");
        assertThat(encode("", event(null))).doesNotStartWith("{");
    }
}

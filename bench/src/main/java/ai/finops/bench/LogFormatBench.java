package ai.finops.bench;

import ai.finops.gateway.observability.LogLineEncoder;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.event.KeyValuePair;

/**
 * What formatting one access line costs, text against JSON, side by side in one run: the gateway's encoder in
 * each format, and the logback pattern the text format replaced as the baseline. Rounds alternate between the
 * three so that warm-up and machine noise fall on all of them alike; the best round of each is reported, in
 * nanoseconds per line, with the ratios. {@code java -cp bench/target/finops-bench.jar ai.finops.bench.LogFormatBench
 * [rounds] [lines per round]}.
 */
public final class LogFormatBench {
    private static final String FORMER_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{0} %msg %kvp%n%ex";

    private LogFormatBench() {}

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        int lines = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
        LoggerContext context = new LoggerContext();
        ILoggingEvent event = accessLine(context);
        Map<String, Encoder<ILoggingEvent>> encoders = new LinkedHashMap<>();
        encoders.put("former pattern", former(context));
        encoders.put("text", encoder(context, "text"));
        encoders.put("json", encoder(context, "json"));
        Map<String, Double> best = new LinkedHashMap<>();
        long sink = 0;
        for (int round = 0; round < rounds; round++) {
            for (Map.Entry<String, Encoder<ILoggingEvent>> e : encoders.entrySet()) {
                long start = System.nanoTime();
                for (int i = 0; i < lines; i++) {
                    sink += e.getValue().encode(event).length;
                }
                double perLine = (System.nanoTime() - start) / (double) lines;
                best.merge(e.getKey(), perLine, Math::min);
            }
        }
        best.forEach((name, ns) -> System.out.printf("{\"encoder\":\"%s\",\"ns_per_line\":%.1f}%n", name, ns));
        System.out.printf("json/text %.2fx, text/former %.2fx, json/former %.2fx (lower is faster; %d bytes encoded)%n",
                best.get("json") / best.get("text"), best.get("text") / best.get("former pattern"),
                best.get("json") / best.get("former pattern"), sink);
    }

    /** An access line as the gateway writes one for a served Claude Code request. */
    static ILoggingEvent accessLine(LoggerContext context) {
        LoggingEvent e = new LoggingEvent("bench", context.getLogger("ai.finops.gateway.access"), Level.INFO, "request", null, null);
        e.setThreadName("finops-io-3");
        Object[] pairs = {"request_id", "fgw_5f3a2c_1842", "upstream_request_id", "req_011CVxyz9AbCdEfGhIjKlMn",
            "session_id", "5b6f2a4e-8c1d-4e7f-9a3b-2c6d8e0f1a2b", "trace_id", "4bf92f3577b34da6a3ce929d0e0e4736",
            "virtual_key", "alice", "path", "/v1/messages", "requested_model", "sonnet-model", "route", "claude-code-sonnet",
            "deployment", "anthropic-prod", "model", "claude-sonnet-4-6", "status", 200, "outcome", "ok", "attempts", 1,
            "ttfb_ms", 412.337, "duration_ms", 8123.904, "input_tokens", 3L, "output_tokens", 512L, "cache_creation_input_tokens", 1204L,
            "cache_read_input_tokens", 21890L, "cost_usd", new BigDecimal("0.019647")};
        for (int i = 0; i < pairs.length; i += 2) {
            e.addKeyValuePair(new KeyValuePair((String) pairs[i], pairs[i + 1]));
        }
        return e;
    }

    private static Encoder<ILoggingEvent> encoder(LoggerContext context, String format) {
        LogLineEncoder encoder = new LogLineEncoder();
        encoder.setContext(context);
        encoder.setFormat(format);
        encoder.start();
        return encoder;
    }

    private static Encoder<ILoggingEvent> former(LoggerContext context) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(FORMER_PATTERN);
        encoder.start();
        return encoder;
    }
}

package ai.finops.testkit;

import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;

/**
 * A collector of OTLP/HTTP traces ({@code POST /v1/traces}, protobuf, gzip or not) that keeps what it
 * receives, for tests to read; {@code java -cp finops-testkit.jar ai.finops.testkit.OtlpReceiver [--port 4318] [--print]}
 * runs one that counts (the benchmark's collector) or, with {@code --print}, prints each span on a line.
 */
public final class OtlpReceiver implements AutoCloseable {
    /** A span as exported: ids in hex, attributes as plain values (strings, longs, doubles, booleans, lists). */
    public record ReceivedSpan(String traceId, String spanId, String parentSpanId, String name, Span.SpanKind kind,
            Map<String, Object> attributes, Status.StatusCode status, Map<String, Object> resource, long startNanos, long endNanos) {
        public Object attribute(String key) {
            return attributes.get(key);
        }

        public boolean error() {
            return status == Status.StatusCode.STATUS_CODE_ERROR;
        }
    }

    private final HttpServer server;
    private final boolean keep;
    private final boolean print;
    private final List<ReceivedSpan> spans = new ArrayList<>();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();

    private OtlpReceiver(HttpServer server, boolean keep, boolean print) {
        this.server = server;
        this.keep = keep;
        this.print = print;
        server.createContext("/v1/traces", this::export);
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "otlp-receiver");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    /** A receiver on a free loopback port that keeps every span. */
    public static OtlpReceiver start() throws IOException {
        return start(0);
    }

    /** A receiver on loopback port {@code port} (0: any free one) that keeps every span. */
    public static OtlpReceiver start(int port) throws IOException {
        return new OtlpReceiver(HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0), true, false);
    }

    /** The base URL, as {@code OTEL_EXPORTER_OTLP_ENDPOINT} takes it. */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Export requests received. */
    public long requests() {
        return requests.get();
    }

    /** Spans received. */
    public long received() {
        return received.get();
    }

    public synchronized List<ReceivedSpan> spans() {
        return List.copyOf(spans);
    }

    public synchronized void clear() {
        spans.clear();
    }

    /** The spans that match, once there are {@code n} of them (export is batched: they come late). */
    public List<ReceivedSpan> await(int n, Predicate<ReceivedSpan> matching, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<ReceivedSpan> found = spans().stream().filter(matching).toList();
            if (found.size() >= n || System.nanoTime() > deadline) {
                return found;
            }
            Thread.sleep(20);
        }
    }

    private void export(HttpExchange exchange) throws IOException {
        try (exchange) {
            ExportTraceServiceRequest request;
            try (InputStream body = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("content-encoding"))
                    ? new GZIPInputStream(exchange.getRequestBody()) : exchange.getRequestBody()) {
                request = ExportTraceServiceRequest.parseFrom(body);
            }
            requests.incrementAndGet();
            for (ResourceSpans rs : request.getResourceSpansList()) {
                Map<String, Object> resource = values(rs.getResource().getAttributesList());
                for (ScopeSpans ss : rs.getScopeSpansList()) {
                    received.addAndGet(ss.getSpansCount());
                    if (keep) {
                        ss.getSpansList().forEach(s -> add(s, resource));
                    }
                    if (print) {
                        ss.getSpansList().forEach(s -> System.out.println(line(s)));
                    }
                }
            }
            byte[] answer = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
            exchange.getResponseHeaders().set("content-type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, answer.length == 0 ? -1 : answer.length);
            exchange.getResponseBody().write(answer);
        }
    }

    private synchronized void add(Span s, Map<String, Object> resource) {
        spans.add(new ReceivedSpan(hex(s.getTraceId()), hex(s.getSpanId()), s.getParentSpanId().isEmpty() ? null : hex(s.getParentSpanId()),
                s.getName(), s.getKind(), values(s.getAttributesList()), s.getStatus().getCode(), resource, s.getStartTimeUnixNano(),
                s.getEndTimeUnixNano()));
    }

    private static String line(Span s) {
        return hex(s.getTraceId()) + " " + hex(s.getSpanId()) + " parent=" + (s.getParentSpanId().isEmpty() ? "-" : hex(s.getParentSpanId()))
                + " " + s.getKind().name().substring("SPAN_KIND_".length()) + " \"" + s.getName() + "\" "
                + (s.getEndTimeUnixNano() - s.getStartTimeUnixNano()) / 1000 + "us " + s.getStatus().getCode().name().substring("STATUS_CODE_".length())
                + " " + values(s.getAttributesList());
    }

    private static Map<String, Object> values(List<KeyValue> attributes) {
        Map<String, Object> values = new LinkedHashMap<>();
        attributes.forEach(kv -> values.put(kv.getKey(), value(kv.getValue())));
        return values;
    }

    private static Object value(AnyValue v) {
        return switch (v.getValueCase()) {
            case STRING_VALUE -> v.getStringValue();
            case INT_VALUE -> v.getIntValue();
            case DOUBLE_VALUE -> v.getDoubleValue();
            case BOOL_VALUE -> v.getBoolValue();
            case ARRAY_VALUE -> v.getArrayValue().getValuesList().stream().map(OtlpReceiver::value).toList();
            default -> v.toString();
        };
    }

    private static String hex(ByteString id) {
        return HexFormat.of().formatHex(id.toByteArray());
    }

    @Override
    public void close() {
        server.stop(0);
    }

    public static void main(String[] args) throws Exception {
        int port = 4318;
        boolean print = false;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--port")) {
                port = Integer.parseInt(args[++i]);
            } else if (args[i].equals("--print")) {
                print = true;
            }
        }
        OtlpReceiver receiver = new OtlpReceiver(HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0), false, print);
        System.out.println("OTLP/HTTP receiver listening on " + receiver.endpoint());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("spans received: " + receiver.received()
                + " in " + receiver.requests() + " export requests")));
        Thread.currentThread().join();
    }
}

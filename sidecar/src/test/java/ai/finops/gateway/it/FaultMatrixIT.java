package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.RawUpstream;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every upstream fault, streaming and not, for an Anthropic client ({@code /anthropic/v1/messages})
 * and an OpenAI client ({@code /openai/v1/chat/completions}), each case asserting exactly three
 * things: what the client gets, the access line's outcome and status, and how many times the provider
 * saw the request.
 *
 * <p>The deployment under test ({@code raw}, a {@link RawUpstream}) is the rule's only attempt
 * ({@code retries.attempts: 1}, no fallback) with short timeouts (first byte 1 s, idle 1 s), so each
 * expectation is crisp and every case ends within a couple of seconds. The expectations follow the
 * README ("How a request flows", "Design notes", {@code timeouts.*}):
 * <ul>
 * <li>Before anything reached the client, a failure is a status and an error body in the client's
 *     own dialect: 502 {@code api_error} (refused, reset, closed, a head that does not parse, an
 *     answer that broke off before the client got any of it), 504 {@code timeout_error} (no head in
 *     time), or the provider's own error, whole, with its wording. Logged {@code upstream_error}
 *     with that status.</li>
 * <li>Once a stream reached the client, a failure ends it with an SSE error event (Anthropic:
 *     {@code event: error}; OpenAI: a {@code data:} line holding an error object) after the whole
 *     events relayed so far, never half of one, never {@code message_stop} or {@code [DONE]}; then the
 *     connection closes. A plain body the client already has the head of is cut short: no
 *     terminating chunk, fewer bytes than its {@code content-length}, a closed connection. Logged
 *     {@code upstream_<kind>} with the status the client got.</li>
 * <li>A request written to the provider is never sent again outside its configured attempts: the
 *     provider sees it once (never, when nothing listens).</li>
 * </ul>
 * An OpenAI client's non-streaming answer is translated whole, so it has received nothing when the
 * provider's body breaks off: for it, that is a failure before the first byte.
 *
 * <p>The provider answers as the Anthropic Messages API does (bodies as the testkit simulator
 * renders them, SSE in chunked transfer encoding, {@code request-id} headers). Faults that only an
 * event stream can have run in streaming mode only; their plain-body counterparts are the partial
 * body and short {@code content-length} rows.
 */
@ExtendWith(NettyLeakDetector.class)
class FaultMatrixIT {


    /** Well past the slowest expected answer (a 1 s timeout), well short of a hang. */
    static final Duration CLIENT_DEADLINE = Duration.ofSeconds(4);
    static final ObjectMapper JSON = new ObjectMapper();

    // ---- what the provider sends: the Anthropic Messages API's own bodies ----------------------------

    static final String TEXT = "Hello! How can I help you today?";
    static final String MESSAGE = "{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-6\","
            + "\"content\":[{\"type\":\"text\",\"text\":\"" + TEXT + "\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,"
            + "\"usage\":{\"input_tokens\":8,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":12}}";
    static final String MESSAGE_START = event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\","
            + "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-6\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
            + "\"usage\":{\"input_tokens\":8,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}");
    static final String PING = event("ping", "{\"type\":\"ping\"}");
    static final String BLOCK_START = event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
    static final String DELTA_1 = delta("Hello! How");
    static final String DELTA_2 = delta(" can I help you today?");
    static final String BLOCK_STOP = event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
    static final String MESSAGE_DELTA = event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},"
            + "\"usage\":{\"output_tokens\":12}}");
    static final String MESSAGE_STOP = event("message_stop", "{\"type\":\"message_stop\"}");
    static final List<String> EVENTS = List.of(MESSAGE_START, PING, BLOCK_START, DELTA_1, DELTA_2, BLOCK_STOP, MESSAGE_DELTA, MESSAGE_STOP);
    static final String STREAM = String.join("", EVENTS);
    static final String OVERLOADED_503 = "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"Service temporarily unavailable\"},"
            + "\"request_id\":\"req_011CSHoEeqs5C35K2UUqR7Fy\"}";

    static final String JSON_HEAD = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nrequest-id: req_011CSHoEeqs5C35K2UUqR7Fy\r\n";
    static final String SSE_HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\n"
            + "request-id: req_011CSHoEeqs5C35K2UUqR7Fy\r\n";
    /** A streamed response's head, then its body in chunked transfer encoding, one event per chunk. */
    static final String SSE_CHUNKED_HEAD = SSE_HEAD + "transfer-encoding: chunked\r\n\r\n";
    static final String LAST_CHUNK = "0\r\n\r\n";
    /** Bytes that settle on the gateway's side before the connection breaks, so each case is deterministic. */
    static final Duration SETTLE = Duration.ofMillis(100);

    static String event(String name, String data) {
        return "event: " + name + "\ndata: " + data + "\n\n";
    }

    static String delta(String text) {
        return event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"" + text + "\"}}");
    }

    static String chunks(String... parts) {
        StringBuilder sb = new StringBuilder();
        for (String p : parts) {
            sb.append(Integer.toHexString(p.getBytes(StandardCharsets.UTF_8).length)).append("\r\n").append(p).append("\r\n");
        }
        return sb.toString();
    }

    static String jsonHead(int contentLength) {
        return JSON_HEAD + "content-length: " + contentLength + "\r\n\r\n";
    }

    /** A whole, correct answer: the message, or its stream. */
    static String whole(boolean stream) {
        return stream ? SSE_CHUNKED_HEAD + chunks(EVENTS.toArray(String[]::new)) + LAST_CHUNK : jsonHead(MESSAGE.length()) + MESSAGE;
    }

    /** What the provider does once it has read the request, and which modes it applies to. */
    enum Fault {
        /** Nothing listens on the deployment's port. */
        REFUSED(true),
        RESET_BEFORE_HEAD(true),
        CLOSE_BEFORE_HEAD(true),
        /** No response head within the first-byte timeout. */
        SILENCE_BEFORE_HEAD(true),
        /** Not HTTP at all: another protocol's banner. */
        MALFORMED_HEAD(true),
        INTERIM_100_THEN_200(true),
        INTERIM_103_THEN_200(true),
        /** The provider's own error, whole. */
        STATUS_503(true),
        /** A 503 whose error body breaks off. */
        STATUS_503_HEAD_THEN_RESET(true),
        /** A 200 head, then a reset before any body byte. */
        HEAD_THEN_RESET(true),
        /** A 200 head and part of the body (half an event when streaming), then a reset. */
        PARTIAL_BODY_THEN_RESET(true),
        /** A 200 head and part of the body (half an event when streaming), then nothing past the idle timeout. */
        PARTIAL_BODY_THEN_SILENCE(true),
        /** Whole events, then a reset. */
        EVENTS_THEN_RESET(false),
        /** Whole events and a proper end of the HTTP body, but no message_stop: truncated. */
        EVENTS_THEN_CLOSE_TRUNCATED(false),
        /** Whole events, then one with no blank line after it, then a proper end of the HTTP body. */
        UNENDED_EVENT_THEN_CLOSE(false),
        /** A {@code content-length} larger than what arrives before the connection closes. */
        SHORT_CONTENT_LENGTH_THEN_CLOSE(true);

        final boolean plainToo;

        Fault(boolean plainToo) {
            this.plainToo = plainToo;
        }

        RawUpstream.Script script(boolean stream) {
            RawUpstream.Script s = RawUpstream.script();
            String partialJson = MESSAGE.substring(0, 60);
            String halfEvent = BLOCK_START.substring(0, 40);
            return switch (this) {
                case REFUSED -> s;
                case RESET_BEFORE_HEAD -> s.reset();
                case CLOSE_BEFORE_HEAD -> s.close();
                case SILENCE_BEFORE_HEAD -> s.silence();
                case MALFORMED_HEAD -> s.write("SSH-2.0-OpenSSH_9.6\r\n").silence();
                case INTERIM_100_THEN_200 -> s.write("HTTP/1.1 100 Continue\r\n\r\n").pause(Duration.ofMillis(50)).write(whole(stream));
                case INTERIM_103_THEN_200 -> s.write("HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload; as=style\r\n\r\n")
                        .pause(Duration.ofMillis(50)).write(whole(stream));
                case STATUS_503 -> s.write(RawUpstream.response(503, "application/json", OVERLOADED_503));
                case STATUS_503_HEAD_THEN_RESET -> s.write("HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: "
                        + OVERLOADED_503.length() + "\r\n\r\n" + OVERLOADED_503.substring(0, 30)).pause(SETTLE).reset();
                case HEAD_THEN_RESET -> s.write(stream ? SSE_CHUNKED_HEAD : jsonHead(MESSAGE.length())).pause(SETTLE).reset();
                case PARTIAL_BODY_THEN_RESET -> s.write(stream ? SSE_CHUNKED_HEAD + chunks(MESSAGE_START, halfEvent) : jsonHead(MESSAGE.length()) + partialJson)
                        .pause(SETTLE).reset();
                case PARTIAL_BODY_THEN_SILENCE -> s.write(stream ? SSE_CHUNKED_HEAD + chunks(MESSAGE_START, halfEvent) : jsonHead(MESSAGE.length()) + partialJson)
                        .silence();
                case EVENTS_THEN_RESET -> s.write(SSE_CHUNKED_HEAD + chunks(MESSAGE_START, PING, BLOCK_START, DELTA_1)).pause(SETTLE).reset();
                case EVENTS_THEN_CLOSE_TRUNCATED -> s.write(SSE_CHUNKED_HEAD + chunks(MESSAGE_START, PING, BLOCK_START, DELTA_1, DELTA_2, BLOCK_STOP) + LAST_CHUNK)
                        .pause(SETTLE).close();
                case UNENDED_EVENT_THEN_CLOSE -> s.write(SSE_CHUNKED_HEAD + chunks(MESSAGE_START, PING, BLOCK_START, DELTA_1,
                        DELTA_2.substring(0, DELTA_2.length() - 1)) + LAST_CHUNK).pause(SETTLE).close();
                case SHORT_CONTENT_LENGTH_THEN_CLOSE -> s.write(stream ? SSE_HEAD + "content-length: 4096\r\n\r\n" + MESSAGE_START + PING
                        : jsonHead(MESSAGE.length() + 100) + MESSAGE).pause(SETTLE).close();
            };
        }
    }

    enum Mode {
        NON_STREAMING, STREAMING;

        boolean stream() {
            return this == STREAMING;
        }

        @Override
        public String toString() {
            return this == STREAMING ? "streaming" : "non-streaming";
        }
    }

    enum Client {
        ANTHROPIC("/anthropic/v1/messages"), OPENAI("/openai/v1/chat/completions");

        final String path;

        Client(String path) {
            this.path = path;
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    // ---- what the client should get -------------------------------------------------------------------

    /** The answer a client should get. */
    sealed interface Expected permits Success, ErrorJson, StreamError, CutBody {}

    /** The provider's answer, whole: for the Anthropic client byte for byte. */
    record Success() implements Expected {}

    /** A status and an error body in the client's dialect; {@code message}, when given, is the provider's wording. */
    record ErrorJson(int status, String anthropicType, String message) implements Expected {}

    /** A 200 event stream: the whole events relayed (Anthropic bytes), then an error event, then the connection closes. */
    record StreamError(String relayedEvents) implements Expected {}

    /** A plain 200 body cut short: the bytes relayed, no clean end, the connection closed. */
    record CutBody(String relayed) implements Expected {}

    record Expectation(Expected answer, String outcome, int status, int providerSaw) {}

    static Expectation expectation(Fault fault, boolean stream, Client client) {
        boolean openAiWhole = client == Client.OPENAI && !stream;   // translated whole: nothing reached it before the end
        Expectation notRelayed = new Expectation(new ErrorJson(502, "api_error", null), "upstream_error", 502, 1);
        return switch (fault) {
            case REFUSED -> new Expectation(new ErrorJson(502, "api_error", null), "upstream_error", 502, 0);
            case RESET_BEFORE_HEAD, CLOSE_BEFORE_HEAD, MALFORMED_HEAD, STATUS_503_HEAD_THEN_RESET -> notRelayed;
            case SILENCE_BEFORE_HEAD -> new Expectation(new ErrorJson(504, "timeout_error", null), "upstream_error", 504, 1);
            case INTERIM_100_THEN_200, INTERIM_103_THEN_200 -> new Expectation(new Success(), "ok", 200, 1);
            case STATUS_503 -> new Expectation(new ErrorJson(503, "api_error", "Service temporarily unavailable"), "upstream_error", 503, 1);
            case HEAD_THEN_RESET -> openAiWhole ? notRelayed
                    : new Expectation(stream ? new StreamError("") : new CutBody(""), "upstream_reset", 200, 1);
            case PARTIAL_BODY_THEN_RESET -> openAiWhole ? notRelayed
                    : new Expectation(stream ? new StreamError(MESSAGE_START) : new CutBody(MESSAGE.substring(0, 60)), "upstream_reset", 200, 1);
            case PARTIAL_BODY_THEN_SILENCE -> openAiWhole ? notRelayed
                    : new Expectation(stream ? new StreamError(MESSAGE_START) : new CutBody(MESSAGE.substring(0, 60)), "upstream_idle", 200, 1);
            case EVENTS_THEN_RESET -> new Expectation(new StreamError(MESSAGE_START + PING + BLOCK_START + DELTA_1), "upstream_reset", 200, 1);
            case EVENTS_THEN_CLOSE_TRUNCATED -> new Expectation(new StreamError(MESSAGE_START + PING + BLOCK_START + DELTA_1 + DELTA_2 + BLOCK_STOP),
                    "upstream_truncated", 200, 1);
            case UNENDED_EVENT_THEN_CLOSE -> new Expectation(new StreamError(MESSAGE_START + PING + BLOCK_START + DELTA_1), "upstream_malformed", 200, 1);
            case SHORT_CONTENT_LENGTH_THEN_CLOSE -> openAiWhole ? notRelayed
                    : new Expectation(stream ? new StreamError(MESSAGE_START + PING) : new CutBody(MESSAGE), "upstream_reset", 200, 1);
        };
    }

    static String caseId(Fault fault, Mode mode, Client client) {
        return fault + " " + mode + " " + client;
    }

    // ---- the gateway and its providers --------------------------------------------------------------

    static RawUpstream raw;
    static Simulator healthy;
    static int closedPort;
    GatewayHarness harness;
    AccessLines access;

    @BeforeAll
    static void upstreams() throws IOException {
        raw = RawUpstream.start();
        healthy = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
    }

    @AfterAll
    static void stopUpstreams() {
        raw.close();
        healthy.close();
    }

    @BeforeEach
    void start() throws Exception {
        raw.clear();
        healthy.clearRequests();
        access = new AccessLines();
        String shortTimeouts = """
                timeouts: {connect: 1s, firstByte: 1s, idle: 1s}
                retries: {attempts: 1}
                """;
        harness = new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("raw", raw.baseUrl(), shortTimeouts)
                        + "---\n" + GatewayHarness.anthropicDeployment("dead", "http://127.0.0.1:" + closedPort, shortTimeouts)
                        + "---\n" + GatewayHarness.anthropicDeployment("healthy", healthy.baseUrl(), null))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .write("rules.yaml", rule("matrix", "raw", null) + "---\n" + rule("dead", "dead", null)
                        + "---\n" + rule("matrix-fallback", "raw", "healthy") + "---\n" + rule("dead-fallback", "dead", "healthy"))
                .start();
    }

    /** A rule for {@code <name>-model}: the deployment's claude-sonnet-4-6, then, if given, the fallback's. */
    static String rule(String name, String deployment, String fallback) {
        return """
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: %s}
                spec:
                  when: 'model == "%s-model"'
                  targets: [{model: %s/claude-sonnet-4-6}]
                %s""".formatted(name, name, deployment, fallback == null ? "" : "  fallbacks: [" + fallback + "/claude-sonnet-4-6]\n");
    }

    @AfterEach
    void stop() throws Exception {
        harness.close();
        access.close();
        await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10)).atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(raw.openConnections()).as("connections to the provider").isZero());
    }

    // ---- the matrix ---------------------------------------------------------------------------------

    static Stream<Arguments> matrix() {
        List<Arguments> cases = new ArrayList<>();
        for (Fault f : Fault.values()) {
            for (Mode m : Mode.values()) {
                if (m.stream() || f.plainToo) {
                    for (Client c : Client.values()) {
                        cases.add(Arguments.of(f, m, c));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("matrix")
    void eachFaultEndsInOneExactAnswer(Fault fault, Mode mode, Client client) throws Exception {
        String id = caseId(fault, mode, client);
        Expectation expected = expectation(fault, mode.stream(), client);
        raw.enqueue(fault.script(mode.stream()));

        Answer answer = send(client, fault == Fault.REFUSED ? "dead-model" : "matrix-model", mode.stream(), expected.answer() instanceof StreamError);

        try {
            assertAnswer(answer, expected.answer(), client, TEXT);
            Map<String, String> line = onlyAccessLine();
            assertThat(line).as("access line").containsEntry("outcome", expected.outcome()).containsEntry("status", Integer.toString(expected.status()))
                    .as("one upstream call, whatever its end").containsEntry("attempts", "1");
            assertThat(raw.requests()).as("requests the provider saw").hasSize(expected.providerSaw());
        } catch (AssertionError e) {
            throw new AssertionError(id + ": " + e.getMessage(), e);
        }
    }

    // ---- with a healthy fallback --------------------------------------------------------------------

    static Stream<Arguments> beforeTheFirstByte() {
        List<Arguments> cases = new ArrayList<>();
        for (Fault f : List.of(Fault.REFUSED, Fault.RESET_BEFORE_HEAD, Fault.CLOSE_BEFORE_HEAD, Fault.SILENCE_BEFORE_HEAD, Fault.MALFORMED_HEAD,
                Fault.STATUS_503)) {
            for (Mode m : Mode.values()) {
                for (Client c : Client.values()) {
                    cases.add(Arguments.of(f, m, c));
                }
            }
        }
        return cases.stream();
    }

    /** A fault before the first byte moves on to the fallback, which answers whole; the failed provider saw the request once. */
    @ParameterizedTest(name = "{0} {1} {2}, with a healthy fallback")
    @MethodSource("beforeTheFirstByte")
    void aHealthyFallbackAnswers(Fault fault, Mode mode, Client client) throws Exception {
        String answerText = "Answered by the fallback.";
        raw.enqueue(fault.script(mode.stream()));
        healthy.enqueue(Reply.text(answerText));

        Answer answer = send(client, fault == Fault.REFUSED ? "dead-fallback-model" : "matrix-fallback-model", mode.stream(), false);

        assertAnswer(answer, new Success(), client, answerText);
        Map<String, String> line = onlyAccessLine();
        assertThat(line).containsEntry("outcome", "ok").containsEntry("status", "200").containsEntry("attempts", "2")
                .containsEntry("deployment", "healthy");
        assertThat(line.get("failed_attempts")).as("one failed try").startsWith(fault == Fault.REFUSED ? "dead: " : "raw: ").doesNotContain(";");
        assertThat(raw.requests()).as("requests the failed provider saw").hasSize(fault == Fault.REFUSED ? 0 : 1);
        assertThat(healthy.requests()).as("requests the fallback saw").hasSize(1);
    }

    /** Once a stream reached the client, a fault ends it there: the fallback is never asked. */
    @ParameterizedTest(name = "EVENTS_THEN_RESET streaming {0}, with a healthy fallback")
    @MethodSource("clients")
    void afterTheFirstByteTheFallbackIsNotAsked(Client client) throws Exception {
        raw.enqueue(Fault.EVENTS_THEN_RESET.script(true));

        Answer answer = send(client, "matrix-fallback-model", true, true);

        assertAnswer(answer, new StreamError(MESSAGE_START + PING + BLOCK_START + DELTA_1), client, TEXT);
        assertThat(onlyAccessLine()).containsEntry("outcome", "upstream_reset").containsEntry("status", "200").containsEntry("attempts", "1")
                .containsEntry("deployment", "raw");
        assertThat(raw.requests()).hasSize(1);
        assertThat(healthy.requests()).as("no fallback after the first byte").isEmpty();
    }

    static Stream<Client> clients() {
        return Stream.of(Client.values());
    }

    // ---- assertions ---------------------------------------------------------------------------------

    private Map<String, String> onlyAccessLine() {
        await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10)).atMost(Duration.ofSeconds(2)).until(() -> !access.lines().isEmpty());
        List<Map<String, String>> lines = access.lines();
        assertThat(lines).as("access lines").hasSize(1);
        return lines.get(0);
    }

    private static void assertAnswer(Answer a, Expected expected, Client client, String text) throws IOException {
        assertThat(a.end).as("how the answer ended: %s", a).isNotEqualTo(End.HANG);
        if (expected instanceof Success) {
            assertThat(a.end).as("%s", a).isEqualTo(End.COMPLETE);
            assertThat(a.status).as("%s", a).isEqualTo(200);
            assertSuccess(a, client, text);
        } else if (expected instanceof ErrorJson e) {
            assertThat(a.end).as("a whole error answer: %s", a).isEqualTo(End.COMPLETE);
            assertThat(a.status).as("%s", a).isEqualTo(e.status());
            assertThat(a.headers.get("content-type")).as("%s", a).startsWith("application/json");
            JsonNode body = JSON.readTree(a.body);
            if (client == Client.ANTHROPIC) {
                assertThat(body.path("type").asText()).as("Anthropic error JSON: %s", a.body).isEqualTo("error");
                assertThat(body.path("error").path("type").asText()).as("%s", a.body).isEqualTo(e.anthropicType());
            } else {
                assertThat(body.has("type")).as("OpenAI error JSON: %s", a.body).isFalse();
                assertThat(body.path("error").path("type").asText()).as("OpenAI error JSON: %s", a.body).isEqualTo("server_error");
            }
            String message = body.path("error").path("message").asText();
            if (e.message() != null) {
                assertThat(message).as("the provider's wording").isEqualTo(e.message());
            } else {
                assertThat(message).as("what failed, in words, per deployment").containsAnyOf("raw: ", "dead: ")
                        .doesNotContain("127.0.0.1", "Exception", "http://");
            }
        } else if (expected instanceof StreamError e) {
            assertThat(a.status).as("%s", a).isEqualTo(200);
            assertThat(a.headers.get("content-type")).as("%s", a).startsWith("text/event-stream");
            assertThat(a.end).as("the stream ends with its error event, then the connection closes: %s", a).isIn(End.COMPLETE, End.CUT);
            assertThat(a.closed).as("the connection closed after the error event: %s", a).isTrue();
            if (client == Client.ANTHROPIC) {
                assertThat(a.body).as("the whole events relayed, then the error event").startsWith(e.relayedEvents());
                String rest = a.body.substring(e.relayedEvents().length());
                assertThat(rest).as("exactly one error event after the relayed ones").startsWith("event: error\ndata: ").endsWith("\n\n");
                assertThat(rest.indexOf("\n\n")).isEqualTo(rest.length() - 2);
                JsonNode error = JSON.readTree(rest.substring("event: error\ndata: ".length()));
                assertThat(error.path("type").asText()).isEqualTo("error");
                assertThat(error.path("error").path("type").asText()).isEqualTo("api_error");
            } else {
                List<JsonNode> data = openAiData(a.body);
                int chunksExpected = count(e.relayedEvents(), "event: message_start") + count(e.relayedEvents(), "\"text_delta\"");
                assertThat(data).as("the chunks of the whole events relayed, then one error: %s", a.body).hasSize(chunksExpected + 1);
                StringBuilder content = new StringBuilder();
                for (JsonNode chunk : data.subList(0, chunksExpected)) {
                    assertThat(chunk.path("object").asText()).isEqualTo("chat.completion.chunk");
                    content.append(chunk.path("choices").path(0).path("delta").path("content").asText(""));
                }
                assertThat(content.toString()).isEqualTo(relayedText(e.relayedEvents()));
                JsonNode error = data.get(chunksExpected);
                assertThat(error.path("error").path("type").asText()).as("an OpenAI error object: %s", error).isEqualTo("server_error");
                assertThat(error.path("error").path("message").asText()).isNotEmpty();
            }
            assertThat(a.body).as("never a clean end").doesNotContain("message_stop", "[DONE]");
        } else if (expected instanceof CutBody c) {
            assertThat(a.end).as("a body cut short, never ended cleanly: %s", a).isEqualTo(End.CUT);
            assertThat(a.status).as("%s", a).isEqualTo(200);
            assertThat(a.body).isEqualTo(c.relayed());
        }
    }

    private static void assertSuccess(Answer a, Client client, String text) throws IOException {
        boolean stream = a.headers.getOrDefault("content-type", "").startsWith("text/event-stream");
        if (client == Client.ANTHROPIC) {
            if (text.equals(TEXT)) {
                assertThat(a.body).as("the provider's answer, byte for byte").isIn(MESSAGE, STREAM);
            } else if (stream) {
                assertThat(a.body).endsWith(MESSAGE_STOP);
                StringBuilder t = new StringBuilder();
                for (String ev : a.body.split("\n\n")) {
                    if (ev.startsWith("event: content_block_delta")) {
                        t.append(JSON.readTree(ev.substring(ev.indexOf("data: ") + 6)).path("delta").path("text").asText());
                    }
                }
                assertThat(t.toString()).isEqualTo(text);
            } else {
                assertThat(JSON.readTree(a.body).path("content").path(0).path("text").asText()).isEqualTo(text);
            }
            return;
        }
        if (stream) {
            assertThat(a.body).endsWith("data: [DONE]\n\n");
            List<JsonNode> data = openAiData(a.body);
            StringBuilder t = new StringBuilder();
            String finish = null;
            for (JsonNode chunk : data) {
                assertThat(chunk.path("object").asText()).isEqualTo("chat.completion.chunk");
                t.append(chunk.path("choices").path(0).path("delta").path("content").asText(""));
                if (chunk.path("choices").path(0).hasNonNull("finish_reason")) {
                    finish = chunk.path("choices").path(0).path("finish_reason").asText();
                }
            }
            assertThat(t.toString()).isEqualTo(text);
            assertThat(finish).isEqualTo("stop");
        } else {
            JsonNode completion = JSON.readTree(a.body);
            assertThat(completion.path("object").asText()).isEqualTo("chat.completion");
            assertThat(completion.path("choices").path(0).path("message").path("content").asText()).isEqualTo(text);
            assertThat(completion.path("choices").path(0).path("finish_reason").asText()).isEqualTo("stop");
        }
    }

    /** The JSON of each {@code data:} line of an OpenAI stream, {@code [DONE]} left out. */
    private static List<JsonNode> openAiData(String body) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String ev : body.split("\n\n")) {
            if (ev.startsWith("data: ") && !ev.equals("data: [DONE]")) {
                out.add(JSON.readTree(ev.substring(6)));
            }
        }
        return out;
    }

    private static String relayedText(String events) throws IOException {
        StringBuilder t = new StringBuilder();
        for (String ev : events.split("\n\n")) {
            if (ev.startsWith("event: content_block_delta")) {
                t.append(JSON.readTree(ev.substring(ev.indexOf("data: ") + 6)).path("delta").path("text").asText());
            }
        }
        return t.toString();
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    // ---- a client on a plain socket: it sees exactly how an answer ends ------------------------------

    enum End {
        /** The body's framing completed (content-length reached, or the terminating chunk). */
        COMPLETE,
        /** The connection ended inside the body: fewer bytes than content-length, or no terminating chunk. */
        CUT,
        /** The connection ended before a status line. */
        NO_RESPONSE,
        /** Nothing more within the client's deadline. */
        HANG
    }

    /** What the client read: status, headers (lower-case names), the body (de-chunked) and how it ended. */
    record Answer(int status, Map<String, String> headers, String body, End end, boolean closed) {
        @Override
        public String toString() {
            return end + (closed ? " (closed)" : "") + ", HTTP " + status + " " + headers + "\n" + body;
        }
    }

    /**
     * Sends the request on a fresh connection and reads one answer within {@link #CLIENT_DEADLINE};
     * with {@code awaitClose}, it then waits (within the deadline) to see whether the gateway closes
     * the connection.
     */
    private Answer send(Client client, String model, boolean stream, boolean awaitClose) throws IOException {
        String body = client == Client.ANTHROPIC
                ? "{\"model\":\"" + model + "\",\"max_tokens\":64,\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}"
                : "{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String head = "POST " + client.path + " HTTP/1.1\r\nhost: 127.0.0.1:" + harness.gateway.apiPort() + "\r\n"
                + (client == Client.ANTHROPIC ? "x-api-key: " + KEY + "\r\nanthropic-version: 2023-06-01\r\n" : "authorization: Bearer " + KEY + "\r\n")
                + "content-type: application/json\r\ncontent-length: " + bytes.length + "\r\n\r\n";
        long deadline = System.nanoTime() + CLIENT_DEADLINE.toNanos();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", harness.gateway.apiPort()), 1000);
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            return new ResponseReader(s, deadline).read(awaitClose);
        }
    }

    /** Reads one HTTP/1.1 response byte by byte, telling a complete body from one cut short and from silence. */
    private static final class ResponseReader {
        private final Socket socket;
        private final InputStream in;
        private final long deadline;

        ResponseReader(Socket socket, long deadline) throws IOException {
            this.socket = socket;
            this.in = new java.io.BufferedInputStream(socket.getInputStream());
            this.deadline = deadline;
        }

        /** The next byte, -1 at the end of the stream; throws SocketTimeoutException past the deadline. */
        private int next() throws IOException {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new SocketTimeoutException("deadline");
            }
            socket.setSoTimeout((int) Math.max(1, Duration.ofNanos(left).toMillis()));
            try {
                return in.read();
            } catch (java.net.SocketException e) {
                return -1;    // a reset is an end too
            }
        }

        /** A CRLF-terminated line, or null at the end of the stream. */
        private String line() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            while ((c = next()) >= 0) {
                if (c == '\n') {
                    String l = b.toString(StandardCharsets.ISO_8859_1);
                    return l.endsWith("\r") ? l.substring(0, l.length() - 1) : l;
                }
                b.write(c);
            }
            return null;
        }

        Answer read(boolean awaitClose) throws IOException {
            int status = 0;
            Map<String, String> headers = new LinkedHashMap<>();
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            End end;
            try {
                String statusLine = line();
                if (statusLine == null) {
                    return new Answer(0, headers, "", End.NO_RESPONSE, true);
                }
                status = Integer.parseInt(statusLine.split(" ")[1]);
                for (String l = line(); l != null && !l.isEmpty(); l = line()) {
                    int colon = l.indexOf(':');
                    headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
                }
                end = readBody(headers, body);
            } catch (SocketTimeoutException e) {
                return new Answer(status, headers, body.toString(StandardCharsets.UTF_8), End.HANG, false);
            }
            boolean closed = end != End.COMPLETE;
            if (!closed && awaitClose) {
                try {
                    closed = next() < 0;
                } catch (SocketTimeoutException e) {
                    closed = false;
                }
            }
            return new Answer(status, headers, body.toString(StandardCharsets.UTF_8), end, closed);
        }

        private End readBody(Map<String, String> headers, ByteArrayOutputStream body) throws IOException {
            if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                while (true) {
                    String size = line();
                    if (size == null) {
                        return End.CUT;
                    }
                    int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                    if (n == 0) {
                        for (String l = line(); ; l = line()) {
                            if (l == null) {
                                return End.CUT;
                            }
                            if (l.isEmpty()) {
                                return End.COMPLETE;
                            }
                        }
                    }
                    for (int i = 0; i < n; i++) {
                        int c = next();
                        if (c < 0) {
                            return End.CUT;
                        }
                        body.write(c);
                    }
                    if (line() == null) {
                        return End.CUT;
                    }
                }
            }
            String length = headers.get("content-length");
            if (length != null) {
                long n = Long.parseLong(length);
                for (long i = 0; i < n; i++) {
                    int c = next();
                    if (c < 0) {
                        return End.CUT;
                    }
                    body.write(c);
                }
                return End.COMPLETE;
            }
            for (int c = next(); c >= 0; c = next()) {
                body.write(c);
            }
            return End.COMPLETE;    // delimited by the end of the connection
        }
    }
}

package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.RawUpstream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A provider that breaks HTTP, on a real socket: a request it may have received is never sent to it
 * again except as a configured attempt; a response head that does not decode is a 502 at once; an
 * interim {@code 100 Continue} is skipped and the real response relayed.
 */
@ExtendWith(NettyLeakDetector.class)
class MisbehavingProviderIT {
    /** Far beyond what any of these answers takes, and far short of the deployments' long timeouts. */
    static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(10);

    static RawUpstream raw;
    GatewayHarness harness;
    AccessLines access;

    @BeforeAll
    static void upstream() {
        raw = RawUpstream.start();
    }

    @AfterAll
    static void stopUpstream() {
        raw.close();
    }

    @BeforeEach
    void start() throws Exception {
        raw.clear();
        access = new AccessLines();
        harness = new GatewayHarness()
                .settings("""
                        limits: {maxEventSize: 1Mi}
                        """)
                // "once": no retry, and timeouts long enough that a hang shows as the client's timeout
                .write("providers.yaml", GatewayHarness.anthropicDeployment("once", raw.baseUrl(), """
                        timeouts: {connect: 1s, firstByte: 60s, idle: 60s}
                        retries: {attempts: 1}
                        """)
                        + "---\n" + GatewayHarness.anthropicDeployment("twice", raw.baseUrl(), """
                        timeouts: {connect: 1s, firstByte: 1s, idle: 1s}
                        retries: {attempts: 2}
                        """))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .start();
    }

    @AfterEach
    void stop() throws Exception {
        harness.close();
        access.close();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(raw.openConnections()).as("connections to the provider").isZero());
    }

    private HttpResponse<String> send(String deployment, boolean stream) throws Exception {
        String body = "{\"model\":\"" + deployment + "/claude-sonnet-4-6\",\"max_tokens\":64,\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        HttpRequest request = HttpRequest.newBuilder(URI.create(harness.baseUrl() + "/v1/messages")).timeout(CLIENT_TIMEOUT)
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .headers("x-api-key", KEY, "content-type", "application/json", "anthropic-version", "2023-06-01").build();
        // bounded as a whole: the request's own timeout ends at the response head, and a head with no body must fail too
        return harness.http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).get(CLIENT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    private Map<String, String> onlyAccessLine() {
        List<Map<String, String>> lines = access.lines();
        assertThat(lines).hasSize(1);
        return lines.get(0);
    }

    private static void assertApiError(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(r.body()).startsWith("{\"type\":\"error\",\"error\":{\"type\":\"" + (status == 504 ? "timeout_error" : "api_error") + "\"");
    }

    // ---- a request the provider may have received is not sent again -------------------------------

    @ParameterizedTest(name = "{0}, streaming {1}")
    @CsvSource({"reset, false", "reset, true", "close, false", "close, true"})
    void aPooledConnectionThatFailsAfterTheRequestWasWrittenIsNotTriedAgain(String end, boolean stream) throws Exception {
        RawUpstream.Script readThenEnd = end.equals("reset") ? RawUpstream.script().reset() : RawUpstream.script().close();
        raw.enqueue(RawUpstream.script().write(message(false)), readThenEnd, RawUpstream.script().write(message(stream)));
        assertThat(send("once", false).statusCode()).isEqualTo(200);   // leaves its connection in the pool

        HttpResponse<String> r = send("once", stream);

        assertThat(raw.requests()).as("the provider read the second request once").hasSize(2);
        assertApiError(r, 502);
        assertThat(raw.connectionsAccepted()).as("the second request went on the pooled connection").isEqualTo(1);
        assertThat(access.lines().get(1)).containsEntry("status", "502");
        assertThat(access.lines().get(1).get("failed_attempts")).as("one try").startsWith("once: ").doesNotContain(";");
    }

    @Test
    void aFirstByteTimeoutAfterTheRequestWasWrittenIsNotRetriedOnTheSameDeployment() throws Exception {
        raw.enqueue(RawUpstream.script().silence(), RawUpstream.script().silence());

        HttpResponse<String> r = send("twice", false);

        assertApiError(r, 504);
        assertThat(raw.requests()).as("retries.attempts 2, yet seen once: it may be running there").hasSize(1);
        assertThat(onlyAccessLine()).containsEntry("status", "504");
        assertThat(onlyAccessLine().get("failed_attempts")).as("one try").startsWith("twice: no response within").doesNotContain(";");
    }

    @Test
    void aResetAfterTheRequestWasWrittenIsTriedAgainOnlyAsAConfiguredAttempt() throws Exception {
        raw.enqueue(RawUpstream.script().reset(), RawUpstream.script().reset(), RawUpstream.script().write(message(false)));

        HttpResponse<String> r = send("twice", false);

        assertApiError(r, 502);
        assertThat(raw.requests()).as("retries.attempts 2: two tries, no more").hasSize(2);
    }

    // ---- response heads that do not decode ---------------------------------------------------------

    @ParameterizedTest(name = "{0}, streaming {1}")
    @CsvSource({"not HTTP, false", "not HTTP, true", "bare CR in a header, false", "bare CR in a header, true",
            "over 64 KB of headers, false", "over 64 KB of headers, true"})
    void aMalformedResponseHeadIsA502AtOnce(String fault, boolean stream) throws Exception {
        String json = "{\"type\":\"message\"}";
        String head = switch (fault) {
            case "not HTTP" -> "ICY 200 OK\r\ncontent-type: application/json\r\n";
            case "bare CR in a header" -> "HTTP/1.1 200 OK\r\nx-trace: a\rb\r\ncontent-type: application/json\r\n";
            default -> "HTTP/1.1 200 OK\r\nx-padding: " + "a".repeat(70 * 1024) + "\r\ncontent-type: application/json\r\n";
        };
        raw.enqueue(RawUpstream.script().write(head + "content-length: " + json.length() + "\r\n\r\n" + json).silence());

        HttpResponse<String> r = send("once", stream);

        assertApiError(r, 502);
        assertThat(r.body()).contains("malformed");
        assertThat(raw.requests()).hasSize(1);
        assertThat(onlyAccessLine()).containsEntry("status", "502");
        assertThat(onlyAccessLine().get("failed_attempts")).as("one try").startsWith("once: the provider sent a malformed response head (not valid HTTP)").doesNotContain(";");
    }

    // ---- interim responses --------------------------------------------------------------------------

    @ParameterizedTest(name = "streaming {0}")
    @ValueSource(booleans = {false, true})
    void anInterim100ContinueIsSkippedAndTheRealResponseRelayed(boolean stream) throws Exception {
        raw.enqueue(RawUpstream.script().write("HTTP/1.1 100 Continue\r\n\r\n").write(message(stream)));

        HttpResponse<String> r = send("once", stream);

        assertThat(r.statusCode()).isEqualTo(200);
        if (stream) {
            assertThat(r.body()).startsWith("event: message_start").contains("\"text\":\"Hello.\"").endsWith("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        } else {
            assertThat(r.body()).isEqualTo(MESSAGE);
        }
        assertThat(raw.requests()).hasSize(1);
        assertThat(onlyAccessLine()).containsEntry("status", "200").containsEntry("outcome", "ok");
    }

    // ---- what the provider answers when it answers --------------------------------------------------

    static final String MESSAGE = "{\"id\":\"msg_raw\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-6\","
            + "\"content\":[{\"type\":\"text\",\"text\":\"Hello.\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,"
            + "\"usage\":{\"input_tokens\":3,\"output_tokens\":2}}";

    static final String STREAM = """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_raw","type":"message","role":"assistant","model":"claude-sonnet-4-6",\
            "content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello."}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}

            event: message_stop
            data: {"type":"message_stop"}

            """;

    /** A whole, correct response: a message, or its stream. */
    // ---- an event larger than the gateway holds ------------------------------------------------------

    @Test
    void anEventLargerThanMaxEventSizeEndsTheStreamAtOnceAndClosesTheProviderConnection() throws Exception {
        String start = STREAM.substring(0, STREAM.indexOf("event: content_block_start"));
        String head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 10000000\r\n\r\n";
        // 2 MiB of one event with no blank line in sight, then a provider that keeps the connection open and says nothing
        raw.enqueue(RawUpstream.script().write(head + start + "event: content_block_delta\ndata: " + "a".repeat(2 << 20)).silence());

        long started = System.nanoTime();
        HttpResponse<String> r = send("once", true);

        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("not the provider's 60 s idle timeout").isLessThan(Duration.ofSeconds(5));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).startsWith("event: message_start").doesNotContain("aaaa")
                .contains("event: error").contains("larger than the gateway holds (1048576 bytes, limits.maxEventSize)");
        assertThat(onlyAccessLine()).containsEntry("outcome", "upstream_event_too_large");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(raw.openConnections()).as("provider connection closed").isZero());
    }

    static String message(boolean stream) {
        return stream ? RawUpstream.response(200, "text/event-stream", STREAM) : RawUpstream.response(200, "application/json", MESSAGE);
    }
}

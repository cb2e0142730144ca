package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.anthropic.client.AnthropicClient;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What a client connection may hold, on real sockets: a request head and a request body must arrive
 * within their deadlines (1 s and 2 s here), and connections beyond the cap are closed as soon as they
 * are accepted; requests sent in time, and answers that take longer than both deadlines, are untouched.
 */
@ExtendWith(NettyLeakDetector.class)
class ClientLimitsIT extends SimulatedProviderTest {
    /** Far beyond the deadlines, far short of the 620 s idle timeout that held such clients before. */
    static final int CLIENT_TIMEOUT_MS = 10_000;

    @BeforeAll
    static void start() throws Exception {
        simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        harness = new GatewayHarness()
                .settings("""
                        limits: {headerTimeout: 1s, bodyTimeout: 2s}
                        """)
                .write("providers.yaml", GatewayHarness.anthropicDeployment("anthropic-sim", simulator.baseUrl(),
                        "timeouts: {connect: 1s, firstByte: 10s, idle: 10s}\n"))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .start();
    }

    private static final String GOOD = "{\"model\":\"claude-sonnet-4-6\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private static Socket connect(GatewayHarness h) throws IOException {
        Socket s = new Socket("127.0.0.1", h.gateway.apiPort());
        s.setSoTimeout(CLIENT_TIMEOUT_MS);
        return s;
    }

    private static void send(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** Writes {@code text} one byte every {@code everyMs}, on its own thread, until it is sent or the connection fails. */
    private static Thread trickle(Socket s, String text, long everyMs) {
        Thread t = new Thread(() -> {
            try {
                for (byte b : text.getBytes(StandardCharsets.US_ASCII)) {
                    s.getOutputStream().write(b);
                    s.getOutputStream().flush();
                    Thread.sleep(everyMs);
                }
            } catch (IOException | InterruptedException e) {
                // the gateway closed the connection: what the test waits for
            }
        }, "trickle");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** What the gateway sent until it closed the connection, and when it closed it. */
    record Ending(String text, boolean closed, long millis) {}

    private static Ending readToEnd(Socket s, long sinceNanos) throws IOException {
        InputStream in = s.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        boolean closed = false;
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                got.write(buf, 0, n);
            }
            closed = true;
        } catch (SocketTimeoutException e) {
            // still open: not closed
        } catch (IOException e) {
            closed = true;    // reset
        }
        return new Ending(got.toString(StandardCharsets.UTF_8), closed, (System.nanoTime() - sinceNanos) / 1_000_000);
    }

    @Test
    void aClientTricklingItsHeadIsAnswered408AndClosedAtTheHeaderDeadline() throws Exception {
        try (Socket s = connect(harness)) {
            long start = System.nanoTime();
            trickle(s, "POST /v1/messages HTTP/1.1\r\nhost: gateway\r\nx-api-key: " + KEY + "\r\nx-padding: " + "p".repeat(200) + "\r\n\r\n", 100);
            Ending end = readToEnd(s, start);
            assertThat(end.closed()).as("closed by the gateway: %s", end).isTrue();
            assertThat(end.millis()).as("closed after the 1 s deadline, not before").isBetween(900L, 6_000L);
            assertThat(end.text()).startsWith("HTTP/1.1 408").containsIgnoringCase("connection: close")
                    .containsIgnoringCase("x-finops-request-id: fgw_")
                    .contains("{\"type\":\"error\",\"error\":{\"type\":\"timeout_error\",\"message\":\"the request line and headers did not arrive within 1s");
        }
        assertThat(simulator.requests()).isEmpty();
        assertThat(harness.metrics()).containsPattern("finops_gateway_requests_total\\{api=\"anthropic\",deployment=\"none\",model=\"none\","
                + "outcome=\"rejected_timeout\",provider=\"none\",route=\"none\",status=\"408\",virtual_key=\"none\"} [1-9]");
    }

    @Test
    void aConnectionThatSendsNothingIsClosedAtTheHeaderDeadlineWithoutAnAnswer() throws Exception {
        try (Socket s = connect(harness)) {
            Ending end = readToEnd(s, System.nanoTime());
            assertThat(end.closed()).isTrue();
            assertThat(end.text()).as("nothing is written to a client that asked nothing").isEmpty();
            assertThat(end.millis()).isBetween(900L, 6_000L);
        }
    }

    @Test
    void aKeepAliveConnectionWaitsForItsNextRequestLongerThanTheHeaderDeadline() throws Exception {
        try (Socket s = connect(harness)) {
            send(s, "HEAD / HTTP/1.1\r\nhost: gateway\r\n\r\n");
            assertThat(BadInputIT.readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
            Thread.sleep(1_800);    // idle between requests: the idle timeout's to judge, not the head's
            send(s, "HEAD / HTTP/1.1\r\nhost: gateway\r\n\r\n");
            assertThat(BadInputIT.readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
            // the next head starts its clock with its first byte
            long start = System.nanoTime();
            trickle(s, "HEAD / HTTP/1.1\r\nhost: gateway\r\nx-padding: " + "p".repeat(200) + "\r\n\r\n", 100);
            Ending end = readToEnd(s, start);
            assertThat(end.closed()).isTrue();
            assertThat(end.text()).startsWith("HTTP/1.1 408");
            assertThat(end.millis()).isBetween(900L, 6_000L);
        }
    }

    @Test
    void aClientTricklingItsBodyIsAnswered408AtTheBodyDeadlineAndNothingReachesTheProvider() throws Exception {
        try (Socket s = connect(harness)) {
            send(s, "POST /v1/messages HTTP/1.1\r\nhost: gateway\r\nx-api-key: " + KEY + "\r\ncontent-type: application/json\r\n"
                    + "content-length: " + GOOD.length() + "\r\n\r\n");
            long start = System.nanoTime();
            trickle(s, GOOD, 100);    // 90 bytes at 10 a second: 9 s, against a 2 s deadline
            Ending end = readToEnd(s, start);
            assertThat(end.closed()).isTrue();
            assertThat(end.millis()).as("closed after the 2 s deadline, not before").isBetween(1_900L, 7_000L);
            assertThat(end.text()).startsWith("HTTP/1.1 408").containsIgnoringCase("connection: close")
                    .contains("\"type\":\"timeout_error\",\"message\":\"the request body did not arrive within 2s of its headers");
        }
        try (Socket s = connect(harness)) {    // on the OpenAI surface, in OpenAI's error JSON
            send(s, "POST /openai/v1/chat/completions HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer " + KEY + "\r\n"
                    + "content-length: 100\r\n\r\n{");
            Ending end = readToEnd(s, System.nanoTime());
            assertThat(end.text()).startsWith("HTTP/1.1 408").contains("{\"error\":{\"message\":\"the request body did not arrive");
        }
        assertThat(simulator.requests()).isEmpty();
    }

    @Test
    void aBodyWithoutAValidKeyIsRefusedOnItsHeadAndItsConnectionClosedAtTheBodyDeadline() throws Exception {
        try (Socket s = connect(harness)) {
            long start = System.nanoTime();
            send(s, "POST /v1/messages HTTP/1.1\r\nhost: gateway\r\nx-api-key: vk-nope-0123456789\r\ncontent-length: 30000000\r\n\r\n");
            assertThat(BadInputIT.readResponse(s.getInputStream())).as("answered on the head, before the body").startsWith("HTTP/1.1 401");
            trickle(s, "x".repeat(1000), 100);
            Ending end = readToEnd(s, start);
            assertThat(end.closed()).isTrue();
            assertThat(end.text()).as("an answer was given: no second one").isEmpty();
            assertThat(end.millis()).isBetween(1_900L, 7_000L);
        }
    }

    @Test
    void requestsSentInTimeAndAnswersSlowerThanBothDeadlinesAreUntouched() throws Exception {
        // an answer that takes 2.5 s to start, longer than either deadline: the client has sent everything
        simulator.enqueue(Reply.text("late but whole").delay(Duration.ofMillis(2_500)));
        AnthropicClient client = harness.anthropicClient();
        Message m = client.messages().create(MessageCreateParams.builder().model("claude-sonnet-4-6").maxTokens(16).addUserMessage("hi").build());
        assertThat(m.content().get(0).asText().text()).isEqualTo("late but whole");
        // a stream, twice on one keep-alive connection, each after a pause longer than the head's deadline
        for (int i = 0; i < 2; i++) {
            Thread.sleep(1_200);
            simulator.enqueue(Reply.text("one two three four five six seven"));
            StreamedMessage streamed = StreamedMessage.read(client.messages().createStreaming(
                    MessageCreateParams.builder().model("claude-sonnet-4-6").maxTokens(16).addUserMessage("hi").build()));
            assertThat(streamed.message().content().get(0).asText().text()).isEqualTo("one two three four five six seven");
        }
        // a body sent in pieces over 0.9 s, inside the 2 s deadline
        try (Socket s = connect(harness)) {
            send(s, "POST /v1/messages HTTP/1.1\r\nhost: gateway\r\nx-api-key: " + KEY + "\r\ncontent-type: application/json\r\n"
                    + "content-length: " + GOOD.length() + "\r\n\r\n");
            for (int i = 0; i < GOOD.length(); i += 30) {
                Thread.sleep(300);
                send(s, GOOD.substring(i, Math.min(GOOD.length(), i + 30)));
            }
            assertThat(BadInputIT.readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
        }
        HttpResponse<String> r = harness.post("/v1/messages", GOOD, "x-api-key", KEY);
        assertThat(r.statusCode()).isEqualTo(200);
    }

    @Test
    void connectionsBeyondTheCapAreClosedAtOnceWhileTheOthersWork() throws Exception {
        try (GatewayHarness capped = new GatewayHarness()
                .settings("""
                        limits: {maxConnections: 3}
                        """)
                .write("providers.yaml", GatewayHarness.anthropicDeployment("anthropic-sim", simulator.baseUrl(), null))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .start()) {
            assertThat(capped.metrics()).contains("finops_gateway_connections_open 0.0").contains("finops_gateway_connections_refused_total 0.0");
            List<Socket> open = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    Socket s = connect(capped);
                    open.add(s);
                    send(s, "HEAD / HTTP/1.1\r\nhost: gateway\r\n\r\n");
                    assertThat(BadInputIT.readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
                }
                assertThat(capped.metrics()).contains("finops_gateway_connections_open 3.0");
                try (Socket fourth = connect(capped)) {
                    long start = System.nanoTime();
                    send(fourth, "HEAD / HTTP/1.1\r\nhost: gateway\r\n\r\n");
                    Ending end = readToEnd(fourth, start);
                    assertThat(end.closed()).isTrue();
                    assertThat(end.text()).as("nothing is answered on a refused connection").isEmpty();
                    assertThat(end.millis()).as("closed at once, not at a deadline (30 s)").isLessThan(5_000L);
                }
                // the three still serve, each a request with a body through to the provider
                for (Socket s : open) {
                    send(s, "POST /v1/messages HTTP/1.1\r\nhost: gateway\r\nx-api-key: " + KEY + "\r\ncontent-type: application/json\r\n"
                            + "content-length: " + GOOD.length() + "\r\n\r\n" + GOOD);
                    assertThat(BadInputIT.readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
                }
                String metrics = capped.metrics();
                assertThat(metrics).contains("finops_gateway_connections_refused_total 1.0").contains("finops_gateway_connections_open 3.0");
                // one closes: a new connection is served again
                open.remove(0).close();
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(capped.metrics()).contains("finops_gateway_connections_open 2.0"));
                try (Socket again = connect(capped)) {
                    send(again, "HEAD / HTTP/1.1\r\nhost: gateway\r\n\r\n");
                    assertThat(BadInputIT.readResponse(again.getInputStream())).startsWith("HTTP/1.1 200");
                }
            } finally {
                for (Socket s : open) {
                    s.close();
                }
            }
        }
    }
}

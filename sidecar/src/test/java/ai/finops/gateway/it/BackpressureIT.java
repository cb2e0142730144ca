package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A slow client pauses the upstream read; a client that leaves closes the upstream connection. */
@ExtendWith(NettyLeakDetector.class)
class BackpressureIT {
    Simulator simulator;
    GatewayHarness harness;

    @BeforeEach
    void start() throws Exception {
        simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        harness = new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("anthropic-sim", simulator.baseUrl(), "timeouts: {idle: 30s}"))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .start();
    }

    @AfterEach
    void stop() throws Exception {
        harness.close();
        simulator.close();
    }

    private Socket request(boolean smallReceiveBuffer) throws Exception {
        Socket s = new Socket();
        if (smallReceiveBuffer) {
            s.setReceiveBufferSize(16 * 1024);
        }
        s.connect(new java.net.InetSocketAddress("127.0.0.1", harness.gateway.apiPort()));
        String body = "{\"model\":\"claude-sonnet-4-6\",\"max_tokens\":64,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        String head = "POST /v1/messages HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nx-api-key: " + KEY
                + "\r\ncontent-length: " + body.length() + "\r\n\r\n";
        OutputStream out = s.getOutputStream();
        out.write((head + body).getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return s;
    }

    /** Waits until the simulator can write no more: the gateway has stopped reading it for a client that does not read. */
    private void awaitUpstreamStalled() {
        long[] last = {-1};
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(300)).until(() -> {
            long now = simulator.bytesWritten();
            boolean stalled = now == last[0];
            last[0] = now;
            return stalled;
        });
    }

    @Test
    void aClientThatStopsReadingPausesTheUpstream() throws Exception {
        // More than the kernel can hold in the three connections' socket buffers (Linux autotunes a
        // receive buffer up to tcp_rmem's maximum, 32 MiB here; send buffers up to 4 MiB).
        int deltas = 8_000;
        int bytesPerDelta = 8_000;     // about 65 MB of events in all
        simulator.enqueue(Reply.largeText(deltas, bytesPerDelta));
        try (Socket s = request(true)) {
            InputStream in = s.getInputStream();
            byte[] first = new byte[4096];
            assertThat(in.read(first)).isPositive();       // the stream has started
            // stop reading: the simulator must soon be unable to write more
            awaitUpstreamStalled();
            long total = (long) deltas * bytesPerDelta;
            // What was written sits in the socket buffers of three connections and in the gateway's
            // bounded write queue; had the gateway kept reading, the simulator would have written it all.
            assertThat(simulator.bytesWritten()).as("the upstream is paused before the end").isLessThan(total - (8L << 20));

            // read everything: the stream completes
            byte[] buf = new byte[64 * 1024];
            long read = 0;
            String tail = "";
            int n;
            s.setSoTimeout(20_000);
            while ((n = in.read(buf)) > 0) {
                read += n;
                tail = (tail + new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                tail = tail.substring(Math.max(0, tail.length() - 200));
                if (tail.contains("event: message_stop") && tail.endsWith("0\r\n\r\n")) {
                    break;
                }
            }
            assertThat(read).isGreaterThan(total);
            assertThat(tail).contains("message_stop");
        }
    }

    @Test
    void aClientThatReadsSlowlyIsNotBlamedOnTheProvider() throws Exception {
        harness.close();
        harness = new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("anthropic-sim", simulator.baseUrl(),
                        "timeouts: {connect: 1s, firstByte: 2s, idle: 1s}"))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .start();
        simulator.enqueue(Reply.largeText(8_000, 2_000));    // about 16 MB: more than the socket buffers hold
        try (Socket s = request(true)) {
            InputStream in = s.getInputStream();
            assertThat(in.read(new byte[4096])).isPositive();
            awaitUpstreamStalled();
            // the client reads nothing for three idle timeouts: the provider is not the one that is silent
            Thread.sleep(3_000);
            byte[] buf = new byte[64 * 1024];
            String tail = "";
            boolean sawError = false;
            int n;
            s.setSoTimeout(20_000);
            while ((n = in.read(buf)) > 0) {
                String piece = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
                sawError |= (tail + piece).contains("event: error");
                tail = (tail + piece).substring(Math.max(0, tail.length() + piece.length() - 200));
                if (tail.contains("event: message_stop") && tail.endsWith("0\r\n\r\n")) {
                    break;
                }
            }
            assertThat(sawError).as("no idle error event").isFalse();
            assertThat(tail).contains("message_stop");
        }
    }

    @Test
    void aClientThatAbortsClosesTheUpstreamWithinASecond() throws Exception {
        simulator.enqueue(Reply.text("a long story told slowly, word by word").delay(Duration.ofSeconds(30)));
        Socket s = request(false);
        await().atMost(Duration.ofSeconds(10)).until(() -> simulator.openConnections() == 1);
        long closed = System.nanoTime();
        s.close();
        await().atMost(Duration.ofSeconds(1)).until(() -> simulator.openConnections() == 0);
        assertThat(Duration.ofNanos(System.nanoTime() - closed)).isLessThan(Duration.ofSeconds(1));
    }
}

package ai.finops.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** A port that is taken is named in one line, exit 1, and the gateway leaves no event loop behind. */
class PortInUseCommandLineTest {

    private static Set<Thread> eventLoops() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && (t.getName().startsWith("finops-io") || t.getName().startsWith("finops-accept")))
                .collect(Collectors.toSet());
    }

    /** The event loops started since {@code before} end (a thread outlives its loop's termination by a moment). */
    private static void assertNoEventLoopLeftBesides(Set<Thread> before) {
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            Set<Thread> left = eventLoops();
            left.removeAll(before);
            assertThat(left).isEmpty();
        });
    }

    @Test
    void theApiPortInUseIsNamed() throws Exception {
        Set<Thread> before = eventLoops();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String err = RelayCommandLineTest.errorsOf(1, "--config", "../examples/local", "--bind", "127.0.0.1",
                    "--port", String.valueOf(taken.getLocalPort()), "--admin-port", "0");
            assertThat(err.strip()).isEqualTo("the API port 127.0.0.1:" + taken.getLocalPort()
                    + " is already in use; choose another with --port or FINOPS_PORT");
        }
        assertNoEventLoopLeftBesides(before);
    }

    @Test
    void theOperationsPortInUseIsNamed() throws Exception {
        Set<Thread> before = eventLoops();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String err = RelayCommandLineTest.errorsOf(1, "--relay-to", "http://127.0.0.1:1", "--bind", "127.0.0.1", "--port", "0",
                    "--admin-port", String.valueOf(taken.getLocalPort()));
            assertThat(err.strip()).isEqualTo("the operations port 127.0.0.1:" + taken.getLocalPort()
                    + " is already in use; choose another with --admin-port or FINOPS_ADMIN_PORT");
        }
        assertNoEventLoopLeftBesides(before);
    }
}

package ai.finops.gateway.it;

import ai.finops.testkit.Simulator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * What the integration tests of a simulated provider share: the simulator and the gateway in front
 * of it, both started by the test class's own {@code @BeforeAll} and closed after the class; the
 * simulator's recorded requests are cleared before each test.
 */
abstract class SimulatedProviderTest {
    static Simulator simulator;
    static GatewayHarness harness;

    @AfterAll
    static void closeGatewayAndSimulator() throws Exception {
        if (harness != null) {
            harness.close();
            harness = null;
        }
        if (simulator != null) {
            simulator.close();
            simulator = null;
        }
    }

    @BeforeEach
    void clearRecordedRequests() {
        simulator.clearRequests();
    }
}

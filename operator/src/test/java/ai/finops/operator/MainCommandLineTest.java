package ai.finops.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Settings the operator cannot honour stop it at once, with the reason, before it touches a cluster. */
class MainCommandLineTest {

    private static String errorsOf(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream previous = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertThat(new CommandLine(new Main()).execute(args)).isEqualTo(2);
            return err.toString(StandardCharsets.UTF_8);
        } finally {
            System.setErr(previous);
        }
    }

    @Test
    void theSharedGatewaysNamespaceMustBeServed() {
        assertThat(errorsOf("--namespaces=team-a,team-b", "--shared-gateway-namespace=finops-system"))
                .contains("--shared-gateway-namespace finops-system must be one of --namespaces");
    }

    @Test
    void sidecarSettingsAreCheckedFirst() {
        assertThat(errorsOf("--sidecar-mode=sidecarless")).contains("sidecar settings rejected: unknown sidecar mode 'sidecarless'");
        assertThat(errorsOf("--sidecar-memory=1Gi", "--sidecar-memory-limit=512Mi"))
                .contains("the sidecar's memory request 1Gi exceeds its limit 512Mi");
    }

    @Test
    void aRedisUrlOfAnotherSchemeOrABadSpendIntervalStopsIt() {
        assertThat(errorsOf("--redis-url=http://user:secret@redis:6379")).contains("--redis-url must start with redis:// or rediss://")
                .contains("http://redis:6379").doesNotContain("secret");
        assertThat(errorsOf("--spend-interval=30")).contains("--spend-interval:");
        assertThat(errorsOf("--spend-interval=100ms")).contains("--spend-interval: at least 1s");
    }
}

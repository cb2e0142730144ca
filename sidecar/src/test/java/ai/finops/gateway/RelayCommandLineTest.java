package ai.finops.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --relay-to}: the via-gateway sidecar's command line refuses what it cannot honour, before binding anything. */
class RelayCommandLineTest {

    /** Runs the gateway's command line; asserts its exit code and returns what it wrote to standard error. */
    static String errorsOf(int expectedCode, String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream previous = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertThat(new CommandLine(new Main()).execute(args)).isEqualTo(expectedCode);
            return err.toString(StandardCharsets.UTF_8);
        } finally {
            System.setErr(previous);
        }
    }

    @Test
    void aRelayRoutesNothingSoItTakesNoConfig() {
        assertThat(errorsOf(2, "--relay-to", "http://finops-gateway.finops-system.svc:8080", "--config", "/etc/finops/bundle"))
                .contains("--relay-to takes no --config, --credentials or --tls-*-file");
    }

    @Test
    void theTargetMustBeAPlainBaseUrl() {
        for (String bad : new String[] {"finops-gateway:8080", "ftp://gateway", "http://gateway:8080/?model=x", "http://user:pw@gateway"}) {
            assertThat(errorsOf(2, "--relay-to", bad)).as(bad).contains("--relay-to must be an http or https base URL");
        }
        assertThat(Main.relayTarget("https://gateway.example.com/finops")).hasToString("https://gateway.example.com/finops");
    }

    @Test
    void theGatewaysCaComesAsAFileOrAsTextFromFinopsRelayCaNotBoth(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        assertThat(Main.class.getDeclaredField("relayCaPem").getAnnotation(CommandLine.Option.class).defaultValue())
                .as("what the injected sidecar's environment gives").isEqualTo("${env:FINOPS_RELAY_CA}");
        String pem = ai.finops.testkit.TestCertificates.selfSigned("finops-test-ca").certificatePem();
        assertThat(errorsOf(2, "--relay-to", "http://finops-gateway.finops-system.svc:8080", "--relay-ca", pem))
                .contains("--relay-ca (FINOPS_RELAY_CA) is for an https:// --relay-to");
        assertThat(errorsOf(2, "--relay-to", "https://finops-gateway.finops-system.svc:8080", "--relay-ca", "not a certificate"))
                .contains("--relay-ca (FINOPS_RELAY_CA) holds no PEM certificate");
        java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("ca.crt"), pem);
        assertThat(errorsOf(2, "--relay-to", "https://finops-gateway.finops-system.svc:8080", "--relay-ca", pem, "--relay-ca-file", file.toString()))
                .contains("each give the relay's CA: give one");
    }
}

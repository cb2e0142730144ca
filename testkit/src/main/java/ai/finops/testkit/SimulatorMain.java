package ai.finops.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code java -jar finops-testkit.jar [--port 9999] [--host 127.0.0.1] [--latency-ms 0]
 * [--tokens-per-second 0] [--api-key KEY] [--aws ACCESS_KEY_ID:SECRET] [--tls-self-signed]}: the simulator
 * on its own, for demos and benchmarks. It serves the Anthropic API ({@code /v1/messages}), Claude on
 * Foundry ({@code /anthropic/v1/messages}, key in {@code api-key}) and Bedrock ({@code /model/{id}/invoke...},
 * SigV4 by the {@code --aws} credentials, or {@code --api-key} as Bearer). Runs until killed.
 */
public final class SimulatorMain {
    private SimulatorMain() {}

    public static void main(String[] args) throws Exception {
        SimulatorOptions.Builder b = SimulatorOptions.builder().port(9999).record(false);
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--port" -> b.port(Integer.parseInt(args[++i]));
                case "--host" -> b.host(args[++i]);
                case "--latency-ms" -> b.latency(Duration.ofMillis(Long.parseLong(args[++i])));
                case "--tokens-per-second" -> b.tokensPerSecond(Integer.parseInt(args[++i]));
                case "--api-key" -> b.requiredApiKey(args[++i]);
                case "--aws" -> {
                    String[] keys = args[++i].split(":", 3);
                    b.aws(keys[0], keys[1], keys.length > 2 ? keys[2] : null);
                }
                case "--tls-self-signed" -> {
                    TestCertificates.Certificate c = TestCertificates.selfSigned("localhost", "127.0.0.1");
                    Path dir = Files.createTempDirectory("finops-simulator-tls");
                    System.out.println("trust this certificate: " + c.writeTo(dir));
                    b.tls(c.certificatePem(), c.privateKeyPem());
                }
                case "-h", "--help" -> {
                    System.out.println("usage: java -jar finops-testkit.jar [--port 9999] [--host 127.0.0.1] [--latency-ms N]"
                            + " [--tokens-per-second N] [--api-key KEY] [--aws ACCESS_KEY_ID:SECRET[:SESSION_TOKEN]] [--tls-self-signed]");
                    return;
                }
                default -> {
                    System.err.println("unknown argument: " + a + " (try --help)");
                    System.exit(2);
                }
            }
        }
        SimulatorOptions options = b.build();
        Simulator simulator;
        try {
            simulator = Simulator.start(options);
        } catch (Exception e) {
            String where = options.host() + ":" + options.port();
            System.err.println(String.valueOf(e.getMessage()).contains("Address already in use")
                    ? "the simulator's port " + where + " is already in use; choose another with --port"
                    : "cannot listen on " + where + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        System.out.println("simulator listening on " + simulator.baseUrl());
        Runtime.getRuntime().addShutdownHook(new Thread(simulator::close));
        Thread.currentThread().join();
    }
}

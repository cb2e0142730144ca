package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ai.finops.gateway.Gateway;
import ai.finops.testkit.KubeletVolume;
import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import ai.finops.testkit.TestCertificates;
import ai.finops.testkit.TestCertificates.Certificate;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The gateway's own TLS ({@code tls: {certFile, keyFile}}): the official SDK over https with a
 * private CA, a certificate renewed while clients keep connecting, and a relay that verifies it.
 */
@ExtendWith(NettyLeakDetector.class)
class GatewayTlsIT {
    private static final Certificate CA = TestCertificates.selfSigned("finops-test-ca");
    private static final String STREAM = "{\"model\":\"claude-haiku-4-6\",\"max_tokens\":64,\"stream\":true,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private static X509Certificate x509(Certificate c) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(c.certificatePem().getBytes(StandardCharsets.US_ASCII)));
    }

    private static X509TrustManager trusting(Certificate ca) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        store.setCertificateEntry("ca", x509(ca));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        return (X509TrustManager) tmf.getTrustManagers()[0];
    }

    private static SSLContext client(Certificate ca) throws Exception {
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, new javax.net.ssl.TrustManager[] {trusting(ca)}, null);
        return ssl;
    }

    /** A gateway serving the pair in {@code volume} (a mounted Secret: {@code tls.crt}, {@code tls.key}). */
    private static GatewayHarness gateway(Simulator simulator, KubeletVolume volume, Certificate serving) throws Exception {
        volume.write(Map.of("tls.crt", serving.certificatePem().getBytes(StandardCharsets.US_ASCII),
                "tls.key", serving.privateKeyPem().getBytes(StandardCharsets.US_ASCII)));
        return new GatewayHarness().settings("tls: {certFile: %s, keyFile: %s}\n"
                        .formatted(volume.dir().resolve("tls.crt"), volume.dir().resolve("tls.key")))
                .write("providers.yaml", GatewayHarness.anthropicDeployment("sim", simulator.baseUrl(), null))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .start();
    }

    @Test
    void theAnthropicSdkStreamsOverHttpsWhileTheOperationsPortStaysPlain(@TempDir Path dir) throws Exception {
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
                GatewayHarness harness = gateway(simulator, new KubeletVolume(dir), TestCertificates.signedBy(CA, "localhost", "127.0.0.1"))) {
            simulator.enqueue(Reply.text("one two three four five"));
            AnthropicClient sdk = AnthropicOkHttpClient.builder().baseUrl("https://127.0.0.1:" + harness.gateway.apiPort() + "/anthropic")
                    .authToken(KEY).maxRetries(0).sslSocketFactory(client(CA).getSocketFactory()).trustManager(trusting(CA)).build();
            MessageAccumulator acc = MessageAccumulator.create();
            try (StreamResponse<RawMessageStreamEvent> stream = sdk.messages().createStreaming(MessageCreateParams.builder()
                    .model("claude-haiku-4-6").maxTokens(64).addUserMessage("hi").build())) {
                stream.stream().forEach(acc::accumulate);
            }
            assertThat(acc.message().content().get(0).asText().text()).isEqualTo("one two three four five");

            assertThatThrownBy(() -> harness.get(harness.baseUrl() + "/")).as("plain HTTP on the API port").isInstanceOf(java.io.IOException.class);
            assertThat(harness.get(harness.adminUrl() + "/readyz").statusCode()).isEqualTo(200);
        }
    }

    /** The serial of the certificate a new connection gets, after one request on it answered. */
    private static BigInteger handshake(SSLContext ssl, int port) throws Exception {
        try (SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket("127.0.0.1", port)) {
            BigInteger serial = ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
            assertThat(status(socket)).isEqualTo("HTTP/1.1 200 OK");
            return serial;
        }
    }

    /** Sends {@code HEAD /} on an open connection; the status line. */
    private static String status(SSLSocket socket) throws Exception {
        OutputStream out = socket.getOutputStream();
        out.write("HEAD / HTTP/1.1\r\nhost: gateway\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
        String status = in.readLine();
        for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
            // the headers
        }
        return status;
    }

    @Test
    void aRenewedCertificateServesNewConnectionsWithoutDroppingAnyAndABadPairIsRejected(@TempDir Path dir) throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger(ai.finops.gateway.tls.ServerTls.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        log.addAppender(lines);
        KubeletVolume volume = new KubeletVolume(dir);
        Certificate first = TestCertificates.signedBy(CA, "127.0.0.1");
        Certificate renewed = TestCertificates.signedBy(CA, "127.0.0.1");
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
                GatewayHarness harness = gateway(simulator, volume, first)) {
            SSLContext ssl = client(CA);
            int port = harness.gateway.apiPort();
            SSLSocket open = (SSLSocket) ssl.getSocketFactory().createSocket("127.0.0.1", port);
            assertThat(status(open)).isEqualTo("HTTP/1.1 200 OK");

            Set<BigInteger> seen = ConcurrentHashMap.newKeySet();
            AtomicInteger failures = new AtomicInteger();
            AtomicBoolean connecting = new AtomicBoolean(true);
            Thread client = new Thread(() -> {
                while (connecting.get()) {
                    try {
                        seen.add(handshake(ssl, port));
                    } catch (Exception | AssertionError e) {
                        failures.incrementAndGet();
                    }
                }
            });
            client.start();
            await().atMost(Duration.ofSeconds(5)).until(() -> seen.contains(x509(first).getSerialNumber()));
            volume.write(Map.of("tls.crt", renewed.certificatePem().getBytes(StandardCharsets.US_ASCII),
                    "tls.key", renewed.privateKeyPem().getBytes(StandardCharsets.US_ASCII)));
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains(x509(renewed).getSerialNumber()));

            // a certificate with another certificate's key: refused, logged, and the renewed one keeps serving
            volume.write(Map.of("tls.crt", TestCertificates.signedBy(CA, "127.0.0.1").certificatePem().getBytes(StandardCharsets.US_ASCII),
                    "tls.key", renewed.privateKeyPem().getBytes(StandardCharsets.US_ASCII)));
            await().atMost(Duration.ofSeconds(10)).until(() -> lines.list.stream()
                    .anyMatch(e -> e.getFormattedMessage().equals("TLS certificate rejected; still serving the previous one")));
            int before = seen.size();
            Thread.sleep(300);
            connecting.set(false);
            client.join();

            assertThat(seen).as("only the two good certificates were ever served").hasSize(before).hasSize(2);
            assertThat(failures).as("no connection failed through renewal and rejection").hasValue(0);
            assertThat(status(open)).as("the connection opened before the renewal still serves").isEqualTo("HTTP/1.1 200 OK");
            assertThat(handshake(ssl, port)).isEqualTo(x509(renewed).getSerialNumber());
            assertThat(lines.list).anyMatch(e -> e.getKeyValuePairs().stream()
                    .anyMatch(kv -> kv.key.equals("error") && String.valueOf(kv.value).contains("is not the private key of the certificate")));
            open.close();
        } finally {
            log.detachAppender(lines);
        }
    }

    /** A stream sent through {@code relay}, which adds the pod's key. */
    private static java.net.http.HttpResponse<String> throughRelay(GatewayHarness harness, Gateway relay) throws Exception {
        return harness.http.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.apiPort() + "/v1/messages"))
                .timeout(Duration.ofSeconds(20)).header("content-type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(STREAM)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aRelayVerifiesTheGatewaysCertificateAgainstItsCaAndHostName(@TempDir Path dir) throws Exception {
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
                GatewayHarness harness = gateway(simulator, new KubeletVolume(dir), TestCertificates.signedBy(CA, "127.0.0.1"))) {
            int port = harness.gateway.apiPort();
            simulator.enqueue(Reply.text("across nodes, encrypted"));
            try (Gateway relay = Gateway.relay(URI.create("https://127.0.0.1:" + port), CA.certificatePem(), KEY, "127.0.0.1", null, 0, 0)) {
                var r = throughRelay(harness, relay);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).contains("encrypted").contains("message_stop");
            }
            Certificate otherCa = TestCertificates.selfSigned("another-ca");
            try (Gateway relay = Gateway.relay(URI.create("https://127.0.0.1:" + port), otherCa.certificatePem(), KEY, "127.0.0.1", null, 0, 0)) {
                var r = throughRelay(harness, relay);
                assertThat(r.statusCode()).as("a certificate of another CA").isEqualTo(502);
                assertThat(r.body()).containsIgnoringCase("certif");
            }
            try (Gateway relay = Gateway.relay(URI.create("https://localhost:" + port), CA.certificatePem(), KEY, "127.0.0.1", null, 0, 0)) {
                var r = throughRelay(harness, relay);
                assertThat(r.statusCode()).as("the right CA, but not the name the certificate is for").isEqualTo(502);
                assertThat(r.body()).containsIgnoringCase("certif");
            }
            assertThat(simulator.requests()).as("nothing but the verified relay's request reached the provider").hasSize(1);
        }
    }
}

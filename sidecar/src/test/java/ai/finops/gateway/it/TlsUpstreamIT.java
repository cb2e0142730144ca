package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import ai.finops.testkit.TestCertificates;
import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.MessageCreateParams;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The real-Anthropic setup (examples/anthropic): an https endpoint and the provider key from an
 * environment variable. No provider is reachable from here, so the simulator plays it over TLS with
 * a self-signed certificate that the deployment trusts through {@code tls.caPem}.
 */
@ExtendWith(NettyLeakDetector.class)
class TlsUpstreamIT {
    static final String REAL_LOOKING_KEY = "sk-ant-api03-from-the-environment";
    static Simulator simulator;
    static GatewayHarness harness;
    static TestCertificates.Certificate certificate;

    @BeforeAll
    static void start() throws Exception {
        certificate = TestCertificates.selfSigned("localhost", "127.0.0.1");
        simulator = Simulator.start(SimulatorOptions.builder()
                .requiredApiKey(REAL_LOOKING_KEY)
                .tls(certificate.certificatePem(), certificate.privateKeyPem())
                .build());
        harness = new GatewayHarness();
        harness.env.put("ANTHROPIC_API_KEY", REAL_LOOKING_KEY);
        harness.write("providers.yaml", """
                apiVersion: finops.ai/v1alpha1
                kind: ProviderDeployment
                metadata: {name: anthropic}
                spec:
                  provider: anthropic
                  endpoint: https://localhost:%d
                  credentials: {secretRef: {name: anthropic-api}}
                  tls:
                    caPem: |
                %s
                ---
                apiVersion: finops.ai/v1alpha1
                kind: ProviderDeployment
                metadata: {name: untrusted}
                spec:
                  provider: anthropic
                  endpoint: https://localhost:%d
                  credentials: {secretRef: {name: anthropic-api}}
                  models: [{name: untrusted-model, deployment: claude-sonnet-4-6}]
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: anthropic-api}
                stringData:
                  apiKey: ${ANTHROPIC_API_KEY}
                """.formatted(simulator.port(), certificate.certificatePem().indent(6).stripTrailing(), simulator.port()))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .write("rules.yaml", GatewayHarness.SONNET_ALIAS_RULE)
                .start();
    }

    @AfterAll
    static void stop() throws Exception {
        harness.close();
        simulator.close();
    }

    @Test
    void streamsOverTlsWithTheKeyFromTheEnvironment() {
        AnthropicClient client = AnthropicOkHttpClient.builder().baseUrl(harness.baseUrl() + "/anthropic").apiKey(KEY).maxRetries(0).build();
        MessageAccumulator acc = MessageAccumulator.create();
        try (var stream = client.messages().createStreaming(MessageCreateParams.builder()
                .model("claude-sonnet-4-6").maxTokens(100).addUserMessage("hello").build())) {
            stream.stream().forEach(acc::accumulate);
        }
        assertThat(acc.message().content()).isNotEmpty();
        assertThat(simulator.requests().get(0).headers().get("x-api-key")).isEqualTo(REAL_LOOKING_KEY);
        assertThat(simulator.requests().get(0).headers().get("host")).isEqualTo("localhost:" + simulator.port());
    }

    @Test
    void anUntrustedCertificateIsRefused() throws Exception {
        int before = simulator.requests().size();
        HttpResponse<String> r = harness.post("/v1/messages",
                "{\"model\":\"untrusted/untrusted-model\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "x-api-key", KEY);
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.body()).contains("api_error").contains("untrusted");
        assertThat(simulator.requests()).hasSize(before);
    }
}

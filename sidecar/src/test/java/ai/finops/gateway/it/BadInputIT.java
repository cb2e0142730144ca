package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every bad input gets a clear error in Anthropic JSON, and nothing reaches the provider that should not. */
@ExtendWith(NettyLeakDetector.class)
class BadInputIT extends SimulatedProviderTest {

    @BeforeAll
    static void start() throws Exception {
        simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        harness = new GatewayHarness();
        harness.settings("""
                maxBodySize: 64Ki
                """)
                .write("providers.yaml", GatewayHarness.anthropicDeployment("anthropic-sim", simulator.baseUrl(), null))
                .write("keys.yaml", GatewayHarness.keyAndSecrets() + """
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: VirtualKey
                        metadata: {name: disabled}
                        spec: {secretRef: {name: vk-disabled}, disabled: true}
                        ---
                        apiVersion: v1
                        kind: Secret
                        metadata: {name: vk-disabled}
                        stringData: {token: vk-disabled-0123456789}
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: VirtualKey
                        metadata: {name: expired}
                        spec: {secretRef: {name: vk-expired}, expiresAt: "2020-01-01T00:00:00Z"}
                        ---
                        apiVersion: v1
                        kind: Secret
                        metadata: {name: vk-expired}
                        stringData: {token: vk-expired-0123456789}
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: VirtualKey
                        metadata: {name: hashed}
                        spec: {tokenSha256: f45d7cfa5e12b6186340b8a8308ab80a063f18fa15d691c4b3b0896d27276162}
                        ---
                        apiVersion: finops.ai/v1alpha1
                        kind: VirtualKey
                        metadata: {name: haiku-only}
                        spec: {secretRef: {name: vk-haiku}, allow: {models: ["claude-haiku-*"]}}
                        ---
                        apiVersion: v1
                        kind: Secret
                        metadata: {name: vk-haiku}
                        stringData: {token: vk-haiku-only-0123456789}
                        """)
                .start();
    }

    private static final String GOOD = "{\"model\":\"claude-sonnet-4-6\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private static void assertAnthropicError(HttpResponse<String> r, int status, String type, String messagePart) {
        assertThat(r.statusCode()).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(r.body()).startsWith("{\"type\":\"error\",\"error\":{\"type\":\"" + type + "\",\"message\":\"");
        assertThat(r.body()).contains(messagePart);
    }

    @Test
    void malformedJson() throws Exception {
        HttpResponse<String> r = harness.post("/v1/messages", "{\"model\":\"claude-sonnet-4-6\",", "x-api-key", KEY);
        assertAnthropicError(r, 400, "invalid_request_error",
                "\"message\":\"request body is not valid JSON: unexpected end of input at line 1, column 30\"");
        assertAnthropicError(harness.post("/v1/messages", "{\"model\":\"claude-sonnet-4-6\",\n \"max_tokens\": 8,\n}", "x-api-key", KEY), 400,
                "invalid_request_error", "\"message\":\"request body is not valid JSON: unexpected character '}' at line 3, column 1 "
                        + "(was expecting double-quote to start field name)\"");
        assertAnthropicError(harness.post("/v1/messages", "{\"max_tokens\":1}", "x-api-key", KEY), 400, "invalid_request_error", "model");
        assertThat(simulator.requests()).isEmpty();
    }

    @Test
    void missingUnknownDisabledExpiredKeys() throws Exception {
        assertAnthropicError(harness.post("/v1/messages", GOOD), 401, "authentication_error", "missing virtual key");
        assertAnthropicError(harness.post("/v1/messages", GOOD, "x-api-key", "vk-nope-0123456789"), 401, "authentication_error",
                "invalid virtual key");
        assertAnthropicError(harness.post("/v1/messages", GOOD, "authorization", "Bearer vk-disabled-0123456789"), 403, "permission_error",
                "disabled");
        assertAnthropicError(harness.post("/v1/messages", GOOD, "x-bf-vk", "vk-expired-0123456789"), 403, "permission_error", "expired");
        assertThat(harness.post("/v1/messages", GOOD, "x-api-key", "vk-nope-0123456789").body()).doesNotContain("vk-nope");
        assertThat(simulator.requests()).isEmpty();
    }

    @Test
    void refusalsAreCountedWithTheirOutcome() throws Exception {
        HttpResponse<String> r = harness.post("/v1/messages", GOOD, "x-api-key", "vk-nope-0123456789");
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("x-finops-request-id")).isPresent();
        harness.post("/v1/messages", GOOD.replace("claude-sonnet-4-6", "gpt-unknown-model"), "x-api-key", KEY);
        String metrics = harness.metrics();
        assertThat(metrics).containsPattern("finops_gateway_requests_total\\{api=\"anthropic\",deployment=\"none\",model=\"none\","
                + "outcome=\"rejected_auth\",provider=\"none\",route=\"none\",status=\"401\",virtual_key=\"none\"} [1-9]")
                .containsPattern("finops_gateway_requests_total\\{api=\"anthropic\",deployment=\"none\",model=\"none\","
                        + "outcome=\"rejected_not_found\",provider=\"none\",route=\"none\",status=\"404\",virtual_key=\"dev\"} [1-9]")
                .doesNotContain("gpt-unknown-model").doesNotContain("vk-nope");
    }

    @Test
    void aModelNameAClientMakesUpNeverBecomesAMetricSeries() throws Exception {
        // a pass-through deployment serves any name: metrics name the model only as config or the catalogue do
        for (int i = 0; i < 20; i++) {
            assertThat(harness.post("/v1/messages", GOOD.replace("claude-sonnet-4-6", "anthropic-sim/made-up-" + i), "x-api-key", KEY)
                    .statusCode()).isEqualTo(200);
        }
        assertThat(harness.post("/v1/messages", GOOD.replace("claude-sonnet-4-6", "anthropic-sim/claude-haiku-4-5-20251001"), "x-api-key", KEY)
                .statusCode()).isEqualTo(200);
        String metrics = harness.metrics();
        assertThat(metrics).doesNotContain("made-up-").doesNotContain("claude-haiku-4-5-20251001")
                .containsPattern("finops_gateway_requests_total\\{api=\"anthropic\",deployment=\"anthropic-sim\",model=\"other\",[^}]*\\} 20.0")
                .containsPattern("finops_gateway_requests_total\\{api=\"anthropic\",deployment=\"anthropic-sim\",model=\"claude-haiku-4-5\",");
    }

    @Test
    void aKeyGivenOnlyAsItsSha256Works() throws Exception {
        assertThat(harness.post("/v1/messages", GOOD, "x-api-key", "vk-hashed-only-0123456789").statusCode()).isEqualTo(200);
    }

    @Test
    void modelsOutsideTheAllowListAreForbidden() throws Exception {
        assertAnthropicError(harness.post("/v1/messages", GOOD, "x-api-key", "vk-haiku-only-0123456789"), 403, "permission_error",
                "claude-sonnet-4-6");
        assertThat(harness.post("/v1/messages", GOOD.replace("claude-sonnet-4-6", "claude-haiku-4-6"), "x-api-key", "vk-haiku-only-0123456789")
                .statusCode()).isEqualTo(200);
    }

    @Test
    void oversizeBody() throws Exception {
        String big = "{\"model\":\"claude-sonnet-4-6\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(70_000) + "\"}]}";
        assertAnthropicError(harness.post("/v1/messages", big, "x-api-key", KEY), 413, "request_too_large", "65536");
        assertThat(simulator.requests()).isEmpty();
    }

    @Test
    void unknownModelSaysWhatToAdd() throws Exception {
        HttpResponse<String> r = harness.post("/v1/messages", GOOD.replace("claude-sonnet-4-6", "gpt-4o"), "x-api-key", KEY);
        assertAnthropicError(r, 404, "not_found_error", "gpt-4o");
        assertThat(r.body()).contains("RoutingRule").contains("ProviderDeployment");
        assertAnthropicError(harness.post("/v1/messages", GOOD.replace("claude-sonnet-4-6", "vertex/claude-sonnet-4-6"), "x-api-key", KEY),
                404, "not_found_error", "vertex");
    }

    @ParameterizedTest
    @ValueSource(strings = {"../../admin/claude-x", "anthropic-sim/../x", "anthropic-sim%2F..%2Fx", "@evil.example.com/claude-x",
            "anthropic-sim/@evil.example.com", "http://evil.example.com/claude-x", "claude-x\r\nHost: evil", "anthropic-sim/claude x"})
    void modelNamesCannotSteerTheRequest(String model) throws Exception {
        String body = "{\"model\":" + com.fasterxml.jackson.databind.node.TextNode.valueOf(model) + ",\"max_tokens\":8,\"messages\":[]}";
        HttpResponse<String> r = harness.post("/v1/messages", body, "x-api-key", KEY);
        assertThat(r.statusCode()).isIn(400, 404);
        assertThat(r.body()).startsWith("{\"type\":\"error\"");
        assertThat(simulator.requests()).isEmpty();
    }

    @Test
    void unknownEndpointsAndMethods() throws Exception {
        assertAnthropicError(harness.post("/v1/complete", GOOD, "x-api-key", KEY), 404, "not_found_error", "/v1/complete");
        assertAnthropicError(harness.get(harness.baseUrl() + "/v1/messages"), 405, "invalid_request_error", "POST");
    }

    @Test
    void headAndModels() throws Exception {
        HttpResponse<String> head = harness.http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(harness.baseUrl() + "/"))
                .method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("x-finops-request-id")).hasValueSatisfying(id -> assertThat(id).startsWith("fgw_"));
        HttpResponse<String> models = harness.http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(harness.baseUrl() + "/anthropic/v1/models")).header("x-api-key", KEY).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(models.statusCode()).isEqualTo(200);
        assertThat(models.body()).startsWith("{\"data\":[").contains("\"has_more\":false");
        assertThat(models.headers().firstValue("x-finops-request-id")).hasValueSatisfying(id -> assertThat(id).startsWith("fgw_"));
    }

    @Test
    void aRequestWithoutAValidKeyIsRefusedOnItsHeadBeforeItsBodyIsSent() throws Exception {
        String[][] cases = {
                {"/anthropic/v1/messages", "x-api-key: vk-nope-0123456789\r\n", "HTTP/1.1 401", "\"type\":\"authentication_error\""},
                {"/v1/messages", "", "HTTP/1.1 401", "missing virtual key"},
                {"/openai/v1/chat/completions", "authorization: Bearer vk-disabled-0123456789\r\n", "HTTP/1.1 403",
                        "\"error\":{\"message\":\"virtual key 'disabled' is disabled\""}};
        for (String[] c : cases) {
            try (Socket s = new Socket("127.0.0.1", harness.gateway.apiPort())) {
                s.setSoTimeout(10_000);    // a gateway that waited for the body would never answer
                OutputStream out = s.getOutputStream();
                // announces 30 MB and sends none of it: the answer must not wait for the body
                out.write(("POST " + c[0] + " HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n" + c[1]
                        + "content-length: 30000000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String response = readResponse(s.getInputStream());
                assertThat(response).as(c[0]).startsWith(c[2]).contains(c[3]).containsIgnoringCase("x-finops-request-id: fgw_");
                // the body it announced is read and dropped; then the connection serves the next request
                byte[] chunk = new byte[1 << 20];
                for (int sent = 0; sent < 30_000_000; sent += chunk.length) {
                    out.write(chunk, 0, Math.min(chunk.length, 30_000_000 - sent));
                }
                out.write(("HEAD / HTTP/1.1\r\nhost: gateway\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
            }
        }
        assertThat(simulator.requests()).isEmpty();
    }

    @Test
    void the413ReachesAClientThatIsStillSendingItsBody() throws Exception {
        // 4 MB against a 64 KiB limit: the answer comes while the client is still writing, and a client that
        // stops on a failed write (the JDK's does) must not meet a reset before it reads the 413
        String big = "{\"model\":\"claude-sonnet-4-6\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\""
                + "x".repeat(4 << 20) + "\"}]}";
        for (int round = 0; round < 5; round++) {
            assertAnthropicError(harness.post("/v1/messages", big, "x-api-key", KEY), 413, "request_too_large", "65536");
        }
    }

    /** One response, head and a content-length body, read off a raw socket. */
    static String readResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.append((char) b);
        }
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
        byte[] body = length.find() ? in.readNBytes(Integer.parseInt(length.group(1))) : new byte[0];
        return head + new String(body, StandardCharsets.UTF_8);
    }

    @Test
    void garbageOnTheSocketGetsA400AndTheConnectionCloses() throws Exception {
        try (Socket s = new Socket("127.0.0.1", harness.gateway.apiPort())) {
            OutputStream out = s.getOutputStream();
            out.write("THIS IS NOT HTTP\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(response).startsWith("HTTP/1.1 400").contains("\"type\":\"error\"");
        }
    }
}

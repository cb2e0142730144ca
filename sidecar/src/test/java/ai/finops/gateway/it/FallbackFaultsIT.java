package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.RawUpstream;
import ai.finops.testkit.Reply;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A provider that fails half-way through an error body, before anything reached the client: the
 * request moves on to the fallback, and the client gets the fallback's answer, whole, within the
 * failed deployment's timeouts, whichever dialect it speaks and whether it streams or not. The
 * failed provider saw the request once and the access line counts both attempts.
 */
@ExtendWith(NettyLeakDetector.class)
class FallbackFaultsIT {
    static final String ANSWER = "Answered by the fallback.";
    /** Well past what a fallback after these faults takes (idle 1 s at most), and short of a hang. */
    static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(10);

    /** Each fault starts as an overloaded or refusing provider would, then breaks off mid-body. */
    enum Fault {
        RESET_AFTER_503(errorHead(503, "Service Unavailable").pause(Duration.ofMillis(300)).reset()),
        SILENT_AFTER_503(errorHead(503, "Service Unavailable").silence()),
        CUT_AFTER_400(errorHead(400, "Bad Request").write(",\"error\":{\"type\":\"invalid_request_error\"")
                .pause(Duration.ofMillis(300)).close());

        final RawUpstream.Script script;

        Fault(RawUpstream.Script script) {
            this.script = script;
        }

        /** A head that promises 1000 bytes of error body, and the first few of them. */
        private static RawUpstream.Script errorHead(int status, String reason) {
            return RawUpstream.script().write("HTTP/1.1 " + status + " " + reason + "\r\ncontent-type: application/json\r\n"
                    + "content-length: 1000\r\n\r\n{\"type\":\"error\"");
        }
    }

    enum Client { ANTHROPIC, OPENAI }

    static Simulator fallback;
    static RawUpstream raw;
    GatewayHarness harness;
    AccessLines access;

    @BeforeAll
    static void upstreams() {
        fallback = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
        raw = RawUpstream.start();
    }

    @AfterAll
    static void stopUpstreams() {
        fallback.close();
        raw.close();
    }

    @BeforeEach
    void start() throws Exception {
        fallback.clearRequests();
        raw.clear();
        access = new AccessLines();
        harness = new GatewayHarness()
                .write("providers.yaml", GatewayHarness.anthropicDeployment("raw", raw.baseUrl(), """
                        timeouts: {connect: 1s, firstByte: 2s, idle: 1s}
                        retries: {attempts: 1}
                        """)
                        + "---\n" + GatewayHarness.anthropicDeployment("fallback", fallback.baseUrl(), null))
                .write("keys.yaml", GatewayHarness.keyAndSecrets())
                .write("rules.yaml", GatewayHarness.fallbackRule("with-fallback", "fallback-model", "raw/claude-sonnet-4-6",
                        "fallback/claude-sonnet-4-6"))
                .start();
    }

    @AfterEach
    void stop() throws Exception {
        harness.close();
        access.close();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(raw.openConnections()).as("connections to the failed provider").isZero());
    }

    static Stream<Arguments> cases() {
        return Stream.of(Fault.values()).flatMap(f -> Stream.of(Client.values())
                .flatMap(c -> Stream.of(Arguments.of(f, c, false), Arguments.of(f, c, true))));
    }

    @ParameterizedTest(name = "{0}, {1} client, streaming {2}")
    @MethodSource("cases")
    void theFallbackAnswersWhole(Fault fault, Client client, boolean stream) {
        raw.enqueue(fault.script);
        fallback.enqueue(Reply.text(ANSWER));

        String text = client == Client.ANTHROPIC ? anthropic(stream) : openai(stream);

        assertThat(text).isEqualTo(ANSWER);
        assertThat(raw.requests()).as("the failed provider saw the request once").hasSize(1);
        assertThat(fallback.requests()).hasSize(1);
        List<Map<String, String>> lines = access.lines();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).containsEntry("attempts", "2").containsEntry("deployment", "fallback")
                .containsEntry("status", "200").containsEntry("outcome", "ok");
        assertThat(lines.get(0).get("failed_attempts")).startsWith("raw: HTTP " + (fault == Fault.CUT_AFTER_400 ? 400 : 503)).doesNotContain(";");
    }

    private String anthropic(boolean stream) {
        AnthropicClient client = AnthropicOkHttpClient.builder().baseUrl(harness.baseUrl() + "/anthropic").authToken(KEY)
                .maxRetries(0).timeout(CLIENT_TIMEOUT).build();
        try {
            MessageCreateParams params = MessageCreateParams.builder().model("fallback-model").maxTokens(64).addUserMessage("hi").build();
            Message message = stream ? StreamedMessage.read(client.messages().createStreaming(params)).message() : client.messages().create(params);
            assertThat(message.content()).hasSize(1);
            return message.content().get(0).asText().text();
        } finally {
            client.close();
        }
    }

    private String openai(boolean stream) {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(harness.baseUrl() + "/openai/v1").apiKey(KEY)
                .maxRetries(0).timeout(CLIENT_TIMEOUT).build();
        try {
            ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("fallback-model").addUserMessage("hi").build();
            ChatCompletion completion;
            if (stream) {
                ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
                try (StreamResponse<ChatCompletionChunk> chunks = client.chat().completions().createStreaming(params)) {
                    chunks.stream().forEach(acc::accumulate);
                }
                completion = acc.chatCompletion();
            } else {
                completion = client.chat().completions().create(params);
            }
            assertThat(completion.choices()).hasSize(1);
            assertThat(completion.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
            return completion.choices().get(0).message().content().orElseThrow();
        } finally {
            client.close();
        }
    }
}

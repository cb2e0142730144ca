package ai.finops.gateway.it;

import ai.finops.gateway.Gateway;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A gateway started in-process from a temporary config folder, on free loopback ports. */
final class GatewayHarness implements AutoCloseable {
    static final String KEY = "vk-test-0123456789abcdef";
    static final String PROVIDER_KEY = "sk-provider-secret-42";

    final Path dir;
    final Map<String, String> env = new HashMap<>();
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    Gateway gateway;
    /** Where budgets and rate limits are counted: in memory unless a test says otherwise. */
    Gateway.Governance governance = Gateway.Governance.inMemory();
    /** Off unless a test turns it on (the gateway closes it). */
    ai.finops.gateway.observability.tracing.Tracing tracing = ai.finops.gateway.observability.tracing.Tracing.OFF;

    GatewayHarness() throws IOException {
        dir = Files.createTempDirectory("finops-it");
        write("gateway.yaml", """
                apiVersion: finops.ai/v1alpha1
                kind: GatewaySettings
                metadata: {name: gateway}
                shutdownGracePeriod: 1s
                """);
    }

    /**
     * Replaces the GatewaySettings document with one of {@code fields} (YAML lines such as
     * {@code limits: {headerTimeout: 1s}}); {@code shutdownGracePeriod} is 1s unless they say otherwise.
     */
    GatewayHarness settings(String fields) throws IOException {
        String grace = fields.contains("shutdownGracePeriod:") ? "" : "shutdownGracePeriod: 1s\n";
        return write("gateway.yaml", "apiVersion: finops.ai/v1alpha1\nkind: GatewaySettings\nmetadata: {name: gateway}\n" + grace + fields);
    }

    /** Writes (atomically, as a deploy tool would) a file of the config folder. */
    GatewayHarness write(String name, String yaml) throws IOException {
        Path tmp = dir.resolve("." + name + ".tmp");
        Files.writeString(tmp, yaml, StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return this;
    }

    GatewayHarness start() throws Exception {
        gateway = Gateway.start(List.of(dir), null, env::get, "127.0.0.1", null, 0, 0, governance, tracing);
        return this;
    }

    String baseUrl() {
        return "http://127.0.0.1:" + gateway.apiPort();
    }

    /** The official Anthropic SDK on this gateway's Anthropic surface, with the test key and no retries. */
    com.anthropic.client.AnthropicClient anthropicClient() {
        return com.anthropic.client.okhttp.AnthropicOkHttpClient.builder().baseUrl(baseUrl() + "/anthropic").authToken(KEY).maxRetries(0).build();
    }

    String adminUrl() {
        return "http://127.0.0.1:" + gateway.adminPort();
    }

    /**
     * An anthropic deployment pointing at {@code endpoint}, with short timeouts for tests unless
     * {@code extraSpec} (more lines of its spec) sets its own.
     */
    static String anthropicDeployment(String name, String endpoint, String extraSpec) {
        String extra = extraSpec == null ? "" : extraSpec;
        String timeouts = extra.contains("timeouts:") ? "" : "timeouts: {connect: 1s, firstByte: 2s, idle: 2s}\n";
        return """
                apiVersion: finops.ai/v1alpha1
                kind: ProviderDeployment
                metadata: {name: %s}
                spec:
                  provider: anthropic
                  endpoint: %s
                  credentials: {secretRef: {name: provider-key}}
                %s""".formatted(name, endpoint, (timeouts + extra).indent(2));
    }

    /** A RoutingRule {@code name} that sends {@code model} to {@code target}, then to {@code fallback} when it fails. */
    static String fallbackRule(String name, String model, String target, String fallback) {
        return rule(name, model, target) + "  fallbacks: [" + fallback + "]\n";
    }

    /** A RoutingRule {@code name} that sends {@code model} to {@code target} alone. */
    static String rule(String name, String model, String target) {
        return """
                apiVersion: finops.ai/v1alpha1
                kind: RoutingRule
                metadata: {name: %s}
                spec:
                  when: 'model == "%s"'
                  targets: [{model: %s}]
                """.formatted(name, model, target);
    }

    static String keyAndSecrets() {
        return """
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: dev}
                spec:
                  secretRef: {name: vk-dev}
                  owner: dev@example.com
                  team: platform
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: vk-dev}
                stringData: {token: "%s"}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: provider-key}
                stringData: {apiKey: "%s"}
                """.formatted(KEY, PROVIDER_KEY);
    }

    /**
     * The setup most tests share: one anthropic deployment ({@code anthropic-sim}) at the
     * simulator, the {@code dev} key, and Claude Code's {@code sonnet-model} alias rule; started.
     */
    static GatewayHarness claudeCodeSetup(ai.finops.testkit.Simulator simulator) throws Exception {
        return new GatewayHarness()
                .write("providers.yaml", anthropicDeployment("anthropic-sim", simulator.baseUrl(), null))
                .write("keys.yaml", keyAndSecrets())
                .write("rules.yaml", SONNET_ALIAS_RULE)
                .start();
    }

    static final String SONNET_ALIAS_RULE = """
            apiVersion: finops.ai/v1alpha1
            kind: RoutingRule
            metadata: {name: claude-code-sonnet}
            spec:
              priority: 10
              when: 'model == "sonnet-model" && headers["user-agent"].startsWith("claude-cli")'
              targets: [{model: anthropic/claude-sonnet-4-6}]
            """;

    HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A one-message Messages request for {@code model} with the test key (and {@code headers} besides), on {@code /v1/messages}. */
    HttpResponse<String> message(String model, boolean stream, String... headers) throws Exception {
        String body = "{\"model\":\"" + model + "\",\"max_tokens\":64,\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        List<String> all = new java.util.ArrayList<>(List.of("x-api-key", KEY, "content-type", "application/json", "anthropic-version",
                "2023-06-01"));
        all.addAll(List.of(headers));
        return post("/v1/messages", body, all.toArray(String[]::new));
    }

    /** Headers the JDK client computes itself. */
    static final java.util.Set<String> RESTRICTED = java.util.Set.of("connection", "host", "content-length", "expect", "upgrade");

    /**
     * Sends a captured Claude Code request to the Anthropic surface as Claude Code sent it: its path and
     * headers, {@code body} (the captured one, or a variant with another model), and {@code auth} instead
     * of its credential.
     */
    HttpResponse<String> replay(ai.finops.testkit.ClaudeCodeFixtures.CapturedRequest captured, String body, Map<String, String> auth)
            throws Exception {
        return replay(baseUrl(), captured, body, auth);
    }

    /** As above, to the gateway (or via-gateway sidecar) at {@code gatewayUrl}. */
    HttpResponse<String> replay(String gatewayUrl, ai.finops.testkit.ClaudeCodeFixtures.CapturedRequest captured, String body,
            Map<String, String> auth) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gatewayUrl + "/anthropic" + captured.path()))
                .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString(body));
        captured.headers().forEach((name, value) -> {
            if (!RESTRICTED.contains(name) && !name.equals("authorization")) {
                b.header(name, value);
            }
        });
        auth.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    String metrics() throws Exception {
        return get(adminUrl() + "/metrics").body();
    }

    @Override
    public void close() throws IOException {
        if (gateway != null) {
            gateway.close();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

package ai.finops.crds.validation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.crds.McpServer;
import ai.finops.crds.ResourceSet;
import ai.finops.crds.ResourceYaml;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** McpServers and the MCP allow-lists of VirtualKeys, read from YAML as standalone mode reads them. */
class McpServerValidationTest {
    static final String GITHUB_TOKEN = "ghp-secret-0123456789";

    static List<String> problems(String yaml, ResourceSet.SecretChecks checks) {
        ResourceYaml.Result read = ResourceYaml.read(yaml, "mcp.yaml");
        assertThat(read.problems()).isEmpty();
        List<Problem> problems = new ArrayList<>();
        ResourceSet set = read.toResourceSet(name -> null, checks, problems);
        assertThat(problems).isEmpty();
        List<String> all = ResourceValidator.validate(set).stream().map(Problem::toString).toList();
        assertThat(String.join("\n", all)).doesNotContain(GITHUB_TOKEN);
        return all;
    }

    static final String SECRET = """
            apiVersion: v1
            kind: Secret
            metadata: {name: gh-mcp}
            stringData: {token: %s}
            """.formatted(GITHUB_TOKEN);

    @Test
    void theIssuesExampleIsValidAndReadsBack() {
        String yaml = """
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: github}
                spec:
                  url: https://mcp.example.com/mcp
                  toolPrefix: gh
                  auth: {secretRef: {name: gh-mcp, key: token}, header: Authorization, scheme: Bearer}
                  tools: {allow: ["*"], deny: ["delete_*"]}
                  timeouts: {connect: 5s, call: 120s}
                  pricing: {perCallUsd: "0.002"}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: alice}
                spec:
                  tokenSha256: %s
                  allow: {mcpServers: [github], mcpTools: ["gh__*"]}
                ---
                """.formatted(ResourceValidator.sha256Hex("alice-token-0123456789")) + SECRET;
        assertThat(problems(yaml, ResourceSet.SecretChecks.ALL)).isEmpty();
        McpServer server = ResourceYaml.read(yaml, "mcp.yaml").resources(McpServer.class).get(0);
        assertThat(ResourceValidator.toolPrefix(server)).isEqualTo("gh");
        assertThat(server.getSpec().tools.deny).containsExactly("delete_*");
        assertThat(ResourceValidator.mcpCredentialKey(server.getSpec().auth)).isEqualTo("token");
        assertThat(server.getSpec().pricing.perCallUsd).isEqualTo("0.002");
    }

    @Test
    void oneServerMayListItsToolsWithoutAPrefixButNotTwo() {
        String one = """
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: plain}
                spec: {url: "http://one.example/mcp", toolPrefix: ""}
                ---
                """;
        assertThat(problems(one + SECRET, ResourceSet.SecretChecks.ALL)).isEmpty();
        assertThat(ResourceValidator.toolPrefix(ResourceYaml.read(one, "mcp.yaml").resources(McpServer.class).get(0))).isEmpty();
        String two = one + """
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: also-plain}
                spec: {url: "http://two.example/mcp", toolPrefix: ""}
                ---
                """;
        assertThat(problems(two + SECRET, ResourceSet.SecretChecks.ALL)).containsExactly(
                "McpServer/plain: spec.toolPrefix: McpServer 'also-plain' already lists its tools without a prefix: only one server may");
    }

    @Test
    void everyMistakeIsNamedWithoutTheSecretsValue() {
        String yaml = """
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: a}
                spec:
                  url: ftp://mcp.example.com
                  transport: websocket
                  toolPrefix: "a__b"
                  auth: {secretRef: {name: gh-mcp, key: missing}, header: Mcp-Session-Id}
                  tools: {allow: [""]}
                  timeouts: {call: forever}
                  pricing: {perCallUsd: "0.0000001"}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: b}
                spec: {url: "http://one.example/mcp", toolPrefix: shared}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: shared}
                spec: {url: "http://two.example/mcp"}
                ---
                apiVersion: finops.ai/v1alpha1
                kind: VirtualKey
                metadata: {name: bob}
                spec:
                  tokenSha256: %s
                  allow: {mcpServers: [nope], mcpTools: [" "]}
                ---
                """.formatted(ResourceValidator.sha256Hex("bob-token-0123456789")) + SECRET;
        assertThat(problems(yaml, ResourceSet.SecretChecks.ALL)).containsExactly(
                "VirtualKey/bob: spec.allow.mcpServers[0]: McpServer 'nope' not found (McpServers: [a, b, shared])",
                "VirtualKey/bob: spec.allow.mcpTools[0]: is empty (use \"*\" to allow every tool, or omit the list)",
                "McpServer/a: spec.url: scheme 'ftp' is not allowed: use http or https",
                "McpServer/a: spec.transport: unknown transport 'websocket' (one of [streamable-http, sse])",
                "McpServer/a: spec.toolPrefix: 'a__b' is not a valid tool prefix: at most 63 letters, digits, '-', '.' and '_',"
                        + " starting and ending with a letter or digit, without \"__\"; or \"\" for none",
                "McpServer/a: spec.auth.header: header 'Mcp-Session-Id' is the protocol's own: name another",
                "McpServer/a: spec.auth.secretRef.key: Secret 'gh-mcp' has no key 'missing' (keys: [token])",
                "McpServer/a: spec.tools.allow[0]: is empty (use \"*\" to allow every tool, or omit the list)",
                problemOf(yaml, "McpServer/a: spec.timeouts.call: "),
                "McpServer/a: spec.pricing.perCallUsd: amount '0.0000001' has more than 6 fractional digits",
                "McpServer/shared: metadata.name: tool prefix 'shared' is already McpServer 'b''s: each server's tools need a prefix of their own");
    }

    @Test
    void aMissingSecretIsUnresolvedUnlessSecretsAreNotLookedUp() {
        String yaml = """
                apiVersion: finops.ai/v1alpha1
                kind: McpServer
                metadata: {name: docs}
                spec: {url: "https://docs.example/mcp", auth: {secretRef: {name: docs-mcp}}}
                """;
        List<Problem> problems = ResourceValidator.validate(ResourceYaml.read(yaml, "m.yaml")
                .toResourceSet(null, ResourceSet.SecretChecks.PROVIDER_CREDENTIALS, new ArrayList<>()));
        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.toString()).isEqualTo("McpServer/docs: spec.auth.secretRef.name: Secret 'docs-mcp' not found");
            assertThat(p.unresolvedReference()).isTrue();
        });
        assertThat(problems(yaml, ResourceSet.SecretChecks.NONE)).isEmpty();
    }

    private static String problemOf(String yaml, String prefix) {
        return problems(yaml, ResourceSet.SecretChecks.ALL).stream().filter(p -> p.startsWith(prefix)).findFirst().orElse(prefix + "(none)");
    }
}

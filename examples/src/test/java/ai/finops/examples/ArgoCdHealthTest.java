package ai.finops.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The Argo CD health checks the project ships ({@code examples/argocd/resource_customizations/finops.ai/<Kind>/health.lua},
 * Argo CD's own layout) run under Lua 5.1, the dialect of Argo CD's gopher-lua, against their
 * {@code health_test.yaml} cases in Argo CD's format; and {@code examples/argocd/argocd-cm.yaml} carries
 * exactly those scripts ({@code -Dfinops.updateArgoCd=true} rewrites it).
 */
class ArgoCdHealthTest {
    static final Path ROOT = Path.of("argocd");
    static final Path CUSTOMIZATIONS = ROOT.resolve("resource_customizations/finops.ai");
    static final List<String> KINDS = List.of("ProviderDeployment", "RoutingRule", "VirtualKey", "Budget", "McpServer");
    static final YAMLMapper YAML = new YAMLMapper();

    @ParameterizedTest
    @ValueSource(strings = {"ProviderDeployment", "RoutingRule", "VirtualKey", "Budget", "McpServer"})
    void everyCaseOfHealthTestYamlGivesItsStatusAndMessage(String kind) throws Exception {
        assumeLua();
        Path dir = CUSTOMIZATIONS.resolve(kind);
        String script = Files.readString(dir.resolve("health.lua"));
        JsonNode tests = YAML.readTree(dir.resolve("health_test.yaml").toFile()).path("tests");
        assertThat(tests.size()).isGreaterThanOrEqualTo(4);
        for (JsonNode test : tests) {
            JsonNode input = YAML.readTree(dir.resolve(test.path("inputPath").asText()).toFile());
            assertThat(input.path("kind").asText()).isEqualTo(kind);
            List<String> result = runLua(script, input);
            assertThat(result).as("%s %s", kind, test.path("inputPath").asText())
                    .containsExactly(test.path("healthStatus").path("status").asText(), test.path("healthStatus").path("message").asText());
        }
    }

    @Test
    void theScriptsAreOneAndTheArgoCdConfigMapCarriesIt() throws Exception {
        String script = Files.readString(CUSTOMIZATIONS.resolve("RoutingRule/health.lua"));
        for (String kind : KINDS) {
            assertThat(Files.readString(CUSTOMIZATIONS.resolve(kind).resolve("health.lua"))).as(kind).isEqualTo(script);
        }
        StringBuilder cm = new StringBuilder("""
                # Generated from resource_customizations/finops.ai/*/health.lua (ArgoCdHealthTest checks it).
                # Merge into Argo CD's argocd-cm, or use the resource_customizations folder layout.
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: argocd-cm
                  namespace: argocd
                  labels: {app.kubernetes.io/part-of: argocd}
                data:
                """);
        for (String kind : KINDS) {
            cm.append("  resource.customizations.health.finops.ai_").append(kind).append(": |\n");
            script.lines().forEach(line -> cm.append(line.isEmpty() ? "" : "    " + line).append('\n'));
        }
        Path generated = ROOT.resolve("argocd-cm.yaml");
        if (Boolean.getBoolean("finops.updateArgoCd")) {
            Files.writeString(generated, cm.toString());
        }
        assertThat(Files.readString(generated)).as("examples/argocd/argocd-cm.yaml is stale; rerun with -Dfinops.updateArgoCd=true")
                .isEqualTo(cm.toString());
        // and what Argo CD reads back from it is the script itself
        JsonNode parsed = YAML.readTree(generated.toFile());
        assertThat(parsed.path("data").path("resource.customizations.health.finops.ai_VirtualKey").asText()).isEqualTo(script);
    }

    /**
     * Lua 5.1 is an optional tool for a local build: without it these cases are skipped with a message
     * saying so; in CI ({@code CI} set, as {@code .ci/run} does after installing it) its absence fails.
     */
    static void assumeLua() {
        boolean present;
        try {
            Process probe = new ProcessBuilder("lua5.1", "-v").redirectErrorStream(true).start();
            probe.getInputStream().readAllBytes();
            present = probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            present = false;
        }
        String message = "lua5.1 is not on the PATH, so the Argo CD health checks were not run (apt-get install lua5.1)";
        if (System.getenv("CI") != null) {
            assertThat(present).as(message).isTrue();
        }
        assumeTrue(present, message);
    }

    /** Runs the health script with {@code obj} bound as Argo CD binds it; returns status and message. */
    static List<String> runLua(String script, JsonNode obj) throws IOException, InterruptedException {
        Path file = Files.createTempFile("health", ".lua");
        try {
            Files.writeString(file, "obj = " + lua(obj) + "\nlocal hs = (function()\n" + script + "\nend)()\n"
                    + "print(hs.status)\nprint(hs.message)\n");
            Process lua = new ProcessBuilder("lua5.1", file.toString()).redirectErrorStream(true).start();
            String out = new String(lua.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(lua.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(lua.exitValue()).as(out).isZero();
            return out.lines().toList();
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** A JSON tree as a Lua table constructor (objects keyed by string, arrays 1-based, null left out). */
    static String lua(JsonNode node) {
        if (node.isObject()) {
            StringBuilder sb = new StringBuilder("{");
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isNull()) {
                    sb.append("[").append(quote(e.getKey())).append("]=").append(lua(e.getValue())).append(",");
                }
            }
            return sb.append("}").toString();
        }
        if (node.isArray()) {
            StringBuilder sb = new StringBuilder("{");
            node.forEach(v -> sb.append(lua(v)).append(","));
            return sb.append("}").toString();
        }
        if (node.isNumber() || node.isBoolean()) {
            return node.asText();
        }
        return quote(node.asText());
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\r", "\\r") + "\"";
    }

}

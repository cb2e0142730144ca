package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The README's Metrics table against {@code /metrics}: every name it lists is a name a scrape
 * shows, those it says are there from the start on a fresh gateway, the others once requests with
 * their tags were served. The table is read from the README itself, so the two cannot drift.
 */
@ExtendWith(NettyLeakDetector.class)
class DocumentedMetricsIT {

    /** A row of the Metrics table: the sample names it lists, and whether it says they are there from the start. */
    record Row(List<String> names, boolean fromTheStart) {}

    @Test
    void everyMetricTheReadmeListsIsOneAScrapeShows() throws Exception {
        List<Row> rows = readmeMetricsTable();
        assertThat(rows).as("rows of the README's Metrics table").hasSizeGreaterThan(5);
        assertThat(rows).as("rows that exist from the start").anyMatch(Row::fromTheStart);
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).build());
                GatewayHarness harness = new GatewayHarness()
                        .write("providers.yaml", GatewayHarness.anthropicDeployment("anthropic-sim", simulator.baseUrl(), null)
                                + "---\n" + GatewayHarness.anthropicDeployment("dead", "http://127.0.0.1:" + closedPort, null))
                        .write("keys.yaml", GatewayHarness.keyAndSecrets())
                        .write("rules.yaml", GatewayHarness.fallbackRule("with-fallback", "app-model", "dead/claude-sonnet-4-6",
                                "anthropic-sim/claude-sonnet-4-6"))
                        .start()) {
            Set<String> fresh = sampleNames(harness.metrics());
            for (Row row : rows) {
                if (row.fromTheStart()) {
                    assertThat(fresh).as("on a fresh gateway: %s", fresh).containsAll(row.names());
                }
            }

            // one request whose first attempt fails (an upstream error) and whose fallback answers (tokens, cost)
            for (boolean stream : new boolean[] {true, false}) {
                String body = "{\"model\":\"app-model\",\"max_tokens\":64,\"stream\":" + stream
                        + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
                assertThat(harness.post("/v1/messages", body, "x-api-key", KEY, "content-type", "application/json").statusCode()).isEqualTo(200);
            }
            Set<String> served = sampleNames(harness.metrics());
            for (Row row : rows) {
                assertThat(served).as("after requests: %s", served).containsAll(row.names());
            }
        }
    }

    /** The names of the samples of a Prometheus text exposition. */
    static Set<String> sampleNames(String exposition) {
        Set<String> names = new LinkedHashSet<>();
        for (String line : exposition.split("\n")) {
            if (!line.isEmpty() && !line.startsWith("#")) {
                int end = line.indexOf('{');
                names.add(line.substring(0, end >= 0 ? end : line.indexOf(' ')));
            }
        }
        return names;
    }

    private static final Pattern CODE = Pattern.compile("`([^`]+)`");

    /**
     * The README's {@code ### Metrics} table. Its first column names samples in code: a full name,
     * then siblings as suffixes ({@code `x_seconds_bucket`, `_count`} is {@code x_seconds_bucket}
     * and {@code x_seconds_count}); a row that says "from the start" is there before any request.
     */
    static List<Row> readmeMetricsTable() throws IOException {
        List<String> lines = Files.readAllLines(readme(), StandardCharsets.UTF_8);
        int heading = lines.indexOf("### Metrics");
        assertThat(heading).as("the README has a '### Metrics' section").isNotNegative();
        List<Row> rows = new ArrayList<>();
        boolean inTable = false;
        for (String line : lines.subList(heading + 1, lines.size())) {
            if (!line.startsWith("|")) {
                if (inTable) {
                    break;
                }
                continue;
            }
            inTable = true;
            String[] cells = line.split("\\|");
            if (cells.length < 3 || cells[1].isBlank() || cells[1].trim().equals("name") || cells[1].trim().startsWith("---")) {
                continue;
            }
            List<String> names = new ArrayList<>();
            Matcher m = CODE.matcher(cells[1]);
            String first = null;
            while (m.find()) {
                String code = m.group(1);
                if (first == null) {
                    first = code;
                    names.add(code);
                } else if (code.startsWith("_")) {
                    names.add(first.substring(0, first.lastIndexOf('_')) + code);
                }
            }
            assertThat(names).as("names in: %s", line).isNotEmpty();
            rows.add(new Row(names, line.contains("from the start")));
        }
        return rows;
    }

    /** The repository's README.md: the tests run in the module's folder, the README is in the repository root. */
    static Path readme() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve("README.md");
            if (Files.isRegularFile(candidate) && Files.isDirectory(dir.resolve("sidecar"))) {
                return candidate;
            }
            dir = dir.getParent();
        }
        throw new AssertionError("README.md of the repository not found above " + Path.of("").toAbsolutePath());
    }
}

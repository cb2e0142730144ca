package ai.finops.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.testkit.ClaudeCodeFixtures.CapturedRequest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** The captured Claude Code requests load from this module's resources, as tests and benchmarks read them. */
class ClaudeCodeFixturesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyTurnLoadsFromTheClasspathWithItsRealShape() throws IOException {
        for (String turn : ClaudeCodeFixtures.TURNS) {
            CapturedRequest captured = ClaudeCodeFixtures.load(turn);
            assertThat(captured.method()).isEqualTo("POST");
            assertThat(captured.path()).isEqualTo("/v1/messages?beta=true");
            assertThat(captured.headers()).containsEntry("anthropic-version", "2023-06-01")
                    .hasEntrySatisfying("user-agent", ua -> assertThat(ua).startsWith("claude-cli/2.1.328"));
            assertThat(captured.body().length).as(turn + " body size").isGreaterThan(80_000);
            JsonNode body = JSON.readTree(captured.body());
            assertThat(body.path("stream").asBoolean()).isTrue();
            assertThat(body.path("tools").size()).isEqualTo(12);
        }
        JsonNode turn2 = JSON.readTree(ClaudeCodeFixtures.load("turn2-request.json").body());
        assertThat(turn2.path("messages").findValuesAsText("type")).contains("tool_use", "tool_result");
    }

    @Test
    void theFixturesTravelWithTheirReadme() throws IOException {
        try (InputStream readme = ClaudeCodeFixtures.class.getResourceAsStream("/fixtures/claude-code-2.1.328/README.md")) {
            assertThat(readme).isNotNull();
            assertThat(new String(readme.readAllBytes())).contains("turn1-request.json", "turn2-request.json");
        }
    }

    @Test
    void anUnknownFixtureNamesTheOnesThatExist() {
        assertThatThrownBy(() -> ClaudeCodeFixtures.load("turn3-request.json"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("turn1-request.json");
    }
}

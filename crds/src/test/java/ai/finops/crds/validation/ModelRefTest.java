package ai.finops.crds.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelRefTest {
    @Test
    void parsesPrefixAndModel() {
        ModelRef ref = ModelRef.parse("vertex/claude-sonnet-4-6");
        assertThat(ref.prefix()).isEqualTo("vertex");
        assertThat(ref.model()).isEqualTo("claude-sonnet-4-6");
        assertThat(ref.hasPrefix()).isTrue();
        assertThat(ref).hasToString("vertex/claude-sonnet-4-6");
    }

    @Test
    void parsesBareModel() {
        ModelRef ref = ModelRef.parse("claude-sonnet-4-6");
        assertThat(ref.prefix()).isNull();
        assertThat(ref.model()).isEqualTo("claude-sonnet-4-6");
        assertThat(ref).hasToString("claude-sonnet-4-6").isEqualTo(ModelRef.bare("claude-sonnet-4-6"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "bedrock-us/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "vertex/claude-sonnet-4@20250514",
        "gpt-4o-mini",
        "azure-openai/my_deployment.v2",
        "a/b",
        "x1/Model_Name.1"
    })
    void acceptsRealWorldIds(String ref) {
        assertThat(ModelRef.parse(ref)).hasToString(ref);
        assertThat(ModelRef.isValid(ref)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "../x", "..", "a/../c", "a@b/../c", "%2F", "vertex/%2Fetc", "a/b/c", "/model", "vertex/", "Vertex/model",
        "-vertex/model", "vertex-/model", "model with space", "model\u0000", "model\n", ".hidden", "@model", "-model",
        "a..b", "vertex/.x", "vertex/@x", "model?x=1", "model#frag", "http://evil", "caf\u00e9", "a\\b"
    })
    void rejectsAnythingElse(String ref) {
        assertThatThrownBy(() -> ModelRef.parse(ref)).isInstanceOf(IllegalArgumentException.class);
        assertThat(ModelRef.isValid(ref)).isFalse();
    }

    @Test
    void messagesSayWhichCharacterOrPart() {
        assertThatThrownBy(() -> ModelRef.parse("a/b/c")).hasMessageContaining("more than one '/'");
        assertThatThrownBy(() -> ModelRef.parse("%2F")).hasMessageContaining("character '%' at position 0");
        assertThatThrownBy(() -> ModelRef.parse("my model")).hasMessageContaining("' ' (space)");
        assertThatThrownBy(() -> ModelRef.parse("m\u0007")).hasMessageContaining("U+0007 (control character)")
                .hasMessageNotContaining("\u0007");
        assertThatThrownBy(() -> ModelRef.parse("Vertex/m")).hasMessageContaining("character 'V'").hasMessageContaining("prefix");
        assertThatThrownBy(() -> ModelRef.parse("/m")).hasMessageContaining("empty prefix");
        assertThatThrownBy(() -> ModelRef.parse("p/")).hasMessageContaining("empty model");
        assertThatThrownBy(() -> ModelRef.parse("p/..x")).hasMessageContaining("must not start with '.'");
        assertThatThrownBy(() -> ModelRef.parse("p/a..x")).hasMessageContaining("must not contain '..'");
        assertThatThrownBy(() -> ModelRef.parse(null)).hasMessageContaining("empty");
    }

    @Test
    void lengthLimits() {
        assertThat(ModelRef.isValid("m".repeat(256))).isTrue();
        assertThatThrownBy(() -> ModelRef.parse("m".repeat(257))).hasMessageContaining("at most 256");
        assertThat(ModelRef.isValid("p".repeat(63) + "/m")).isTrue();
        assertThat(ModelRef.isValid("p".repeat(64) + "/m")).isFalse();
    }

    @Test
    void constructorValidatesToo() {
        assertThatThrownBy(() -> new ModelRef("ok", "../etc")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ModelRef("no/pe", "m")).isInstanceOf(IllegalArgumentException.class);
        assertThat(ModelRef.parse(new ModelRef("p", "m").toString())).isEqualTo(new ModelRef("p", "m"));
    }
}

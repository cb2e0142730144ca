package ai.finops.crds.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProblemTest {
    @Test
    void toStringNamesResourceFieldAndProblem() {
        Problem p = new Problem("RoutingRule", "claude-code-sonnet", "spec.targets[0].model",
                "unknown provider or deployment 'vertx' (ProviderDeployment names: [vertex-prod]; provider types: [vertex])");
        assertThat(p).hasToString("RoutingRule/claude-code-sonnet: spec.targets[0].model: unknown provider or deployment 'vertx'"
                + " (ProviderDeployment names: [vertex-prod]; provider types: [vertex])");
        assertThat(p.resource()).isEqualTo("RoutingRule/claude-code-sonnet");
    }

    @Test
    void unknownPartsAreLeftOut() {
        assertThat(new Problem(null, null, null, "a.yaml:3:1: YAML syntax error")).hasToString("a.yaml:3:1: YAML syntax error");
        assertThat(new Problem("VirtualKey", null, "metadata.name", "is required")).hasToString("VirtualKey: metadata.name: is required");
        assertThat(new Problem("VirtualKey", "alice", null, "x")).hasToString("VirtualKey/alice: x");
    }

    @Test
    void messageIsRequired() {
        assertThatThrownBy(() -> new Problem("a", "b", "c", null)).isInstanceOf(NullPointerException.class);
    }
}

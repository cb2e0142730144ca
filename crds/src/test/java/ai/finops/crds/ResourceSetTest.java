package ai.finops.crds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResourceSetTest {
    @Test
    void immutableCopiesAndDefaults() {
        List<VirtualKey> keys = new ArrayList<>();
        Map<String, Map<String, String>> secrets = new HashMap<>();
        secrets.put("s", new HashMap<>(Map.of("token", "very-secret-token-value")));
        ResourceSet set = new ResourceSet(null, List.of(), keys, secrets);
        keys.add(new VirtualKey());
        secrets.get("s").put("other", "x");
        assertThat(set.keys()).isEmpty();
        assertThat(set.deployments()).isEmpty();
        assertThat(set.secrets().get("s")).containsOnlyKeys("token");
        assertThat(set.secretChecks()).isEqualTo(ResourceSet.SecretChecks.ALL);
        assertThat(set.resolvesKeySecrets()).isTrue();
        assertThat(set.resolvesProviderSecrets()).isTrue();
        assertThatThrownBy(() -> set.secrets().put("x", Map.of())).isInstanceOf(UnsupportedOperationException.class);
        assertThat(set.toString()).doesNotContain("very-secret");
        ResourceSet bundle = set.withSecretChecks(ResourceSet.SecretChecks.PROVIDER_CREDENTIALS);
        assertThat(bundle.resolvesKeySecrets()).isFalse();
        assertThat(bundle.resolvesProviderSecrets()).isTrue();
        assertThat(ResourceSet.empty().withSecretChecks(ResourceSet.SecretChecks.NONE).resolvesProviderSecrets()).isFalse();
        assertThat(set.budgets()).isEmpty();
    }

    @Test
    void budgetsAreCopiedAndKeptByEveryWither() {
        List<Budget> budgets = new ArrayList<>();
        budgets.add(new Budget());
        ResourceSet set = new ResourceSet(List.of(), List.of(), List.of(), budgets, Map.of(), ResourceSet.SecretChecks.ALL);
        budgets.add(new Budget());
        assertThat(set.budgets()).hasSize(1);
        assertThatThrownBy(() -> set.budgets().add(new Budget())).isInstanceOf(UnsupportedOperationException.class);
        assertThat(set.withSecretChecks(ResourceSet.SecretChecks.NONE).budgets()).hasSize(1);
        assertThat(set.withSecrets(Map.of("s", Map.of("k", "v"))).budgets()).hasSize(1);
        assertThat(set.withSecrets(Map.of("s", Map.of("k", "v"))).secrets()).containsOnlyKeys("s");
        assertThat(set.toString()).contains("budgets=1");
    }
}

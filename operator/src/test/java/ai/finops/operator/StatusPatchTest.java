package ai.finops.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.crds.Budget;
import ai.finops.crds.ResourceStatus;
import ai.finops.operator.bundle.Statuses;
import ai.finops.operator.bundle.Verdict;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.zjsonpatch.JsonPatch;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The JSON Patch the bundle reconciler sends on {@code /status}, applied as the API server applies it:
 * it sets its three conditions and observedGeneration, keeps every other field and the spend loop's
 * conditions (also one written after the reconciler read the status), and fails rather than replace
 * another writer's entry when the list moved under it.
 */
class StatusPatchTest {
    static final Instant NOW = Instant.parse("2026-12-04T10:00:00Z");
    static final String STORED = """
            {"apiVersion": "finops.ai/v1alpha1", "kind": "Budget", "metadata": {"name": "team-a", "generation": 2},
             "spec": {"limitUsd": "2000.00", "period": "Monthly"},
             "status": {"observedGeneration": 1,
               "conditions": [
                 {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "The spec is valid.", "observedGeneration": 1,
                  "lastTransitionTime": "2026-12-01T00:00:00Z"},
                 {"type": "BudgetExceeded", "status": "False", "reason": "UnderLimit", "message": "spent 12.34 of 2000.00",
                  "lastTransitionTime": "2026-12-01T00:00:00Z"},
                 {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs", "message": "Every reference resolves.",
                  "observedGeneration": 1, "lastTransitionTime": "2026-12-01T00:00:00Z"},
                 {"type": "Ready", "status": "True", "reason": "InBundle", "message": "Served.", "observedGeneration": 1,
                  "lastTransitionTime": "2026-12-01T00:00:00Z"}],
               "spend": {"spentUsd": "12.34", "limitUsd": "2000.00", "percent": 1, "periodEnd": "2027-01-01T00:00:00Z"}}}
            """;

    static JsonNode stored() throws Exception {
        return Serialization.jsonMapper().readTree(STORED);
    }

    /** The status as the reconciler reads it from its cache. */
    static ResourceStatus read(JsonNode stored) {
        return Serialization.jsonMapper().convertValue(stored, Budget.class).getStatus();
    }

    static JsonNode apply(String patch, JsonNode stored) throws Exception {
        return JsonPatch.apply(Serialization.jsonMapper().readTree(patch), stored);
    }

    @Test
    void setsItsOwnFieldsAndKeepsEveryOther() throws Exception {
        JsonNode stored = stored();
        ResourceStatus current = read(stored);
        ResourceStatus desired = Statuses.desired(Verdict.ACCEPTED, 2L, current, NOW);
        assertThat(Statuses.same(current, desired)).isFalse();

        JsonNode patched = apply(BundleReconciler.ownedStatusPatch(current, desired), stored);

        JsonNode status = patched.path("status");
        assertThat(status.path("observedGeneration").asLong()).isEqualTo(2);
        assertThat(status.path("spend")).isEqualTo(stored.path("status").path("spend"));
        assertThat(status.path("conditions")).extracting(c -> c.path("type").asText())
                .containsExactly("Accepted", "BudgetExceeded", "ResolvedRefs", "Ready");
        assertThat(status.path("conditions").get(1)).isEqualTo(stored.path("status").path("conditions").get(1));
        assertThat(status.path("conditions").get(3).path("observedGeneration").asLong()).isEqualTo(2);
        assertThat(status.path("conditions").get(3).path("lastTransitionTime").asText()).as("Ready stayed True")
                .isEqualTo("2026-12-01T00:00:00Z");
        assertThat(patched.path("spec")).isEqualTo(stored.path("spec"));
    }

    @Test
    void keepsAConditionTheOtherWriterChangedAfterTheRead() throws Exception {
        JsonNode stored = stored();
        ResourceStatus current = read(stored);
        String patch = BundleReconciler.ownedStatusPatch(current, Statuses.desired(Verdict.ACCEPTED, 2L, current, NOW));
        // the spend loop flips its condition, and adds another, after the reconciler read the status
        ObjectNode exceeded = (ObjectNode) stored.path("status").path("conditions").get(1);
        exceeded.put("status", "True").put("reason", "LimitReached");
        ((ArrayNode) stored.path("status").path("conditions")).addObject().put("type", "AlertSent").put("status", "True");

        JsonNode patched = apply(patch, stored);

        assertThat(patched.path("status").path("conditions")).extracting(c -> c.path("type").asText() + "=" + c.path("status").asText())
                .containsExactly("Accepted=True", "BudgetExceeded=True", "ResolvedRefs=True", "Ready=True", "AlertSent=True");
        assertThat(patched.path("status").path("conditions").get(3).path("observedGeneration").asLong()).isEqualTo(2);
    }

    @Test
    void failsRatherThanReplaceAnotherWritersConditionWhenTheListMoved() throws Exception {
        JsonNode stored = stored();
        ResourceStatus current = read(stored);
        String patch = BundleReconciler.ownedStatusPatch(current, Statuses.desired(Verdict.ACCEPTED, 2L, current, NOW));
        ((ArrayNode) stored.path("status").path("conditions")).remove(0);   // the entries after it move up

        assertThatThrownBy(() -> apply(patch, stored)).hasMessageContaining("Expected");
    }

    @Test
    void aStatusWithoutConditionsOrWithoutAnyStatusIsCompleted() throws Exception {
        ObjectNode spendOnly = (ObjectNode) stored();
        ((ObjectNode) spendOnly.path("status")).remove("conditions");
        ((ObjectNode) spendOnly.path("status")).remove("observedGeneration");
        ResourceStatus current = read(spendOnly);
        JsonNode patched = apply(BundleReconciler.ownedStatusPatch(current, Statuses.desired(Verdict.ACCEPTED, 2L, current, NOW)), spendOnly);
        assertThat(patched.path("status").path("conditions")).extracting(c -> c.path("type").asText())
                .containsExactly("Accepted", "ResolvedRefs", "Ready");
        assertThat(patched.path("status").path("spend").path("spentUsd").asText()).isEqualTo("12.34");

        ObjectNode othersOnly = (ObjectNode) stored();
        ((ArrayNode) othersOnly.path("status").path("conditions")).remove(3);
        ((ArrayNode) othersOnly.path("status").path("conditions")).remove(2);
        ((ArrayNode) othersOnly.path("status").path("conditions")).remove(0);
        ResourceStatus withOthers = read(othersOnly);
        JsonNode appended = apply(BundleReconciler.ownedStatusPatch(withOthers, Statuses.desired(Verdict.ACCEPTED, 2L, withOthers, NOW)),
                othersOnly);
        assertThat(appended.path("status").path("conditions")).extracting(c -> c.path("type").asText())
                .containsExactly("BudgetExceeded", "Accepted", "ResolvedRefs", "Ready");

        ObjectNode none = (ObjectNode) stored();
        none.remove("status");
        JsonNode created = apply(BundleReconciler.ownedStatusPatch(null, Statuses.desired(Verdict.ACCEPTED, 2L, null, NOW)), none);
        assertThat((ArrayNode) created.path("status").path("conditions")).hasSize(3);
        assertThat(created.path("status").has("spend")).isFalse();
    }

    @Test
    void onlyTheOwnedConditionsDecideWhetherToWrite() throws Exception {
        JsonNode stored = stored();
        ((ObjectNode) stored.path("status")).put("observedGeneration", 2);
        stored.path("status").path("conditions").forEach(c -> {
            if (!c.path("type").asText().equals("BudgetExceeded")) {
                ((ObjectNode) c).put("observedGeneration", 2);
            }
        });
        ((ObjectNode) stored.path("status").path("conditions").get(3)).put("message",
                "Served by the gateways of this namespace (ConfigMap finops-gateway-bundle).");
        ResourceStatus current = read(stored);
        assertThat(Statuses.same(current, Statuses.desired(Verdict.ACCEPTED, 2L, current, NOW))).isTrue();
        ((ObjectNode) stored.path("status").path("conditions").get(1)).put("status", "True");
        ResourceStatus flipped = read(stored);
        assertThat(Statuses.same(flipped, Statuses.desired(Verdict.ACCEPTED, 2L, flipped, NOW)))
                .as("another writer's condition changing is not ours to write").isTrue();
    }
}

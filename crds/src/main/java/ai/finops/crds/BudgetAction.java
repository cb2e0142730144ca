package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** What a budget does once spent: refuse further requests ({@code Block}, the default) or only report ({@code Warn}). */
public enum BudgetAction {
    BLOCK("Block"),
    WARN("Warn");

    private final String id;

    BudgetAction(String id) {
        this.id = id;
    }

    /** As written in a spec: {@code Block} or {@code Warn}. */
    @JsonValue
    public String id() {
        return id;
    }

    /** The action spelled exactly {@code id} (case-sensitive, as the CRD's enum is). */
    public static Optional<BudgetAction> fromId(String id) {
        return Arrays.stream(values()).filter(a -> a.id.equals(id)).findFirst();
    }

    /** Every id, in declaration order. */
    public static List<String> ids() {
        return Arrays.stream(values()).map(BudgetAction::id).toList();
    }
}

package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The calendar periods a budget resets on, in its time zone: {@code Daily} at midnight, {@code Weekly}
 * on Monday at midnight, {@code Monthly} on the 1st, {@code Quarterly} on 1 January, April, July and
 * October; {@code Total} never resets. A rolling window ({@code duration}) is the other kind of budget.
 */
public enum BudgetPeriod {
    DAILY("Daily"),
    WEEKLY("Weekly"),
    MONTHLY("Monthly"),
    QUARTERLY("Quarterly"),
    TOTAL("Total");

    private final String id;

    BudgetPeriod(String id) {
        this.id = id;
    }

    /** As written in a spec: {@code Daily}, {@code Weekly}, ... */
    @JsonValue
    public String id() {
        return id;
    }

    /** Whether the period has calendar boundaries, so that a time zone means something ({@code Total} has none). */
    public boolean calendar() {
        return this != TOTAL;
    }

    /** The period spelled exactly {@code id} (case-sensitive, as the CRD's enum is). */
    public static Optional<BudgetPeriod> fromId(String id) {
        return Arrays.stream(values()).filter(p -> p.id.equals(id)).findFirst();
    }

    /** Every id, in declaration order. */
    public static List<String> ids() {
        return Arrays.stream(values()).map(BudgetPeriod::id).toList();
    }
}

package ai.finops.crds;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A spending limit shared by the keys of a team, a list of keys or a whole namespace, optionally for
 * some models. RESETS is a string column: kubectl prints a date column as an age, and a future instant
 * as {@code <invalid>}.
 */
@Group(Resources.GROUP)
@Version(Resources.VERSION)
@Kind("Budget")
@AdditionalPrinterColumn(name = "Spent", jsonPath = ".status.spend.spentUsd", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Limit", jsonPath = ".spec.limitUsd", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "%", jsonPath = ".status.spend.percent", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Resets", jsonPath = ".status.spend.periodEnd", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@ShortNames("bud")
public class Budget extends CustomResource<BudgetSpec, SpendStatus> implements Namespaced {
    @Override
    protected SpendStatus initStatus() {
        return new SpendStatus();
    }
}

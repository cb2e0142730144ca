package ai.finops.crds;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Who may call, what, and how much: one key that clients send instead of a provider key. Its status
 * carries the spend summary of its own budget beside the conditions; RESETS is a string column, since
 * kubectl prints a date column as an age, and a future instant as {@code <invalid>}.
 */
@Group(Resources.GROUP)
@Version(Resources.VERSION)
@Kind("VirtualKey")
@AdditionalPrinterColumn(name = "Owner", jsonPath = ".spec.owner", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Team", jsonPath = ".spec.team", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Spent", jsonPath = ".status.spend.spentUsd", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Limit", jsonPath = ".spec.budget.limitUsd", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "%", jsonPath = ".status.spend.percent", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Resets", jsonPath = ".status.spend.periodEnd", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@ShortNames("vk")
public class VirtualKey extends CustomResource<VirtualKeySpec, SpendStatus> implements Namespaced {
    @Override
    protected SpendStatus initStatus() {
        return new SpendStatus();
    }
}

package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * {@code .status.spend} of a VirtualKey or a Budget: what was spent in the current period, written by
 * the operator's spend loop (never by the bundle reconciler, which patches only {@code conditions} and
 * {@code observedGeneration}). Timestamps are RFC 3339, money decimal strings as in a spec; spentUsd is
 * rounded down to the cent, so it never shows a limit as reached before it is.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class Spend {
    @JsonPropertyDescription("US dollars spent in the current period, a decimal string such as \"12.34\".")
    public String spentUsd;

    @JsonPropertyDescription("The limit the spend is measured against, a decimal string such as \"50.00\".")
    public String limitUsd;

    @JsonPropertyDescription("spentUsd as a whole percentage of limitUsd; above 100 once overspent.")
    public Integer percent;

    @JsonPropertyDescription("RFC 3339 start of the current period (or of the rolling window).")
    public String periodStart;

    @JsonPropertyDescription("RFC 3339 instant the current period ends and the spend resets; absent for period Total.")
    public String periodEnd;

    @JsonPropertyDescription("RFC 3339 instant this summary was last written (it is rewritten when the spend moves by a cent or more, "
            + "the period or the limit changes, or a threshold is crossed).")
    public String updatedAt;

    @JsonPropertyDescription("The alertAtPercent thresholds of a Budget already announced by an Event in the period that starts at "
            + "periodStart (for period Total: ever), ascending; each is announced once per period.")
    public java.util.List<Integer> alertedPercent;
}

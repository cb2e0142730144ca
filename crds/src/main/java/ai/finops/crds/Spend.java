package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * {@code .status.spend} of a VirtualKey or a Budget: what was spent in the current period, written by
 * the loop that sums spend (never by the bundle reconciler, which patches only {@code conditions} and
 * {@code observedGeneration}). Timestamps are RFC 3339, money decimal strings as in a spec.
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

    @JsonPropertyDescription("RFC 3339 instant this summary was computed.")
    public String updatedAt;
}

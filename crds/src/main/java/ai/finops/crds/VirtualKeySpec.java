package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.secretRef) != has(self.tokenSha256)", message = "give exactly one of secretRef and tokenSha256")
public class VirtualKeySpec {
    @JsonPropertyDescription("Secret holding the token under the key `token` (key overridable).")
    public SecretKeyRef secretRef;

    @JsonPropertyDescription("Lower-case hex SHA-256 of the token, instead of secretRef (what the operator's bundle carries).")
    @Pattern("^[0-9a-f]{64}$")
    public String tokenSha256;

    public String owner;
    public String team;
    public Allow allow;

    @JsonPropertyDescription("Spending limit; parsed and validated, not enforced yet.")
    public Budget budget;

    @JsonPropertyDescription("Request and token rates; parsed and validated, not enforced yet.")
    public RateLimits rateLimits;

    public Boolean disabled;

    @JsonPropertyDescription("RFC 3339 instant after which the key is refused with 403.")
    public String expiresAt;

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Allow {
        @JsonPropertyDescription("Provider types or ProviderDeployment names; empty = all.")
        public List<String> providers = new ArrayList<>();
        @JsonPropertyDescription("Glob patterns (`*`) over the requested model and the resolved model; empty = all.")
        public List<String> models = new ArrayList<>();
        @JsonPropertyDescription("McpServer names whose tools the key may use on /mcp; empty = every McpServer of the namespace.")
        public List<String> mcpServers = new ArrayList<>();
        @JsonPropertyDescription("Glob patterns (`*`) over tool names as /mcp lists them, <toolPrefix>__<tool>; empty = every tool of the allowed servers.")
        public List<String> mcpTools = new ArrayList<>();
    }

    /** The key's own budget: the same limit, period or rolling window and time zone as a {@link BudgetSpec}, over this key alone. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @ValidationRule(value = "!(has(self.period) && has(self.duration))", message = "give period or duration, not both")
    @ValidationRule(value = "!has(self.timeZone) || (!has(self.duration) && (!has(self.period) || self.period != 'Total'))",
            message = "timeZone applies to a calendar period (Daily, Weekly, Monthly, Quarterly), not to Total or a rolling duration")
    public static class Budget {
        @JsonPropertyDescription("The limit in US dollars, a decimal string such as \"50.00\".")
        @Pattern(BudgetSpec.MONEY)
        public String limitUsd;
        @JsonPropertyDescription("Daily | Weekly | Monthly | Quarterly | Total (default Monthly); or give duration.")
        @SchemaFrom(type = BudgetPeriod.class)
        public String period;
        @JsonPropertyDescription("A rolling window instead of a period: whole days or hours, such as 7d or 12h (1h to 366d).")
        @Pattern(BudgetSpec.ROLLING)
        public String duration;
        @JsonPropertyDescription("IANA time zone of the period's boundaries, such as Europe/Paris; default UTC.")
        @Pattern(BudgetSpec.TIME_ZONE)
        public String timeZone;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class RateLimits {
        @JsonPropertyDescription("Requests in any minute.")
        @Min(1)
        public Integer requestsPerMinute;
        @JsonPropertyDescription("Input and output tokens in any minute.")
        @Min(1)
        public Integer tokensPerMinute;
        @JsonPropertyDescription("Requests in flight at once.")
        @Min(1)
        public Integer maxConcurrentRequests;
    }
}

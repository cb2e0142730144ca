package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
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
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Budget {
        @Pattern("^[0-9]{1,15}([.][0-9]+)?$")
        public String limitUsd;
        @JsonPropertyDescription("Daily | Weekly | Monthly")
        @Pattern("^(Daily|Weekly|Monthly)$")
        public String period;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class RateLimits {
        @Min(1)
        public Integer requestsPerMinute;
        @Min(1)
        public Integer tokensPerMinute;
    }
}

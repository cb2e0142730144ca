package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualKeySpec {
    @JsonPropertyDescription("Secret holding the token under the key `token` (key overridable).")
    public SecretKeyRef secretRef;

    @JsonPropertyDescription("Lower-case hex SHA-256 of the token, instead of secretRef (what the operator's bundle carries).")
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
        public String limitUsd;
        @JsonPropertyDescription("Daily | Weekly | Monthly")
        public String period;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class RateLimits {
        public Integer requestsPerMinute;
        public Integer tokensPerMinute;
    }
}

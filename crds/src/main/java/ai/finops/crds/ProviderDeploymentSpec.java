package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The schema annotations here are what {@code kubectl apply} checks before the operator sees a
 * resource: types, the provider enum, bounds and a few cross-field rules. The full validation, with
 * references and precise messages, is {@link ai.finops.crds.validation.ResourceValidator}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.provider != 'bedrock' || (has(self.bedrock) && has(self.bedrock.region))",
        message = "provider bedrock needs bedrock.region")
@ValidationRule(value = "self.provider != 'vertex' || (has(self.vertex) && has(self.vertex.projectId) && has(self.vertex.region))",
        message = "provider vertex needs vertex.projectId and vertex.region")
@ValidationRule(value = "self.provider != 'openai-compatible' || has(self.endpoint)",
        message = "provider openai-compatible needs an endpoint")
public class ProviderDeploymentSpec {
    @JsonPropertyDescription("anthropic | bedrock | vertex | azure | azure-openai | openai | openai-compatible")
    @Required
    @SchemaFrom(type = ProviderType.class)
    public String provider;

    @JsonPropertyDescription("Base URL that the provider's official SDK takes (private endpoints, tests); default per provider.")
    @Pattern("^https?://")
    public String endpoint;

    @JsonPropertyDescription("Provider-specific settings, e.g. bedrock: {region}, vertex: {projectId, region}, azure: {resource}.")
    public Map<String, String> bedrock;
    public Map<String, String> vertex;
    public Map<String, String> azure;

    @JsonPropertyDescription("Secret holding the provider credentials (key apiKey for anthropic); omitted = platform identity.")
    public Credentials credentials;

    @JsonPropertyDescription("Models this deployment serves; empty = pass any model name through unchanged.")
    @Size(max = 256)   // bounds the cost of the uniqueness rule, which the API server estimates from the largest possible list
    @ValidationRule(value = "self.all(m, self.exists_one(n, n.name == m.name))", message = "model names must be unique")
    public List<Model> models = new ArrayList<>();

    @JsonPropertyDescription("Relative share of traffic among deployments that can serve the same request (default 1).")
    @Min(0)
    public Integer weight;

    public Timeouts timeouts;
    public Retries retries;
    public Tls tls;

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Credentials {
        @Required
        public SecretKeyRef secretRef;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Model {
        @JsonPropertyDescription("The name clients and rules use.")
        @Required
        @Size(min = 1, max = 253)
        public String name;
        @JsonPropertyDescription("The provider-side id; default: the name.")
        public String deployment;
        public Pricing pricing;
    }

    /** USD per million tokens, as decimal strings. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Pricing {
        public String inputPerMTok;
        public String outputPerMTok;
        public String cacheWritePerMTok;
        public String cacheReadPerMTok;
    }

    /** Durations such as {@code 5s}, {@code 1m30s}, {@code 250ms}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Timeouts {
        public String connect;
        public String firstByte;
        public String idle;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Retries {
        @JsonPropertyDescription("Attempts on this deployment before moving to the next target (default 1: no retry).")
        @Min(1)
        @Max(10)
        public Integer attempts;
        @JsonPropertyDescription("How long a deployment that answered 429/529/5xx is skipped when it sent no retry-after (default 10s).")
        public String cooldown;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Tls {
        @JsonPropertyDescription("PEM certificates to trust instead of the JVM's trust store (a private CA or a self-signed endpoint). Certificates are public: no Secret needed.")
        public String caPem;
    }
}

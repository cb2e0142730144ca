package ai.finops.gateway.provider;

import ai.finops.crds.ProviderDeploymentSpec;
import ai.finops.crds.ProviderType;
import ai.finops.crds.validation.ResourceValidator;
import ai.finops.gateway.upstream.UpstreamEndpoint;
import java.util.Map;

/** The adapter and default endpoint of each provider type, from a validated ProviderDeployment. */
public final class Providers {
    private Providers() {}

    /** Where a deployment without {@code endpoint} sends its requests. */
    public static String defaultEndpoint(ProviderType type, ProviderDeploymentSpec spec) {
        return switch (type) {
            case AZURE -> "https://" + spec.azure.get("resource") + ".services.ai.azure.com/anthropic";
            case BEDROCK -> BedrockAdapter.defaultEndpoint(spec.bedrock.get("region"));
            case VERTEX -> VertexAdapter.defaultEndpoint(spec.vertex.get("region"));
            case AZURE_OPENAI -> "https://" + spec.azure.get("resource") + ".openai.azure.com";
            default -> type.defaultEndpoint();
        };
    }

    /**
     * @param secret the values of {@code credentials.secretRef}'s Secret, or null without credentials
     */
    public static ProviderAdapter adapter(ProviderType type, ProviderDeploymentSpec spec, UpstreamEndpoint endpoint,
            Map<String, String> secret) {
        return switch (type) {
            case ANTHROPIC -> new AnthropicAdapter(endpoint, "x-api-key", apiKey(spec, secret));
            case AZURE -> new AnthropicAdapter(endpoint, "api-key", apiKey(spec, secret));
            case BEDROCK -> bedrock(spec, endpoint, secret);
            case VERTEX -> new VertexAdapter(endpoint, spec.vertex.get("projectId"), spec.vertex.get("region"), secret == null
                    ? GoogleTokens.applicationDefault()
                    : GoogleTokens.serviceAccount(secret.get(spec.credentials.secretRef.key != null ? spec.credentials.secretRef.key
                            : ResourceValidator.VERTEX_SECRET_KEY)));
            case OPENAI -> new OpenAiAdapter(endpoint, OpenAiAdapter.Flavor.OPENAI, type.id(), apiKey(spec, secret), null);
            case OPENAI_COMPATIBLE -> new OpenAiAdapter(endpoint, OpenAiAdapter.Flavor.COMPATIBLE, type.id(), apiKey(spec, secret), null);
            case AZURE_OPENAI -> new OpenAiAdapter(endpoint, OpenAiAdapter.Flavor.AZURE_OPENAI, type.id(), apiKey(spec, secret),
                    spec.azure == null ? null : spec.azure.get("apiVersion"));
        };
    }

    private static String apiKey(ProviderDeploymentSpec spec, Map<String, String> secret) {
        if (secret == null) {
            return null;
        }
        String key = spec.credentials.secretRef.key != null ? spec.credentials.secretRef.key : ResourceValidator.DEFAULT_API_KEY_KEY;
        return secret.get(key);
    }

    private static ProviderAdapter bedrock(ProviderDeploymentSpec spec, UpstreamEndpoint endpoint, Map<String, String> secret) {
        String region = spec.bedrock.get("region");
        if (secret == null) {
            return new BedrockAdapter(endpoint, region, null, null, AwsIdentity.platform());
        }
        if (secret.containsKey(ResourceValidator.DEFAULT_API_KEY_KEY)) {
            return new BedrockAdapter(endpoint, region, null, secret.get(ResourceValidator.DEFAULT_API_KEY_KEY), null);
        }
        return new BedrockAdapter(endpoint, region, new BedrockAdapter.AwsKeys(secret.get("accessKeyId"), secret.get("secretAccessKey"),
                secret.get(ResourceValidator.BEDROCK_SESSION_TOKEN_KEY)), null, null);
    }
}

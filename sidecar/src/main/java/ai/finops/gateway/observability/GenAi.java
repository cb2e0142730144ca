package ai.finops.gateway.observability;

import ai.finops.crds.ProviderType;

/**
 * The OpenTelemetry GenAI semantic conventions' names, as the traces and the metrics use them (the
 * conventions' own constants are not published as a stable artifact, so the names the gateway emits are
 * kept here, once).
 */
public final class GenAi {
    public static final String OPERATION_NAME = "gen_ai.operation.name";
    public static final String PROVIDER_NAME = "gen_ai.provider.name";
    public static final String REQUEST_MODEL = "gen_ai.request.model";
    public static final String RESPONSE_MODEL = "gen_ai.response.model";
    public static final String RESPONSE_ID = "gen_ai.response.id";
    public static final String RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons";
    public static final String USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens";
    public static final String USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens";
    public static final String USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens";
    public static final String USAGE_CACHE_WRITE_INPUT_TOKENS = "gen_ai.usage.cache_write.input_tokens";
    public static final String CONVERSATION_ID = "gen_ai.conversation.id";
    /** Seconds from issuing the request to the first chunk of its response. */
    public static final String RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk";
    public static final String TOKEN_TYPE = "gen_ai.token.type";
    public static final String ERROR_TYPE = "error.type";

    /** Metric names; Prometheus shows them with {@code _} for {@code .}, and the durations with {@code _seconds}. */
    public static final String CLIENT_TOKEN_USAGE = "gen_ai.client.token.usage";
    public static final String CLIENT_OPERATION_DURATION = "gen_ai.client.operation.duration";
    public static final String SERVER_TIME_TO_FIRST_TOKEN = "gen_ai.server.time_to_first_token";

    /** Every request the gateway proxies is a chat (Messages or Chat Completions). */
    public static final String OPERATION_CHAT = "chat";

    private GenAi() {}

    /**
     * The conventions' {@code gen_ai.provider.name} for a deployment's type: {@code anthropic}, {@code aws.bedrock},
     * {@code gcp.vertex_ai}, {@code azure.ai.inference} (Claude on Azure AI Foundry), {@code azure.ai.openai} and
     * {@code openai} (also for any OpenAI-compatible endpoint: the conventions name no provider for an unknown host,
     * and the wire protocol is OpenAI's).
     */
    public static String providerName(ProviderType type) {
        return switch (type) {
            case ANTHROPIC -> "anthropic";
            case BEDROCK -> "aws.bedrock";
            case VERTEX -> "gcp.vertex_ai";
            case AZURE -> "azure.ai.inference";
            case AZURE_OPENAI -> "azure.ai.openai";
            case OPENAI, OPENAI_COMPATIBLE -> "openai";
        };
    }
}

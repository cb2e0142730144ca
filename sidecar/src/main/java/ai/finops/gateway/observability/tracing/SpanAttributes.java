package ai.finops.gateway.observability.tracing;

import ai.finops.gateway.observability.GenAi;
import io.opentelemetry.api.common.AttributeKey;
import java.util.List;

/**
 * The attributes of the gateway's spans: the HTTP and GenAI conventions' (names from {@link GenAi}) and
 * the gateway's own, under {@code finops.}. Never a credential, and no prompt or completion text.
 */
public final class SpanAttributes {
    public static final AttributeKey<String> HTTP_METHOD = AttributeKey.stringKey("http.request.method");
    public static final AttributeKey<String> HTTP_ROUTE = AttributeKey.stringKey("http.route");
    public static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");
    public static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
    public static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
    public static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey(GenAi.ERROR_TYPE);

    public static final AttributeKey<String> OPERATION_NAME = AttributeKey.stringKey(GenAi.OPERATION_NAME);
    public static final AttributeKey<String> PROVIDER_NAME = AttributeKey.stringKey(GenAi.PROVIDER_NAME);
    public static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey(GenAi.REQUEST_MODEL);
    public static final AttributeKey<String> RESPONSE_MODEL = AttributeKey.stringKey(GenAi.RESPONSE_MODEL);
    public static final AttributeKey<String> RESPONSE_ID = AttributeKey.stringKey(GenAi.RESPONSE_ID);
    public static final AttributeKey<List<String>> FINISH_REASONS = AttributeKey.stringArrayKey(GenAi.RESPONSE_FINISH_REASONS);
    public static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey(GenAi.USAGE_INPUT_TOKENS);
    public static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey(GenAi.USAGE_OUTPUT_TOKENS);
    public static final AttributeKey<Long> CACHE_READ_TOKENS = AttributeKey.longKey(GenAi.USAGE_CACHE_READ_INPUT_TOKENS);
    public static final AttributeKey<Long> CACHE_WRITE_TOKENS = AttributeKey.longKey(GenAi.USAGE_CACHE_WRITE_INPUT_TOKENS);
    public static final AttributeKey<String> CONVERSATION_ID = AttributeKey.stringKey(GenAi.CONVERSATION_ID);
    public static final AttributeKey<Double> TIME_TO_FIRST_CHUNK = AttributeKey.doubleKey(GenAi.RESPONSE_TIME_TO_FIRST_CHUNK);

    /** The gateway's request id (also in {@code x-finops-request-id} and the access line). */
    public static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("finops.request.id");
    /** The VirtualKey's name, never its secret. */
    public static final AttributeKey<String> VIRTUAL_KEY = AttributeKey.stringKey("finops.virtual_key");
    public static final AttributeKey<String> TEAM = AttributeKey.stringKey("finops.team");
    /** The client's dialect: {@code anthropic} or {@code openai}. */
    public static final AttributeKey<String> API = AttributeKey.stringKey("finops.api");
    /** The model the client asked for, before rules and aliases. */
    public static final AttributeKey<String> REQUESTED_MODEL = AttributeKey.stringKey("finops.requested_model");
    /** The RoutingRule that matched, or {@code direct}. */
    public static final AttributeKey<String> RULE = AttributeKey.stringKey("finops.rule");
    /** The ProviderDeployment that answered (SERVER span) or was called (CLIENT span). */
    public static final AttributeKey<String> DEPLOYMENT = AttributeKey.stringKey("finops.deployment");
    public static final AttributeKey<Double> COST_USD = AttributeKey.doubleKey("finops.cost.usd");
    /** How the request ended, as the access line and {@code finops_gateway_requests_total} say it. */
    public static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("finops.outcome");
    /** Upstream calls made for the request. */
    public static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("finops.attempts");
    /** Which upstream call of the request a CLIENT span is (1-based). */
    public static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("finops.attempt");
    /** The attempt came from a rule's fallbacks. */
    public static final AttributeKey<Boolean> FALLBACK = AttributeKey.booleanKey("finops.fallback");

    private SpanAttributes() {}
}

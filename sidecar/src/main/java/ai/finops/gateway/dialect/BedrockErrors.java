package ai.finops.gateway.dialect;

import java.util.Locale;

/**
 * Bedrock's errors in Anthropic's terms. Bedrock names an error by its exception type (the
 * {@code x-amzn-ErrorType} header of an HTTP error, {@code :exception-type} of a stream frame) and
 * words it in {@code {"message": ...}}; the wording is kept, the type and status mapped so that
 * clients retry what Anthropic would have them retry.
 */
public final class BedrockErrors {
    /** The status the client gets and the Anthropic error type. */
    public record Mapped(int status, String type) {}

    private BedrockErrors() {}

    /** Maps {@code exceptionType} (e.g. {@code ThrottlingException:http://...} or {@code throttlingException}); else by {@code status}. */
    public static Mapped of(String exceptionType, int status) {
        String name = exceptionType == null ? "" : exceptionType.toLowerCase(Locale.ROOT);
        int colon = name.indexOf(':');
        if (colon >= 0) {
            name = name.substring(0, colon);
        }
        return switch (name) {
            case "throttlingexception", "servicequotaexceededexception" -> new Mapped(429, "rate_limit_error");
            case "serviceunavailableexception", "modelnotreadyexception" -> new Mapped(529, "overloaded_error");
            case "validationexception" -> new Mapped(400, "invalid_request_error");
            case "accessdeniedexception", "unrecognizedclientexception" -> new Mapped(status == 401 ? 401 : 403,
                    status == 401 ? "authentication_error" : "permission_error");
            case "resourcenotfoundexception" -> new Mapped(404, "not_found_error");
            case "modeltimeoutexception" -> new Mapped(504, "timeout_error");
            case "internalserverexception", "modelstreamerrorexception", "modelerrorexception" -> new Mapped(500, "api_error");
            default -> new Mapped(status == 503 ? 529 : status, status == 503 ? "overloaded_error" : ErrorResponses.typeFor(status));
        };
    }
}

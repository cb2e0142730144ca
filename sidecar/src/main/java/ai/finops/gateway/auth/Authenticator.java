package ai.finops.gateway.auth;

import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;

/**
 * Finds the virtual key of a request. The token is read from {@code x-bf-vk}, else {@code
 * Authorization: Bearer}, else {@code x-api-key} (Claude Code sends its own, often dummy, {@code
 * x-api-key} beside a custom {@code x-bf-vk}, so the first header that carries a token wins and the
 * others are ignored; an empty header carries none). Keys are looked up by the SHA-256 of the token and the digests compared in constant time.
 */
public final class Authenticator {
    public static final String VIRTUAL_KEY_HEADER = "x-bf-vk";

    /** The outcome: a key, or an HTTP status and a message that never contains the token. */
    public record Result(KeyEntry key, int status, String message) {
        public boolean ok() {
            return key != null;
        }
    }

    private Authenticator() {}

    public static Result authenticate(HttpHeaders headers, Map<String, KeyEntry> keysBySha256Hex, Instant now) {
        String token = token(headers);
        if (token == null || token.isEmpty()) {
            return new Result(null, 401, "missing virtual key: send it as 'x-bf-vk', 'Authorization: Bearer' or 'x-api-key'");
        }
        byte[] digest = sha256(token);
        KeyEntry key = keysBySha256Hex.get(HexFormat.of().formatHex(digest));
        if (key == null || !MessageDigest.isEqual(digest, key.tokenSha256())) {
            return new Result(null, 401, "invalid virtual key");
        }
        if (key.disabled()) {
            return new Result(null, 403, "virtual key '" + key.name() + "' is disabled");
        }
        if (key.expiresAt() != null && !now.isBefore(key.expiresAt())) {
            return new Result(null, 403, "virtual key '" + key.name() + "' expired at " + key.expiresAt());
        }
        return new Result(key, 0, null);
    }

    /** The token the request presents, as {@link #authenticate} reads it, or null when it presents none. */
    public static String presentedToken(HttpHeaders headers) {
        String token = token(headers);
        return token == null || token.isEmpty() ? null : token;
    }

    /** The first header, in order of precedence, that carries a token; an empty one counts as absent. */
    static String token(HttpHeaders headers) {
        String vk = nonEmpty(headers.get(VIRTUAL_KEY_HEADER));
        if (vk != null) {
            return vk;
        }
        String authorization = headers.get("authorization");
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            String bearer = nonEmpty(authorization.substring(7));
            if (bearer != null) {
                return bearer;
            }
        }
        return nonEmpty(headers.get("x-api-key"));
    }

    private static String nonEmpty(String value) {
        if (value == null) {
            return null;
        }
        String trimmed = value.trim();
        return trimmed.isEmpty() ? null : trimmed;
    }

    public static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

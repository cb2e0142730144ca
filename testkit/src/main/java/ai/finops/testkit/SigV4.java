package ai.finops.testkit;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4, computed here from the specification (not with the AWS SDK the gateway
 * signs with), so that the simulator checks the gateway's signatures independently: canonical request
 * (the path's segments URI-encoded once more, as every AWS service but S3 requires), string to sign,
 * signing key, signature.
 */
public final class SigV4 {
    private static final Pattern AUTHORIZATION = Pattern.compile(
            "AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})");

    private SigV4() {}

    /** The parts of an {@code Authorization} header, or null when it is not SigV4. */
    public record Authorization(String accessKeyId, String date, String region, String service, List<String> signedHeaders, String signature) {
        public static Authorization parse(String header) {
            if (header == null) {
                return null;
            }
            Matcher m = AUTHORIZATION.matcher(header);
            return m.matches() ? new Authorization(m.group(1), m.group(2), m.group(3), m.group(4), List.of(m.group(5).split(";")), m.group(6))
                    : null;
        }
    }

    /**
     * The signature of a request.
     *
     * @param rawPath the request path as sent (already percent-encoded once)
     * @param headers the request's headers by lower-case name
     * @param signedHeaders the lower-case names that are signed
     */
    public static String signature(String secretAccessKey, String region, String service, String amzDate, String method, String rawPath,
            String rawQuery, Map<String, String> headers, List<String> signedHeaders, byte[] payload, boolean doubleEncodePath) {
        String canonicalRequest = canonicalRequest(method, rawPath, rawQuery, headers, signedHeaders, payload, doubleEncodePath);
        String date = amzDate.substring(0, 8);
        String scope = date + "/" + region + "/" + service + "/aws4_request";
        String stringToSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex(sha256(canonicalRequest.getBytes(StandardCharsets.UTF_8)));
        byte[] key = hmac(("AWS4" + secretAccessKey).getBytes(StandardCharsets.UTF_8), date);
        key = hmac(key, region);
        key = hmac(key, service);
        key = hmac(key, "aws4_request");
        return hex(hmac(key, stringToSign));
    }

    static String canonicalRequest(String method, String rawPath, String rawQuery, Map<String, String> headers, List<String> signedHeaders,
            byte[] payload, boolean doubleEncodePath) {
        StringBuilder sb = new StringBuilder();
        sb.append(method).append('\n');
        sb.append(doubleEncodePath ? encodePath(rawPath) : rawPath).append('\n');
        sb.append(canonicalQuery(rawQuery)).append('\n');
        for (String name : signedHeaders) {
            String value = headers.get(name);
            sb.append(name).append(':').append(value == null ? "" : value.trim().replaceAll(" +", " ")).append('\n');
        }
        sb.append('\n').append(String.join(";", signedHeaders)).append('\n');
        sb.append(hex(sha256(payload)));
        return sb.toString();
    }

    private static String canonicalQuery(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return "";
        }
        TreeMap<String, String> sorted = new TreeMap<>();
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            sorted.put(eq < 0 ? pair : pair.substring(0, eq), eq < 0 ? "" : pair.substring(eq + 1));
        }
        List<String> parts = new ArrayList<>();
        sorted.forEach((k, v) -> parts.add(k + "=" + v));
        return String.join("&", parts);
    }

    /** Each segment of an already-encoded path URI-encoded once more (RFC 3986 unreserved characters kept). */
    static String encodePath(String rawPath) {
        StringBuilder sb = new StringBuilder();
        for (byte b : rawPath.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (c == '/' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~') {
                sb.append(c);
            } else {
                sb.append('%').append(String.format(Locale.ROOT, "%02X", b & 0xff));
            }
        }
        return sb.toString();
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}

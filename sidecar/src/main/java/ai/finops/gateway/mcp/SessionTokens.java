package ai.finops.gateway.mcp;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code Mcp-Session-Id} a client gets from {@code initialize}: the session's state sealed with
 * AES-256-GCM (the protocol version it negotiated, when it started, and which virtual key it belongs
 * to), so that any replica holding the same key opens it and no replica keeps a session table. A token
 * that does not open, is older than {@link #LIFETIME}, or belongs to another virtual key is no session:
 * the client gets 404 and must initialize again.
 *
 * <p>The key comes from {@value #ENV} (32 bytes, base64), in Kubernetes from a Secret. Without it each
 * process draws a random key and says so: its sessions then end with the process and are unknown to
 * other replicas.
 */
public final class SessionTokens {
    /** The environment variable holding the key. */
    public static final String ENV = "FINOPS_MCP_SESSION_KEY";
    /** How long a session lasts from its {@code initialize}. */
    public static final Duration LIFETIME = Duration.ofHours(24);
    private static final Logger LOG = LoggerFactory.getLogger(SessionTokens.class);
    private static final byte VERSION = 1;
    private static final int NONCE = 12;
    private static final int KEY_DIGEST = 16;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What a session token holds. */
    public record Session(String protocolVersion, Instant started, byte[] keyDigest) {}

    private final SecretKeySpec key;
    /** Set for a random key: the first session sealed with it says so once (a gateway without MCP never does). */
    private final java.util.concurrent.atomic.AtomicBoolean unwarned;

    public SessionTokens(byte[] key) {
        this(key, false);
    }

    private SessionTokens(byte[] key, boolean random) {
        if (key.length != 32) {
            throw new IllegalArgumentException("the MCP session key is 32 bytes (AES-256), got " + key.length);
        }
        this.key = new SecretKeySpec(key.clone(), "AES");
        this.unwarned = new java.util.concurrent.atomic.AtomicBoolean(random);
    }

    /**
     * The key from {@code encoded} (base64 of 32 bytes), or a random one when it is null or blank (with a
     * warning when the first session is sealed).
     *
     * @throws IllegalArgumentException when it is given but not base64 of 32 bytes (the message never quotes it)
     */
    public static SessionTokens fromSetting(String encoded) {
        if (encoded == null || encoded.isBlank()) {
            byte[] random = new byte[32];
            RANDOM.nextBytes(random);
            return new SessionTokens(random, true);
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(encoded.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ENV + " is not base64");
        }
        return new SessionTokens(decoded);
    }

    /** A new session's token. */
    public String seal(String protocolVersion, Instant started, byte[] keySha256) {
        if (unwarned.get() && unwarned.compareAndSet(true, false)) {
            LOG.atWarn().log(ENV + " is not set: MCP sessions are sealed with a random key, so they end with this process and other"
                    + " replicas answer them 404 (set it to 32 random bytes in base64, the same on every replica)");
        }
        byte[] version = protocolVersion.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer plain = ByteBuffer.allocate(1 + 8 + KEY_DIGEST + version.length)
                .put(VERSION).putLong(started.getEpochSecond()).put(keySha256, 0, KEY_DIGEST).put(version);
        byte[] nonce = new byte[NONCE];
        RANDOM.nextBytes(nonce);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
            byte[] sealed = cipher.doFinal(plain.array());
            byte[] token = Arrays.copyOf(nonce, NONCE + sealed.length);
            System.arraycopy(sealed, 0, token, NONCE, sealed.length);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(token);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is part of every JDK", e);
        }
    }

    /** The session of {@code token} for the key whose token hashes to {@code keySha256}, if it is one and still lasts at {@code now}. */
    public Optional<Session> open(String token, byte[] keySha256, Instant now) {
        byte[] raw;
        try {
            raw = Base64.getUrlDecoder().decode(token);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        if (raw.length < NONCE + 16 + 1 + 8 + KEY_DIGEST) {
            return Optional.empty();
        }
        byte[] plain;
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, raw, 0, NONCE));
            plain = cipher.doFinal(raw, NONCE, raw.length - NONCE);
        } catch (GeneralSecurityException e) {
            return Optional.empty();    // sealed with another key, or altered
        }
        ByteBuffer in = ByteBuffer.wrap(plain);
        if (in.get() != VERSION) {
            return Optional.empty();
        }
        Instant started = Instant.ofEpochSecond(in.getLong());
        byte[] digest = new byte[KEY_DIGEST];
        in.get(digest);
        byte[] version = new byte[in.remaining()];
        in.get(version);
        if (!MessageDigest.isEqual(digest, Arrays.copyOf(keySha256, KEY_DIGEST)) || !now.isBefore(started.plus(LIFETIME))
                || now.plusSeconds(60).isBefore(started)) {
            return Optional.empty();
        }
        return Optional.of(new Session(new String(version, StandardCharsets.US_ASCII), started, digest));
    }
}

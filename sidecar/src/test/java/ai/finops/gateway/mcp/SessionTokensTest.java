package ai.finops.gateway.mcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SessionTokensTest {
    static final Instant NOW = Instant.parse("2026-12-07T10:00:00Z");
    static final byte[] ALICE = new byte[32];
    static final byte[] BOB = new byte[32];

    static {
        Arrays.fill(ALICE, (byte) 1);
        Arrays.fill(BOB, (byte) 2);
    }

    final SessionTokens tokens = new SessionTokens(new byte[32]);

    @Test
    void aTokenOpensForItsKeyUntilItsLifetimeEnds() {
        String token = tokens.seal("2025-06-18", NOW, ALICE);
        assertThat(token).matches("[A-Za-z0-9_-]+");
        assertThat(tokens.open(token, ALICE, NOW.plusSeconds(3600))).hasValueSatisfying(s -> {
            assertThat(s.protocolVersion()).isEqualTo("2025-06-18");
            assertThat(s.started()).isEqualTo(NOW);
        });
        assertThat(tokens.open(token, BOB, NOW)).as("another key's").isEmpty();
        assertThat(tokens.open(token, ALICE, NOW.plus(SessionTokens.LIFETIME))).as("expired").isEmpty();
        assertThat(tokens.seal("2025-06-18", NOW, ALICE)).as("a fresh nonce each time").isNotEqualTo(token);
    }

    @Test
    void aTokenAlteredOrSealedWithAnotherKeyDoesNotOpen() {
        String token = tokens.seal("2025-11-25", NOW, ALICE);
        char last = token.charAt(token.length() - 2);
        String altered = token.substring(0, token.length() - 2) + (last == 'A' ? 'B' : 'A') + token.charAt(token.length() - 1);
        assertThat(tokens.open(altered, ALICE, NOW)).isEmpty();
        byte[] other = new byte[32];
        other[0] = 9;
        assertThat(new SessionTokens(other).open(token, ALICE, NOW)).isEmpty();
        assertThat(tokens.open("not base64!", ALICE, NOW)).isEmpty();
        assertThat(tokens.open("", ALICE, NOW)).isEmpty();
    }

    @Test
    void theKeySettingIsBase64Of32BytesAndNeverQuoted() {
        String secret = Base64.getEncoder().encodeToString(new byte[16]);
        assertThatThrownBy(() -> SessionTokens.fromSetting(secret)).hasMessage("the MCP session key is 32 bytes (AES-256), got 16");
        assertThatThrownBy(() -> SessionTokens.fromSetting("%%%secret%%%")).hasMessage(SessionTokens.ENV + " is not base64");
        String token = SessionTokens.fromSetting(null).seal("2025-11-25", NOW, ALICE);
        assertThat(tokens.open(token, ALICE, NOW)).as("a random key is not the zero key").isEmpty();
    }
}

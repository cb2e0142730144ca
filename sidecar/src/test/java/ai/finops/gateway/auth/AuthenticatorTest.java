package ai.finops.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which header's token counts, in order of precedence, and what an empty header means. */
class AuthenticatorTest {
    static final String TOKEN = "vk-alice-0123456789abcdef";
    static final KeyEntry ALICE = new KeyEntry("alice", null, null, Authenticator.sha256(TOKEN), false, null, List.of(), List.of());
    static final Map<String, KeyEntry> KEYS = Map.of(HexFormat.of().formatHex(ALICE.tokenSha256()), ALICE);

    static Authenticator.Result authenticate(String... nameValues) {
        HttpHeaders headers = new DefaultHttpHeaders();
        for (int i = 0; i < nameValues.length; i += 2) {
            headers.add(nameValues[i], nameValues[i + 1]);
        }
        return Authenticator.authenticate(headers, KEYS, Instant.EPOCH);
    }

    @Test
    void xBfVkWinsOverTheKeyClaudeCodeSendsBesideIt() {
        assertThat(authenticate("x-bf-vk", TOKEN, "x-api-key", "sk-ant-personal").key()).isEqualTo(ALICE);
        assertThat(authenticate("x-bf-vk", "vk-somebody-else-0123", "authorization", "Bearer " + TOKEN).status()).isEqualTo(401);
    }

    @Test
    void anEmptyHeaderCarriesNoTokenSoTheNextOneCounts() {
        assertThat(authenticate("x-bf-vk", "", "authorization", "Bearer " + TOKEN).key()).isEqualTo(ALICE);
        assertThat(authenticate("x-bf-vk", "", "x-api-key", TOKEN).key()).isEqualTo(ALICE);
        assertThat(authenticate("authorization", "Bearer", "x-api-key", TOKEN).key()).isEqualTo(ALICE);
        Authenticator.Result none = authenticate("x-bf-vk", "", "authorization", "Bearer", "x-api-key", "");
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.message()).startsWith("missing virtual key");
    }

    @Test
    void aRequestWithOnlyEmptyHeadersPresentsNoToken() {
        HttpHeaders headers = new DefaultHttpHeaders().add("x-bf-vk", "").add("authorization", "Bearer");
        assertThat(Authenticator.presentedToken(headers)).isNull();
        assertThat(Authenticator.presentedToken(headers.add("x-api-key", TOKEN))).isEqualTo(TOKEN);
    }
}

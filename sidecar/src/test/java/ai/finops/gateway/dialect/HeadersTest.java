package ai.finops.gateway.dialect;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

/** What of a client's request headers may reach a provider, and what of a provider's answer reaches the client. */
class HeadersTest {

    @Test
    void noClientCredentialReachesAProviderWhateverProviderItWasMeantFor() {
        HttpHeaders client = new DefaultHttpHeaders()
                .add("authorization", "Bearer vk-alice").add("x-api-key", "sk-ant-personal").add("x-bf-vk", "vk-alice")
                .add("cookie", "session=1").add("api-key", "azure-key").add("x-goog-api-key", "google-key")
                .add("x-amz-security-token", "aws-session").add("anthropic-beta", "claude-code-20250219")
                .add("anthropic-version", "2023-06-01").add("user-agent", "claude-cli/2.1.328 (external, sdk-cli)");
        HttpHeaders upstream = new DefaultHttpHeaders();
        Headers.copyRequestHeaders(client, upstream);
        assertThat(upstream.names()).containsExactlyInAnyOrder("anthropic-beta", "anthropic-version", "user-agent");
        for (String credential : new String[] {"authorization", "x-api-key", "x-bf-vk", "cookie", "api-key", "x-goog-api-key",
                "x-amz-security-token"}) {
            assertThat(Headers.isCredential(credential)).as(credential).isTrue();
        }
    }

    @Test
    void hopByHopHeadersAndTheOnesConnectionNamesStayOnTheirHop() {
        HttpHeaders client = new DefaultHttpHeaders().add("connection", "keep-alive, x-trace-hop").add("x-trace-hop", "1")
                .add("te", "trailers").add("content-length", "12").add("x-request-tag", "kept");
        HttpHeaders upstream = new DefaultHttpHeaders();
        Headers.copyRequestHeaders(client, upstream);
        assertThat(upstream.names()).containsExactly("x-request-tag");
    }
}

package ai.finops.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The simulator's own SigV4 computation against AWS's published test suite (aws-sig-v4-test-suite). */
class SigV4Test {
    static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    @Test
    void getVanilla() {
        String signature = SigV4.signature(SECRET, "us-east-1", "service", "20150830T123600Z", "GET", "/", "",
                Map.of("host", "example.amazonaws.com", "x-amz-date", "20150830T123600Z"), List.of("host", "x-amz-date"),
                new byte[0], true);
        assertThat(signature).isEqualTo("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    }

    @Test
    void postVanilla() {
        String signature = SigV4.signature(SECRET, "us-east-1", "service", "20150830T123600Z", "POST", "/", "",
                Map.of("host", "example.amazonaws.com", "x-amz-date", "20150830T123600Z"), List.of("host", "x-amz-date"),
                new byte[0], true);
        assertThat(signature).isEqualTo("5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
    }

    @Test
    void pathSegmentsAreEncodedOnceMore() {
        assertThat(SigV4.encodePath("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.x/invoke"))
                .isEqualTo("/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A123456789012%253Ainference-profile%252Fus.anthropic.x/invoke");
        assertThat(SigV4.canonicalRequest("POST", "/a%20b", "", Map.of("host", "h"), List.of("host"), "x".getBytes(StandardCharsets.UTF_8), true))
                .startsWith("POST\n/a%2520b\n\nhost:h\n\nhost\n");
    }
}

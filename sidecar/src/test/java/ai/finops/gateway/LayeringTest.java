package ai.finops.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The gateway's imports run one way (docs/design.md §1): {@code server} uses the rest and nothing
 * below it uses {@code server}; {@code dialect}, the client's error and header rules that providers
 * and translators share, uses no other package of the gateway.
 */
class LayeringTest {
    static final Path SOURCES = Path.of("src/main/java/ai/finops/gateway");
    static final Pattern GATEWAY_REFERENCE = Pattern.compile("\\bai\\.finops\\.gateway\\.(\\w+)\\.");

    record Reference(String file, String fromPackage, String toPackage) {
        @Override
        public String toString() {
            return file + " uses " + toPackage;
        }
    }

    static List<Reference> references() throws IOException {
        List<Reference> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Path relative = SOURCES.relativize(file);
                String from = relative.getNameCount() == 1 ? "" : relative.getName(0).toString();
                Matcher m = GATEWAY_REFERENCE.matcher(Files.readString(file));
                while (m.find()) {
                    if (!m.group(1).equals(from)) {
                        found.add(new Reference(relative.toString(), from, m.group(1)));
                    }
                }
            }
        }
        return found;
    }

    @Test
    void nothingBelowServerUsesServer() throws IOException {
        List<Reference> references = references();
        assertThat(references).as("the scan sees the packages").anyMatch(r -> r.toPackage().equals("dialect"));
        assertThat(references).filteredOn(r -> r.toPackage().equals("server") && !r.fromPackage().isEmpty()).isEmpty();
    }

    @Test
    void theClientDialectStandsOnItsOwn() throws IOException {
        assertThat(references()).filteredOn(r -> r.fromPackage().equals("dialect")).isEmpty();
    }
}

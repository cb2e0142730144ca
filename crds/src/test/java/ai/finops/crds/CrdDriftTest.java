package ai.finops.crds;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The CustomResourceDefinitions committed in {@code crds/} are exactly what the build generates from
 * the resource classes (crd-generator-maven-plugin, at process-classes). After changing a resource
 * class, run {@code ./mvnw -pl crds test -Dfinops.updateCrds=true} and commit the new YAML.
 */
class CrdDriftTest {
    static final Path GENERATED = Path.of("target/classes/META-INF/fabric8");
    static final Path COMMITTED = Path.of(".");
    static final List<String> NAMES = List.of("budgets.finops.ai-v1.yml", "mcpservers.finops.ai-v1.yml", "providerdeployments.finops.ai-v1.yml",
            "routingrules.finops.ai-v1.yml", "virtualkeys.finops.ai-v1.yml");

    @Test
    void committedCrdsAreWhatTheBuildGenerates() throws IOException {
        try (Stream<Path> generated = Files.list(GENERATED)) {
            assertThat(generated.map(p -> p.getFileName().toString()).sorted().toList()).isEqualTo(NAMES);
        }
        boolean update = Boolean.getBoolean("finops.updateCrds");
        for (String name : NAMES) {
            String generated = Files.readString(GENERATED.resolve(name), StandardCharsets.UTF_8);
            if (update) {
                Files.writeString(COMMITTED.resolve(name), generated, StandardCharsets.UTF_8);
            }
            assertThat(Files.readString(COMMITTED.resolve(name), StandardCharsets.UTF_8))
                    .as("crds/%s differs from the generated CRD; run ./mvnw -pl crds test -Dfinops.updateCrds=true and commit it", name)
                    .isEqualTo(generated);
        }
    }
}

package ai.finops.operator.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.crds.Budget;
import ai.finops.crds.McpServer;
import ai.finops.crds.ProviderDeployment;
import ai.finops.crds.ResourceStatus;
import ai.finops.crds.ResourceYaml;
import ai.finops.crds.RoutingRule;
import ai.finops.crds.VirtualKey;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.client.CustomResource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Golden files: {@code golden/<case>/in.yaml} (resources and Secrets of one namespace) gives
 * {@code bundle.yaml} (the ConfigMap's content), {@code credentials.yaml} (the credentials Secret's
 * data) and {@code status.yaml} (every resource's status, at a fixed clock). Run with
 * {@code -Dfinops.updateGolden=true} to rewrite the expected files, then review the diff.
 */
class BundleGoldenTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");
    static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
    static final YAMLMapper YAML = YAMLMapper.builder().build();

    @ParameterizedTest
    @ValueSource(strings = {"accepted", "broken-references", "invalid"})
    void inputGivesTheExpectedBundleCredentialsAndStatus(String name) throws IOException {
        Path dir = GOLDEN.resolve(name);
        ResourceYaml.Result in = ResourceYaml.read(Files.readString(dir.resolve("in.yaml")), name + "/in.yaml");
        assertThat(in.problems()).isEmpty();
        Map<String, Map<String, String>> secrets = new TreeMap<>();
        in.documents().forEach(d -> {
            if (d.resource() instanceof ResourceYaml.SecretValues s) {
                secrets.put(s.name(), s.values());
            }
        });
        List<ProviderDeployment> pds = in.resources(ProviderDeployment.class);
        List<RoutingRule> rrs = in.resources(RoutingRule.class);
        List<VirtualKey> vks = in.resources(VirtualKey.class);
        List<Budget> buds = in.resources(Budget.class);
        List<McpServer> mcps = in.resources(McpServer.class);
        Bundle bundle = BundleBuilder.build(new BundleBuilder.Input("team-a", pds, rrs, vks, buds, mcps, secrets));

        Map<String, ResourceStatus> statuses = new LinkedHashMap<>();
        List<CustomResource<?, ? extends ResourceStatus>> all = new ArrayList<>();
        all.addAll(pds);
        all.addAll(rrs);
        all.addAll(vks);
        all.addAll(buds);
        all.addAll(mcps);
        for (CustomResource<?, ? extends ResourceStatus> r : all) {
            statuses.put(ResourceKey.of(r).toString(),
                    Statuses.desired(bundle.verdicts().get(ResourceKey.of(r)), r.getMetadata().getGeneration(), null, NOW));
        }
        assertThat(bundle.verdicts().keySet()).hasSize(all.size());

        check(dir.resolve("bundle.yaml"), bundle.yaml());
        check(dir.resolve("credentials.yaml"), YAML.writeValueAsString(bundle.credentials()));
        check(dir.resolve("status.yaml"), YAML.writeValueAsString(new TreeMap<>(statuses)));
        assertThat(bundle.sha256()).isEqualTo(BundleBuilder.sha256(bundle.yaml()));
        // unchanged input, in another order: the same bytes
        Bundle again = BundleBuilder.build(new BundleBuilder.Input("team-a", reversed(pds), reversed(rrs), reversed(vks), reversed(buds),
                reversed(mcps), secrets));
        assertThat(again.yaml()).isEqualTo(bundle.yaml());
        assertThat(again.credentials()).isEqualTo(bundle.credentials());
    }

    private static <T> List<T> reversed(List<T> list) {
        List<T> copy = new ArrayList<>(list);
        java.util.Collections.reverse(copy);
        return copy;
    }

    private static void check(Path expected, String actual) throws IOException {
        if (Boolean.getBoolean("finops.updateGolden")) {
            Files.writeString(expected, actual, StandardCharsets.UTF_8);
        }
        assertThat(actual).as("%s (rerun with -Dfinops.updateGolden=true to update)", expected).isEqualTo(Files.readString(expected));
    }
}

package ai.finops.operator;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.crds.SecretKeyRef;
import ai.finops.operator.inject.ManifestInjector;
import ai.finops.operator.inject.SidecarInjector;
import ai.finops.operator.inject.SidecarSettings;
import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Kubelet starts a {@code runAsNonRoot} container only when it can verify the user is not root: a
 * numeric {@code runAsUser} in the security context, or a numeric {@code USER} in the image (a name
 * such as {@code nonroot} is refused: "image has non-numeric user (nonroot), cannot verify user is
 * non-root", and the pod never starts). So every container the chart renders, with every value set
 * that changes what it renders, and every sidecar the injector adds, in both modes, names its user
 * by number; and every image's Dockerfile ends with a numeric {@code USER}.
 */
class NumericUserTest {
    static final Path ROOT = Path.of("..");

    /** The value sets that, together, render every template of the chart. */
    static final Map<String, UnaryOperator<TemplateCommand>> VALUE_SETS = Map.of(
            "defaults", t -> t,
            "shared gateway, via-gateway sidecars, monitoring", t -> t.set("gateway.enabled", true).set("sidecar.mode", "via-gateway")
                    .set("serviceMonitor.enabled", true).set("grafana.dashboards.enabled", true).set("prometheusRule.enabled", true),
            "webhook certificate managed by the operator", t -> t.set("webhook.certManager.enabled", false),
            "webhook off", t -> t.set("webhook.enabled", false),
            "cert-manager with an existing issuer, sidecars relaying elsewhere", t -> t.set("webhook.certManager.issuerRef.name", "ca")
                    .set("webhook.certManager.issuerRef.kind", "ClusterIssuer").set("sidecar.mode", "via-gateway")
                    .set("sidecar.gatewayUrl", "https://ai-gateway.example.com"),
            "the chart's own Redis, with a password and persistence", t -> t.set("redis.enabled", true)
                    .set("redis.passwordSecret.name", "redis-auth").set("redis.persistence.enabled", true));

    static final Pattern SOURCE = Pattern.compile("(?m)^# Source: finops/(templates/\\S+)$");

    /** What {@link #checkTree} saw: every container of every pod spec, and those kubelet would refuse. */
    static final class Findings {
        final List<String> containers = new ArrayList<>();
        /** Effectively {@code runAsNonRoot}, with no user kubelet can verify in the container's or the pod's security context. */
        final List<String> unverifiable = new ArrayList<>();
    }

    /** Every pod spec in {@code tree} (anything with {@code containers}): a Pod, a workload's template, a CronJob's job template. */
    static void checkTree(JsonNode tree, String where, Findings findings) {
        if (tree.isObject() && tree.path("containers").isArray()) {
            JsonNode pod = tree.path("securityContext");
            for (String list : List.of("initContainers", "containers", "ephemeralContainers")) {
                for (JsonNode container : tree.path(list)) {
                    JsonNode own = container.path("securityContext");
                    String name = where + " " + list + "/" + container.path("name").asText();
                    findings.containers.add(name);
                    boolean nonRoot = (own.has("runAsNonRoot") ? own.get("runAsNonRoot") : pod.path("runAsNonRoot")).asBoolean(false);
                    JsonNode user = own.has("runAsUser") ? own.get("runAsUser") : pod.get("runAsUser");
                    if (nonRoot && (user == null || !user.canConvertToLong() || user.asLong() == 0)) {
                        findings.unverifiable.add(name + " (runAsNonRoot: true, runAsUser: " + user + ")");
                    }
                }
            }
        }
        tree.forEach(child -> checkTree(child, where, findings));
    }

    static void check(HasMetadata resource, String where, Findings findings) {
        checkTree(Serialization.jsonMapper().valueToTree(resource), where + ": " + resource.getKind() + "/" + resource.getMetadata().getName(), findings);
    }

    static List<HasMetadata> documents(String yaml) {
        List<HasMetadata> objects = new ArrayList<>();
        for (String doc : yaml.split("(?m)^---\\s*$")) {
            if (doc.lines().anyMatch(l -> l.startsWith("kind:"))) {
                objects.add(Serialization.unmarshal(doc));
            }
        }
        return objects;
    }

    @Test
    void everyContainerTheChartRendersNamesANumericUser() throws IOException {
        Findings findings = new Findings();
        Set<String> rendered = new TreeSet<>();
        VALUE_SETS.forEach((name, values) -> {
            String yaml = values.apply(new Helm(ChartTest.CHART).template().withName("finops").withNamespace("finops-system")
                    .withKubeVersion("1.31.0")).call();
            Matcher source = SOURCE.matcher(yaml);
            while (source.find()) {
                rendered.add(source.group(1));
            }
            documents(yaml).forEach(object -> check(object, "chart (" + name + ")", findings));
        });
        Set<String> templates = new TreeSet<>();
        try (Stream<Path> files = Files.list(ChartTest.CHART.resolve("templates"))) {
            files.map(f -> "templates/" + f.getFileName()).filter(f -> f.endsWith(".yaml") || f.endsWith(".yml")).forEach(templates::add);
        }
        assertThat(rendered).as("the value sets render every template").isEqualTo(templates);
        assertThat(findings.containers).as("the operator and the shared gateway were checked")
                .anyMatch(c -> c.contains("Deployment/finops-operator containers/operator"))
                .anyMatch(c -> c.contains("Deployment/finops-gateway containers/gateway"));
        assertThat(findings.unverifiable).as("runAsNonRoot with no numeric runAsUser: kubelet refuses to start them").isEmpty();
    }

    /** Pods as a user writes them: the examples' and the injection tests' manifests. */
    static List<Path> podManifests() throws IOException {
        List<Path> manifests = new ArrayList<>();
        for (Path dir : List.of(ROOT.resolve("examples"), Path.of("src/test/resources/inject"))) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.filter(f -> f.toString().endsWith(".yaml") && !f.toString().endsWith(".out.yaml"))
                        .filter(f -> !f.startsWith(ROOT.resolve("examples/argocd")) && !f.startsWith(ROOT.resolve("examples/src")))
                        .sorted().forEach(manifests::add);
            }
        }
        return manifests;
    }

    @Test
    void everySidecarTheInjectorAddsNamesANumericUserInBothModes() throws IOException {
        Findings findings = new Findings();
        Set<SidecarSettings.Mode> modes = EnumSet.noneOf(SidecarSettings.Mode.class);
        int injected = 0;
        for (var valueSet : VALUE_SETS.entrySet()) {
            List<HasMetadata> chart = ChartTest.render(valueSet.getValue());
            if (ChartTest.of(chart, io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration.class).isEmpty()) {
                continue;   // nothing injects
            }
            // the sidecar settings the chart gives the operator's webhook (the same injector as finops-operator inject)
            ManifestInjector injector = new ManifestInjector(new SidecarInjector(ChartTest.operatorCommandLine(chart).sidecar.settings()));
            for (Path manifest : podManifests()) {
                for (HasMetadata resource : documents(Files.readString(manifest))) {
                    if (!ManifestInjector.holdsPod(resource)) {
                        continue;
                    }
                    String where = "injected with the chart's settings (" + valueSet.getKey() + ") into " + manifest;
                    SidecarInjector.Outcome outcome = injector.inject(resource, name -> new SecretKeyRef("vk-" + name, "token"));
                    if (outcome.injected()) {
                        injected++;
                        modes.add(outcome.mode());
                    }
                    check(resource, where, findings);
                }
            }
        }
        assertThat(modes).as("sidecars injected in both modes").containsExactlyInAnyOrder(SidecarSettings.Mode.values());
        assertThat(findings.containers.stream().filter(c -> c.endsWith("initContainers/" + SidecarInjector.CONTAINER)))
                .as("every injected sidecar was checked").hasSize(injected);
        assertThat(findings.unverifiable).as("runAsNonRoot with no numeric runAsUser: kubelet refuses to start them").isEmpty();
    }

    static final Pattern INSTRUCTION = Pattern.compile("(?im)^\\s*(FROM|USER)\\s+(\\S+)");

    @Test
    void everyDockerfileEndsWithANumericUser() throws IOException {
        List<Path> dockerfiles = new ArrayList<>();
        Files.walkFileTree(ROOT, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
                String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
                return dir.equals(ROOT) || !(name.equals(".git") || name.equals("target") || name.equals("node_modules"))
                        ? FileVisitResult.CONTINUE : FileVisitResult.SKIP_SUBTREE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                String name = file.getFileName().toString();
                if (name.equals("Dockerfile") || name.startsWith("Dockerfile.") || name.endsWith(".Dockerfile")) {
                    dockerfiles.add(file);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        assertThat(dockerfiles).as("the gateway's and the operator's images")
                .contains(ROOT.resolve("sidecar/Dockerfile"), ROOT.resolve("operator/Dockerfile"));
        for (Path dockerfile : dockerfiles) {
            String user = null;   // the last USER of the last stage, the one the image runs as
            Matcher m = INSTRUCTION.matcher(Files.readString(dockerfile));
            while (m.find()) {
                user = m.group(1).equalsIgnoreCase("FROM") ? null : m.group(2);
            }
            assertThat(user).as("%s: its final stage sets no USER", dockerfile).isNotNull();
            assertThat(user).as("%s: USER %s is not numeric (uid or uid:gid): kubelet cannot verify runAsNonRoot", dockerfile, user)
                    .matches("[0-9]+(:[0-9]+)?");
            assertThat(Long.parseLong(user.split(":")[0])).as("%s: USER is root", dockerfile).isNotZero();
        }
    }
}

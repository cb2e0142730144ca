package ai.finops.operator.inject;

import ai.finops.crds.ResourceYaml;
import ai.finops.crds.SecretKeyRef;
import ai.finops.crds.VirtualKey;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code finops-operator inject -f pod.yaml [--resources DIR] [--sidecar-mode via-gateway --sidecar-gateway-url URL]}: prints the manifests with the gateway
 * sidecar injected, as the admission webhook would inject them (the same {@link SidecarInjector}),
 * for GitOps repositories that commit injected manifests and for debugging. VirtualKeys come from
 * {@code --resources} (a folder of resource YAML) or, without it, from the cluster.
 */
@Command(name = "inject", mixinStandardHelpOptions = true,
        description = "Print manifests with the FinOps gateway sidecar injected, as the admission webhook would.")
public final class InjectCommand implements Callable<Integer> {
    @Option(names = {"-f", "--filename"}, required = true, description = "Manifest file (multi-document YAML), or - for standard input.")
    String file;

    @Option(names = "--resources", description = "Folder of resource YAML to find VirtualKeys in, instead of the cluster.")
    Path resources;

    @picocli.CommandLine.Mixin
    SidecarOptions sidecar = new SidecarOptions();

    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() throws Exception {
        String yaml;
        try (InputStream in = file.equals("-") ? System.in : Files.newInputStream(Path.of(file))) {
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Function<String, SecretKeyRef> keys = resources != null ? fromFolder(resources) : fromCluster();
        SidecarSettings settings;
        try {
            settings = sidecar.settings();
        } catch (IllegalArgumentException e) {
            err.println("sidecar settings rejected: " + e.getMessage());
            return 2;
        }
        ManifestInjector injector = new ManifestInjector(new SidecarInjector(settings));
        StringBuilder result = new StringBuilder();
        int problems = 0;
        for (String document : yaml.split("(?m)^---\\s*$")) {
            if (document.isBlank()) {
                continue;
            }
            HasMetadata resource = Serialization.unmarshal(document);
            SidecarInjector.Outcome outcome = injector.inject(resource, keys);
            err.println(resource.getKind() + "/" + resource.getMetadata().getName() + ": " + outcome.reason());
            problems += outcome.problem() ? 1 : 0;
            String rendered = Serialization.asYaml(resource);
            result.append(rendered.startsWith("---") ? rendered : "---\n" + rendered);
        }
        out.print(result);
        return problems == 0 ? 0 : 1;   // every manifest is printed; a pod that asked for the sidecar and cannot have it fails the run
    }

    static Function<String, SecretKeyRef> fromFolder(Path dir) {
        ResourceYaml.Result read = ResourceYaml.readDirectory(dir);
        Map<String, SecretKeyRef> byName = new HashMap<>();
        for (VirtualKey vk : read.resources(VirtualKey.class)) {
            if (vk.getSpec() != null && vk.getSpec().secretRef != null) {
                byName.put(vk.getMetadata().getName(), vk.getSpec().secretRef);
            }
        }
        return byName::get;
    }

    private static Function<String, SecretKeyRef> fromCluster() {
        var client = new KubernetesClientBuilder().build();
        String namespace = client.getNamespace();
        return name -> {
            VirtualKey vk = client.resources(VirtualKey.class).inNamespace(namespace).withName(name).get();
            return vk == null || vk.getSpec() == null ? null : vk.getSpec().secretRef;
        };
    }

}

package ai.finops.operator.inject;

import ai.finops.crds.ResourceYaml;
import ai.finops.crds.SecretKeyRef;
import ai.finops.crds.VirtualKey;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
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
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code finops-operator inject -f pod.yaml [--resources DIR] [--sidecar-mode via-gateway --sidecar-gateway-url URL]}: prints the manifests with the gateway
 * sidecar injected, as the admission webhook would inject them (the same {@link SidecarInjector}),
 * for GitOps repositories that commit injected manifests and for debugging. VirtualKeys come from
 * {@code --resources} (a folder of resource YAML) or, without it, from the cluster. Documents that
 * hold no pod pass through unchanged; each pod's outcome is one line on standard error.
 */
@Command(name = "inject", mixinStandardHelpOptions = true,
        description = "Print manifests with the FinOps gateway sidecar injected, as the admission webhook would.")
public final class InjectCommand implements Callable<Integer> {
    @Option(names = {"-f", "--filename"}, required = true, description = "Manifest file (multi-document YAML), or - for standard input.")
    String file;

    @Option(names = "--resources", description = "Folder of resource YAML to find VirtualKeys in; without it, they are read from the cluster "
            + "(kubeconfig or in-cluster), in each manifest's namespace.")
    Path resources;

    @picocli.CommandLine.Mixin
    SidecarOptions sidecar = new SidecarOptions();

    PrintStream out = System.out;
    PrintStream err = System.err;
    /** Where VirtualKeys are read without {@code --resources}: the kubeconfig's cluster, or the pod's own when run in one. */
    Supplier<Config> cluster = () -> Config.autoConfigure(null);

    @Override
    public Integer call() throws Exception {
        String yaml;
        try (InputStream in = file.equals("-") ? System.in : Files.newInputStream(Path.of(file))) {
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.nio.file.NoSuchFileException e) {
            err.println("no such file: " + file);
            return 2;
        } catch (java.io.IOException e) {
            err.println("cannot read " + file + ": " + e.getMessage());
            return 2;
        }
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
        Function<String, SecretKeyRef> folder = resources != null ? fromFolder(resources) : null;
        try (ClusterVirtualKeys fromCluster = resources != null ? null : new ClusterVirtualKeys(cluster)) {
            for (String document : yaml.split("(?m)^---\\s*$")) {
                if (document.isBlank()) {
                    continue;
                }
                HasMetadata resource;
                try {
                    resource = Serialization.unmarshal(document);
                } catch (RuntimeException e) {
                    err.println(file + ": a document is not a Kubernetes manifest: " + firstLine(e));
                    return 2;
                }
                if (ManifestInjector.holdsPod(resource)) {   // other kinds pass through unchanged, without a word
                    String namespace = resource.getMetadata().getNamespace();
                    SidecarInjector.Outcome outcome = injector.inject(resource, folder != null ? folder : name -> fromCluster.get(namespace, name));
                    err.println(resource.getKind() + "/" + resource.getMetadata().getName() + ": " + outcome.reason());
                    problems += outcome.problem() ? 1 : 0;
                }
                String rendered = Serialization.asYaml(resource);
                result.append(rendered.startsWith("---") ? rendered : "---\n" + rendered);
            }
        } catch (ClusterVirtualKeys.Unavailable e) {
            err.println(e.getMessage());
            return 2;   // nothing printed: half the manifests would read as all of them
        }
        out.print(result);
        return problems == 0 ? 0 : 1;   // every manifest is printed; a pod that asked for the sidecar and cannot have it fails the run
    }

    /** The parser's own first line, without the stack of causes. */
    private static String firstLine(Throwable e) {
        String message = ClusterVirtualKeys.cause(e);
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
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

    /**
     * VirtualKeys read from the cluster, connected to when a pod first names one (manifests without
     * such a pod need no cluster), in the manifest's namespace, else the kubeconfig's, else
     * {@code default}. A cluster that is not configured, cannot be reached or refuses the read is
     * {@link Unavailable}: one line saying that {@code --resources} or a cluster is needed.
     */
    static final class ClusterVirtualKeys implements AutoCloseable {
        /** Why the VirtualKeys cannot be read from the cluster, as one line for the user. */
        static final class Unavailable extends RuntimeException {
            Unavailable(String virtualKey, String why) {
                super("inject needs --resources DIR (a folder with the VirtualKeys) or a reachable cluster to find VirtualKey '"
                        + virtualKey + "': " + why, null, false, false);
            }
        }

        private static final String DEFAULT_MASTER_URL = "https://kubernetes.default.svc";

        private final Supplier<Config> config;
        private KubernetesClient client;

        ClusterVirtualKeys(Supplier<Config> config) {
            this.config = config;
        }

        SecretKeyRef get(String namespace, String name) {
            if (client == null) {
                Config c;
                try {
                    c = config.get();
                } catch (RuntimeException e) {
                    throw new Unavailable(name, "the kubeconfig cannot be read (" + cause(e) + ")");
                }
                // no kubeconfig context, no service account namespace, no master URL of its own: nothing is configured
                if (c.getCurrentContext() == null && c.getNamespace() == null
                        && (c.getMasterUrl() == null || c.getMasterUrl().startsWith(DEFAULT_MASTER_URL))) {
                    throw new Unavailable(name, "no cluster is configured (no kubeconfig, and not running in a pod)");
                }
                c.setRequestRetryBackoffLimit(0);   // a command line answers now; the operator's own client keeps retrying
                client = new KubernetesClientBuilder().withConfig(c).build();
            }
            String ns = namespace != null ? namespace : client.getNamespace() != null ? client.getNamespace() : "default";
            try {
                VirtualKey vk = client.resources(VirtualKey.class).inNamespace(ns).withName(name).get();
                return vk == null || vk.getSpec() == null ? null : vk.getSpec().secretRef;
            } catch (KubernetesClientException e) {
                throw new Unavailable(name, e.getCode() > 0
                        ? client.getMasterUrl() + " answered " + e.getCode() + (e.getStatus() != null && e.getStatus().getMessage() != null
                                ? " (" + e.getStatus().getMessage() + ")" : "") + " for namespace " + ns
                        : client.getMasterUrl() + " cannot be reached (" + cause(e) + ")");
            }
        }

        /** What went wrong on the way to the cluster, in words: the JDK's network exceptions often carry no message. */
        static String cause(Throwable e) {
            String message = null;
            for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (t instanceof java.net.http.HttpTimeoutException || t instanceof java.net.SocketTimeoutException) {
                    return "timed out";
                }
                if (t instanceof java.net.ConnectException) {
                    return "connection refused";
                }
                if (t instanceof java.net.UnknownHostException) {
                    return "unknown host " + t.getMessage();
                }
                if (t.getMessage() != null && !t.getMessage().isBlank()) {
                    message = t.getMessage();   // the innermost one says most
                }
            }
            return message != null ? message : e.getClass().getSimpleName();
        }

        @Override
        public void close() {
            if (client != null) {
                client.close();
            }
        }
    }
}

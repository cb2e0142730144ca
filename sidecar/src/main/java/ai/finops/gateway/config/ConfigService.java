package ai.finops.gateway.config;

import ai.finops.crds.ParsedDocument;
import ai.finops.crds.McpServer;
import ai.finops.crds.McpServerSpec;
import ai.finops.crds.ProviderDeployment;
import ai.finops.crds.ProviderDeploymentSpec;
import ai.finops.crds.ResourceSet;
import ai.finops.crds.ResourceYaml;
import ai.finops.crds.VirtualKey;
import ai.finops.crds.VirtualKeySpec;
import ai.finops.crds.validation.Problem;
import ai.finops.crds.validation.ResourceValidator;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.tls.CertificatePair;
import ai.finops.gateway.upstream.TlsContexts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Standalone configuration: folders of resource YAML (plus {@code kind: Secret} documents whose
 * values may be {@code ${ENV_VAR}}, and one optional {@code kind: GatewaySettings}), read, validated
 * whole by the shared validators of {@code crds/}, compiled into a {@link Snapshot} and published
 * with one atomic set. A set with any problem is rejected whole and the last good snapshot stays.
 *
 * <p>In Kubernetes the folder is the operator's mounted bundle ConfigMap and {@code credentials} the
 * mounted credentials Secret: one file per value, named {@code <Secret name>.<key>} (see {@link
 * CredentialFiles}), standing in for the {@code kind: Secret} documents of standalone mode.
 */
public final class ConfigService {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigService.class);
    private static final String FINOPS_GROUP = "finops.ai";

    /** The configuration could not be loaded; every problem is listed. */
    public static final class InvalidConfig extends Exception {
        private final List<Problem> problems;

        public InvalidConfig(List<Problem> problems) {
            super(problems.size() + " configuration problem(s): " + problems);
            this.problems = List.copyOf(problems);
        }

        public List<Problem> problems() {
            return problems;
        }
    }

    private final List<Path> dirs;
    private final Path credentials;
    private final Function<String, String> env;
    private final GatewayMetrics metrics;
    private final SnapshotCompiler compiler;
    private final UnaryOperator<GatewaySettings> overrides;
    private final SnapshotHolder holder = new SnapshotHolder();
    private long generation;
    private String lastContentHash;

    public ConfigService(List<Path> dirs, Path credentials, Function<String, String> env, GatewayMetrics metrics, TlsContexts tls,
            UnaryOperator<GatewaySettings> overrides) {
        this.dirs = List.copyOf(dirs);
        this.credentials = credentials;
        this.env = env;
        this.metrics = metrics;
        this.compiler = new SnapshotCompiler(tls);
        this.overrides = overrides;
    }

    public SnapshotHolder holder() {
        return holder;
    }

    /** Loads the first snapshot; the gateway does not start on an invalid configuration. */
    public synchronized void loadInitial() throws InvalidConfig {
        Loaded loaded = read(dirs, credentials, env);
        Snapshot snapshot = compileOrProblems(loaded);
        holder.publish(snapshot, loaded.contentHash());
        lastContentHash = loaded.contentHash();
        LOG.atInfo().addKeyValue("generation", snapshot.generation()).addKeyValue("files", loaded.files().size())
                .addKeyValue("deployments", snapshot.routing().deployments().size()).addKeyValue("rules", snapshot.routing().rules().size())
                .addKeyValue("virtual_keys", snapshot.keys().size()).addKeyValue("budgets", snapshot.budgets().size())
                .log("configuration loaded");
    }

    /**
     * Re-reads the folders; publishes a new snapshot when the content changed and is valid. Called by
     * the watcher thread, never on an event loop.
     *
     * @return true when a new snapshot was published
     */
    public synchronized boolean reload() {
        Sources sources = sources(dirs, credentials);
        if (sources.contentHash().equals(lastContentHash)) {
            return false;
        }
        Loaded loaded = parse(sources, env);
        try {
            Snapshot snapshot = compileOrProblems(loaded);
            holder.publish(snapshot, loaded.contentHash());
            lastContentHash = loaded.contentHash();
            metrics.configReload("accepted");
            LOG.atInfo().addKeyValue("generation", snapshot.generation())
                    .addKeyValue("deployments", snapshot.routing().deployments().size()).addKeyValue("rules", snapshot.routing().rules().size())
                    .addKeyValue("virtual_keys", snapshot.keys().size()).addKeyValue("budgets", snapshot.budgets().size())
                    .log("configuration reloaded");
            return true;
        } catch (InvalidConfig e) {
            lastContentHash = loaded.contentHash();   // report a broken edit once, not on every poll
            holder.rejected(Instant.now(), e.problems());
            metrics.configReload("rejected");
            LOG.atError().addKeyValue("problems", e.problems().size())
                    .addKeyValue("kept_generation", holder.current().generation())
                    .log("configuration change rejected; the last good configuration keeps serving:\n  "
                            + String.join("\n  ", e.problems().stream().map(Problem::toString).toList()));
            return false;
        }
    }

    /** What {@code validate} reports: every problem of the folders, as the gateway would see them. */
    public static List<Problem> validate(List<Path> dirs, Path credentials, Function<String, String> env) {
        return validate(dirs, credentials, env, false).problems();
    }

    /**
     * What {@code validate} reports.
     *
     * @param problems every problem of the folders as the gateway would see them, and each folder that
     *     holds no resource at all
     * @param assumedSecrets with {@code clusterSecrets}: the Secrets that {@code secretRef}s name and the
     *     folders do not hold, sorted; empty otherwise
     */
    public record Validation(List<Problem> problems, List<String> assumedSecrets) {}

    /**
     * What {@code validate} reports. With {@code clusterSecrets}, as in a GitOps repository, a {@code
     * secretRef} to a Secret that the folders do not hold is taken to name a Secret of the cluster: it
     * is assumed to exist with the keys the resources read, so neither it nor its keys are checked.
     */
    public static Validation validate(List<Path> dirs, Path credentials, Function<String, String> env, boolean clusterSecrets) {
        Loaded loaded = parse(sources(dirs, credentials), env, clusterSecrets);
        List<Problem> problems = new ArrayList<>(loaded.problems());
        problems.addAll(foldersWithoutResources(dirs, loaded));
        if (!clusterSecrets) {
            problems.addAll(tlsFiles(loaded));
        }
        if (problems.isEmpty()) {
            try {
                new SnapshotCompiler(new TlsContexts()).compile(loaded.resources(), loaded.settings(), 0, Instant.EPOCH);
            } catch (RuntimeException e) {
                problems.add(new Problem("Configuration", String.join(",", dirs.stream().map(Path::toString).toList()), "-", e.getMessage()));
            }
        }
        return new Validation(List.copyOf(problems), loaded.assumedSecrets());
    }

    /**
     * The {@code tls} files, read and checked as the gateway will at start. Not with {@code
     * clusterSecrets}: in a GitOps repository they are a Secret of the cluster, mounted only there.
     */
    private static List<Problem> tlsFiles(Loaded loaded) {
        GatewaySettings.Tls tls = loaded.settings().tls();
        if (tls == null) {
            return List.of();
        }
        try {
            CertificatePair.read(tls.certFile(), tls.keyFile());
            return List.of();
        } catch (IllegalArgumentException e) {
            String where = loaded.documents().stream().filter(d -> SettingsDocument.KIND.equals(d.kind())).findFirst()
                    .map(ParsedDocument::location).orElse(null);
            return List.of(new Problem(SettingsDocument.KIND, where, "tls", e.getMessage()));
        }
    }

    /**
     * A folder that holds no finops.ai resource and no Secret (a folder of other manifests, a typo, a
     * parent folder whose resources lie in a subfolder) validates nothing: say so. A folder whose files
     * have syntax or other reading problems is left out, those problems already speak for it.
     */
    private static List<Problem> foldersWithoutResources(List<Path> dirs, Loaded loaded) {
        List<Problem> problems = new ArrayList<>();
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) {
                continue;   // already a problem of sources()
            }
            boolean unreadable = loaded.unreadable().stream().anyMatch(file -> dir.equals(file.getParent()));
            boolean found = loaded.documents().stream().anyMatch(d -> dir.equals(Path.of(d.source()).getParent())
                    && (d.resource() instanceof ResourceYaml.SecretValues || d.apiVersion() != null && d.apiVersion().startsWith(FINOPS_GROUP + "/")));
            if (!found && !unreadable) {
                problems.add(new Problem(null, null, null, dir + ": no " + FINOPS_GROUP
                        + " resources found (looked for *.yaml/*.yml in it, not in subfolders)"));
            }
        }
        return problems;
    }

    private Snapshot compileOrProblems(Loaded loaded) throws InvalidConfig {
        if (!loaded.problems().isEmpty()) {
            throw new InvalidConfig(loaded.problems());
        }
        Snapshot snapshot;
        try {
            snapshot = compiler.compile(loaded.resources(), overrides.apply(loaded.settings()), ++generation, Instant.now());
        } catch (RuntimeException e) {
            throw new InvalidConfig(List.of(new Problem("Configuration", "-", "-", String.valueOf(e.getMessage()))));
        }
        return snapshot;
    }

    /**
     * The files of the folders as read, the mounted credentials (null in standalone mode), and a hash
     * of names and contents.
     */
    record Sources(List<Path> files, List<String> texts, CredentialFiles credentials, List<Problem> problems, String contentHash) {}

    /** The resources, settings and problems compiled from {@link Sources}. */
    record Loaded(ResourceSet resources, GatewaySettings settings, List<Problem> problems, List<Path> files, String contentHash,
            List<String> assumedSecrets, List<ParsedDocument> documents, Set<Path> unreadable) {}

    static Loaded read(List<Path> dirs, Path credentials, Function<String, String> env) {
        return parse(sources(dirs, credentials), env);
    }

    /**
     * Lists and reads the {@code *.yaml}/{@code *.yml} files (names starting with {@code .} skipped;
     * kubelet's symlinks followed). Cheap enough to run on every poll: nothing is parsed.
     */
    static Sources sources(List<Path> dirs, Path credentialsDir) {
        List<Problem> problems = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) {
                problems.add(new Problem(null, null, null, (Files.exists(dir) ? "not a directory: " : "no such directory: ") + dir));
                continue;
            }
            try (Stream<Path> list = Files.list(dir)) {
                list.filter(p -> !p.getFileName().toString().startsWith("."))
                        .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                        .filter(Files::isRegularFile)   // follows kubelet's symlinks into ..data
                        .sorted()
                        .forEach(files::add);
            } catch (IOException e) {
                problems.add(new Problem("Configuration", dir.toString(), "-", "cannot list: " + e.getMessage()));
            }
        }
        MessageDigest digest = sha256();
        List<Path> read = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (Path file : files) {
            try {
                String text = Files.readString(file, StandardCharsets.UTF_8);
                digest.update(file.toString().getBytes(StandardCharsets.UTF_8));
                digest.update(text.getBytes(StandardCharsets.UTF_8));
                read.add(file);
                texts.add(text);
            } catch (IOException e) {
                problems.add(new Problem("Configuration", file.toString(), "-", "cannot read: " + e.getMessage()));
                digest.update(("unreadable " + file).getBytes(StandardCharsets.UTF_8));
            }
        }
        CredentialFiles credentials = credentialsDir == null ? null : CredentialFiles.read(credentialsDir, digest, problems);
        problems.forEach(p -> digest.update(p.toString().getBytes(StandardCharsets.UTF_8)));
        return new Sources(read, texts, credentials, problems, HexFormat.of().formatHex(digest.digest()));
    }

    /** Parses, expands {@code ${ENV}} in Secrets (the environment is fixed for the process) and validates. */
    static Loaded parse(Sources sources, Function<String, String> env) {
        return parse(sources, env, false);
    }

    /** {@link #parse(Sources, Function)}; with {@code clusterSecrets}, Secrets the folders do not hold are assumed to exist. */
    static Loaded parse(Sources sources, Function<String, String> env, boolean clusterSecrets) {
        List<Problem> problems = new ArrayList<>(sources.problems());
        ResourceYaml.Result docs = new ResourceYaml.Result(List.of(), List.of());
        Set<Path> unreadable = new HashSet<>();     // files with reading problems
        for (int i = 0; i < sources.files().size(); i++) {
            ResourceYaml.Result read = ResourceYaml.read(sources.texts().get(i), sources.files().get(i).toString());
            if (!read.ok()) {
                unreadable.add(sources.files().get(i));
            }
            docs = docs.plus(read);
        }
        problems.addAll(docs.problems());
        ResourceSet set = docs.toResourceSet(env, ResourceSet.SecretChecks.ALL, problems);
        if (sources.credentials() != null) {
            set = sources.credentials().addTo(set, problems);
        }
        List<String> assumed = List.of();
        if (clusterSecrets) {
            Map<String, Map<String, String>> placeholders = clusterSecretPlaceholders(set);
            assumed = List.copyOf(placeholders.keySet());
            Map<String, Map<String, String>> secrets = new LinkedHashMap<>(set.secrets());
            secrets.putAll(placeholders);
            set = set.withSecrets(secrets);
        }
        problems.addAll(ResourceValidator.validate(set));
        GatewaySettings settings = settings(docs.ofKind(SettingsDocument.KIND), problems);
        return new Loaded(set, settings, problems, sources.files(), sources.contentHash(), assumed, docs.documents(), unreadable);
    }

    /**
     * For each Secret that a {@code secretRef} names and {@code set} does not hold, by name (sorted): a
     * stand-in holding exactly the keys the resources read, each with a placeholder value of its own.
     */
    private static Map<String, Map<String, String>> clusterSecretPlaceholders(ResourceSet set) {
        Map<String, Map<String, String>> placeholders = new TreeMap<>();
        BiConsumer<String, List<String>> assume = (name, keys) -> {
            if (ResourceValidator.checkName(name, false) == null && !set.secrets().containsKey(name)) {
                Map<String, String> values = placeholders.computeIfAbsent(name, n -> new TreeMap<>());
                keys.forEach(key -> values.put(key, "cluster-secret-placeholder/" + name + "/" + key));
            }
        };
        for (ProviderDeployment pd : set.deployments()) {
            ProviderDeploymentSpec spec = pd == null ? null : pd.getSpec();
            if (spec != null && spec.credentials != null && spec.credentials.secretRef != null) {
                assume.accept(spec.credentials.secretRef.name, ResourceValidator.credentialKeys(spec));
            }
        }
        for (VirtualKey vk : set.keys()) {
            VirtualKeySpec spec = vk == null ? null : vk.getSpec();
            if (spec != null && spec.secretRef != null) {
                assume.accept(spec.secretRef.name,
                        List.of(spec.secretRef.key != null ? spec.secretRef.key : ResourceValidator.DEFAULT_TOKEN_KEY));
            }
        }
        for (McpServer server : set.mcpServers()) {
            McpServerSpec spec = server == null ? null : server.getSpec();
            if (spec != null && spec.auth != null && spec.auth.secretRef != null) {
                assume.accept(spec.auth.secretRef.name, List.of(ResourceValidator.mcpCredentialKey(spec.auth)));
            }
        }
        return placeholders;
    }

    private static GatewaySettings settings(List<ParsedDocument> docs, List<Problem> problems) {
        if (docs.isEmpty()) {
            return GatewaySettings.defaults();
        }
        if (docs.size() > 1) {
            problems.add(new Problem(SettingsDocument.KIND, docs.stream().map(ParsedDocument::location).toList().toString(), "-",
                    "more than one GatewaySettings document; keep exactly one"));
        }
        return SettingsDocument.parse(docs.get(0).tree(), docs.get(0).location(), problems);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

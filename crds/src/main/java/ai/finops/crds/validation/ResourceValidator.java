package ai.finops.crds.validation;

import ai.finops.crds.Budget;
import ai.finops.crds.BudgetAction;
import ai.finops.crds.BudgetPeriod;
import ai.finops.crds.BudgetSpec;
import ai.finops.crds.McpServer;
import ai.finops.crds.McpServerSpec;
import ai.finops.crds.McpTransport;
import ai.finops.crds.ProviderDeployment;
import ai.finops.crds.ProviderDeploymentSpec;
import ai.finops.crds.ProviderType;
import ai.finops.crds.ResourceSet;
import ai.finops.crds.RoutingRule;
import ai.finops.crds.RoutingRuleSpec;
import ai.finops.crds.SecretKeyRef;
import ai.finops.crds.VirtualKey;
import ai.finops.crds.VirtualKeySpec;
import ai.finops.crds.cel.RuleExpressions;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Validates a {@link ResourceSet}: the same rules for the operator (which writes the result into
 * status conditions) and the gateway (which rejects a whole bundle that has any problem).
 *
 * <p>{@link #validate} returns every problem, never only the first, in a deterministic order: kinds
 * in the order ProviderDeployment, RoutingRule, VirtualKey, Budget, McpServer; resources by name within a kind;
 * problems in field order within a resource. Messages never contain a Secret value.
 *
 * <p>Defaults shared with the gateway are public constants here ({@link #DEFAULT_WEIGHT}, ...).
 */
public final class ResourceValidator {
    public static final String PROVIDER_DEPLOYMENT = "ProviderDeployment";
    public static final String ROUTING_RULE = "RoutingRule";
    public static final String VIRTUAL_KEY = "VirtualKey";
    public static final String BUDGET = "Budget";
    public static final String MCP_SERVER = "McpServer";

    /** Weight of a ProviderDeployment or a RoutingRule target when not given; 0 means drained. */
    public static final int DEFAULT_WEIGHT = 1;
    /** Default {@code spec.retries.attempts}: one attempt, no retry. */
    public static final int DEFAULT_RETRY_ATTEMPTS = 1;
    public static final int MAX_RETRY_ATTEMPTS = 10;
    /** Default {@code spec.retries.cooldown}. */
    public static final String DEFAULT_COOLDOWN = "10s";
    /** Default RoutingRule {@code spec.priority}. */
    public static final int DEFAULT_PRIORITY = 0;
    /** Default Secret key of provider API keys ({@code credentials.secretRef.key}). */
    public static final String DEFAULT_API_KEY_KEY = "apiKey";
    /** Default Secret key of VirtualKey tokens ({@code secretRef.key}). */
    public static final String DEFAULT_TOKEN_KEY = "token";
    /** Default Secret key of an McpServer's {@code auth.secretRef}. */
    public static final String DEFAULT_MCP_TOKEN_KEY = "token";
    /** Default header of an McpServer's {@code auth}. */
    public static final String DEFAULT_MCP_AUTH_HEADER = "Authorization";
    /** Default scheme of an McpServer's {@code auth} ("" sends the value alone). */
    public static final String DEFAULT_MCP_AUTH_SCHEME = "Bearer";
    /** What joins an McpServer's tool prefix and a tool's own name on {@code /mcp}. */
    public static final String MCP_TOOL_SEPARATOR = "__";
    /** Default {@code timeouts.connect} of an McpServer. */
    public static final String DEFAULT_MCP_CONNECT_TIMEOUT = "5s";
    /** Default {@code timeouts.call} of an McpServer. */
    public static final String DEFAULT_MCP_CALL_TIMEOUT = "120s";
    /** Shortest VirtualKey token accepted. */
    public static final int MIN_TOKEN_LENGTH = 16;
    /** Budget periods ({@code Budget.spec.period}, {@code VirtualKey.spec.budget.period}). */
    public static final List<String> BUDGET_PERIODS = BudgetPeriod.ids();
    /** The period of a VirtualKey budget that gives neither period nor duration (a Budget must give one). */
    public static final String DEFAULT_BUDGET_PERIOD = BudgetPeriod.MONTHLY.id();
    /** What a Budget does when it gives no {@code action}; a VirtualKey's own budget always blocks. */
    public static final String DEFAULT_BUDGET_ACTION = BudgetAction.BLOCK.id();
    /** Most entries of {@code Budget.spec.alertAtPercent}. */
    public static final int MAX_ALERTS = 10;
    /** Secret keys read for Bedrock credentials; the session token is optional. */
    public static final List<String> BEDROCK_SECRET_KEYS = List.of("accessKeyId", "secretAccessKey");
    public static final String BEDROCK_SESSION_TOKEN_KEY = "sessionToken";
    /** Secret key read for Vertex credentials (a service account JSON key). */
    public static final String VERTEX_SECRET_KEY = "serviceAccountJson";

    private static final int MAX_LABEL = 63;
    private static final int MAX_SUBDOMAIN = 253;
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern TOOL_PREFIX = Pattern.compile("[A-Za-z0-9]([-._A-Za-z0-9]*[A-Za-z0-9])?");
    private static final Pattern HEADER_TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Set<String> RESERVED_HEADERS = Set.of("host", "content-length", "content-type", "accept", "connection",
            "transfer-encoding", "mcp-session-id", "mcp-protocol-version", "last-event-id");
    private static final Pattern SECRET_KEY = Pattern.compile("[-._a-zA-Z0-9]+");
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern REGION = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");
    private static final Pattern AZURE_RESOURCE = Pattern.compile("[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?");
    private static final Pattern GCP_PROJECT = Pattern.compile("([a-z0-9][-a-z0-9.]*[a-z0-9]:)?[a-z][-a-z0-9]{4,28}[a-z0-9]");
    private static final Pattern BEDROCK_ARN = Pattern.compile("arn:aws[-a-z]*:bedrock:[a-z0-9-]+:[0-9]{12}:[a-z-]+/[A-Za-z0-9._:-]+");
    private static final Set<ProviderType> API_KEY_PROVIDERS = Set.of(ProviderType.ANTHROPIC, ProviderType.OPENAI,
            ProviderType.OPENAI_COMPATIBLE, ProviderType.AZURE, ProviderType.AZURE_OPENAI);

    private ResourceValidator() {}

    /** Every problem of {@code set}; empty when the set is valid. */
    public static List<Problem> validate(ResourceSet set) {
        Context ctx = new Context(set);
        List<Problem> problems = new ArrayList<>();
        for (ProviderDeployment pd : sorted(set.deployments())) {
            validateDeployment(pd, ctx, problems::add);
        }
        for (RoutingRule rr : sorted(set.rules())) {
            validateRule(rr, ctx, problems::add);
        }
        Map<String, String> tokenOwners = new HashMap<>();
        for (VirtualKey vk : sorted(set.keys())) {
            validateKey(vk, ctx, tokenOwners, problems::add);
        }
        for (Budget budget : sorted(set.budgets())) {
            validateBudget(budget, ctx, problems::add);
        }
        Map<String, String> prefixOwners = new HashMap<>();
        for (McpServer server : sorted(set.mcpServers())) {
            validateMcpServer(server, ctx, prefixOwners, problems::add);
        }
        return List.copyOf(problems);
    }

    /** The problems of one resource of {@code set} (for the operator's per-resource status). */
    public static List<Problem> validate(ResourceSet set, HasMetadata resource) {
        String kind = kindOf(resource);
        String name = resource.getMetadata() == null ? null : resource.getMetadata().getName();
        return validate(set).stream()
                .filter(p -> Objects.equals(p.kind(), kind) && Objects.equals(p.name(), name))
                .toList();
    }

    // ---------------------------------------------------------------- helpers the gateway reuses

    /** The effective weight: {@code weight} or {@link #DEFAULT_WEIGHT}. */
    public static int defaultWeight(Integer weight) {
        return weight != null ? weight : DEFAULT_WEIGHT;
    }

    /** Whether a deployment with this spec serves {@code model}: its models list is empty or names it. */
    public static boolean serves(ProviderDeploymentSpec spec, String model) {
        if (spec == null) {
            return false;
        }
        List<ProviderDeploymentSpec.Model> models = spec.models;
        if (models == null || models.isEmpty()) {
            return true;
        }
        return models.stream().anyMatch(m -> m != null && model.equals(m.name));
    }

    /** Parses an RFC 3339 instant such as {@code 2027-01-01T00:00:00Z}; throws with a clear message. */
    public static Instant parseInstant(String value) {
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException | NullPointerException e) {
            throw new IllegalArgumentException(Messages.quote(value)
                    + " is not an RFC 3339 timestamp (expected e.g. 2027-01-01T00:00:00Z)");
        }
    }

    /** Lower-case hex SHA-256 of {@code token} (UTF-8): what a VirtualKey's {@code tokenSha256} holds. */
    public static String sha256Hex(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Checks a Kubernetes DNS-1123 subdomain ({@code label=false}: at most 253 characters, dots
     * allowed) or label ({@code label=true}: at most 63, no dots); returns the problem or null.
     */
    public static String checkName(String name, boolean label) {
        if (name == null || name.isEmpty()) {
            return "is required";
        }
        int max = label ? MAX_LABEL : MAX_SUBDOMAIN;
        if (name.length() > max) {
            return Messages.quote(name) + " is longer than " + max + " characters";
        }
        if (!(label ? DNS_LABEL : DNS_SUBDOMAIN).matcher(name).matches()) {
            return Messages.quote(name) + " is not a valid name: " + (label
                    ? "use lower-case letters, digits and '-', starting and ending with a letter or digit (a DNS-1123 label)"
                    : "use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (a DNS-1123 subdomain)");
        }
        return null;
    }

    /** The valid provider type ids, in declaration order. */
    public static List<String> providerTypeIds() {
        return Arrays.stream(ProviderType.values()).map(ProviderType::id).toList();
    }

    // ---------------------------------------------------------------- ProviderDeployment

    private static void validateDeployment(ProviderDeployment pd, Context ctx, Consumer<Problem> out) {
        Reporter r = new Reporter(PROVIDER_DEPLOYMENT, nameOf(pd), out);
        // Deployment names are used as model reference prefixes: a DNS label (no dots).
        checkMetadata(pd, true, ctx.deploymentNames, r);
        ProviderDeploymentSpec spec = pd.getSpec();
        if (spec == null) {
            r.add("spec", "is required");
            return;
        }
        ProviderType type = null;
        if (spec.provider == null || spec.provider.isEmpty()) {
            r.add("spec.provider", "is required (one of " + providerTypeIds() + ")");
        } else {
            type = ProviderType.fromId(spec.provider).filter(t -> t.id().equals(spec.provider)).orElse(null);
            if (type == null) {
                r.add("spec.provider", "unknown provider " + Messages.quote(spec.provider) + " (one of " + providerTypeIds() + ")");
            }
        }
        if (spec.endpoint != null) {
            String problem = checkEndpoint(spec.endpoint);
            if (problem != null) {
                r.add("spec.endpoint", problem);
            }
        }
        if (type != null) {
            checkProviderBlock(type, spec, r);
        }
        if (spec.weight != null && spec.weight < 0) {
            r.add("spec.weight", "must be >= 0 (0 = drained), got " + spec.weight);
        }
        if (spec.timeouts != null) {
            duration(spec.timeouts.connect, "spec.timeouts.connect", r);
            duration(spec.timeouts.firstByte, "spec.timeouts.firstByte", r);
            duration(spec.timeouts.idle, "spec.timeouts.idle", r);
        }
        if (spec.retries != null) {
            if (spec.retries.attempts != null && (spec.retries.attempts < 1 || spec.retries.attempts > MAX_RETRY_ATTEMPTS)) {
                r.add("spec.retries.attempts", "must be between 1 and " + MAX_RETRY_ATTEMPTS + ", got " + spec.retries.attempts);
            }
            duration(spec.retries.cooldown, "spec.retries.cooldown", r);
        }
        checkModels(spec, type, r);
        checkCredentials(spec, type, ctx, r);
        if (spec.tls != null && spec.tls.caPem != null) {
            String problem = checkCaPem(spec.tls.caPem);
            if (problem != null) {
                r.add("spec.tls.caPem", problem);
            }
        }
    }

    /** Checks an endpoint URL; returns the problem or null. */
    public static String checkEndpoint(String endpoint) {
        if (endpoint.isEmpty()) {
            return "is empty (omit it to use the provider's default endpoint)";
        }
        for (int i = 0; i < endpoint.length(); i++) {
            char c = endpoint.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                return "character " + Messages.describe(c) + " at position " + i + " is not allowed in a URL";
            }
        }
        URI uri;
        try {
            uri = new URI(endpoint);
        } catch (URISyntaxException e) {
            return Messages.quote(endpoint) + " is not a valid URL: " + e.getReason();
        }
        String scheme = uri.getScheme();
        if (!uri.isAbsolute() || scheme == null) {
            return Messages.quote(endpoint) + " is not an absolute URL (expected e.g. https://llm.example.com/v1)";
        }
        if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
            return "scheme " + Messages.quote(scheme) + " is not allowed: use http or https";
        }
        if (uri.getRawUserInfo() != null) {
            return "must not contain user info (user:password@): put credentials in a Secret";
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            return Messages.quote(endpoint) + " has no valid host";
        }
        if (uri.getRawQuery() != null) {
            return "must not have a query string ('?...')";
        }
        if (uri.getRawFragment() != null) {
            return "must not have a fragment ('#...')";
        }
        return null;
    }

    private static void checkProviderBlock(ProviderType type, ProviderDeploymentSpec spec, Reporter r) {
        switch (type) {
            case OPENAI_COMPATIBLE -> {
                if (spec.endpoint == null) {
                    r.add("spec.endpoint", "is required for provider openai-compatible");
                }
            }
            case AZURE, AZURE_OPENAI -> {
                String resource = spec.azure == null ? null : spec.azure.get("resource");
                if (resource != null) {
                    if (resource.length() > MAX_LABEL || !AZURE_RESOURCE.matcher(resource).matches()) {
                        r.add("spec.azure.resource", Messages.quote(resource)
                                + " is not a valid Azure resource name (letters, digits and '-', at most 63)");
                    }
                } else if (spec.endpoint == null) {
                    r.add("spec.endpoint", "is required for provider " + type.id() + " unless spec.azure.resource is set");
                }
            }
            case BEDROCK -> region(spec.bedrock, "spec.bedrock", true, r);
            case VERTEX -> {
                region(spec.vertex, "spec.vertex", true, r);
                String project = spec.vertex == null ? null : spec.vertex.get("projectId");
                if (project == null || project.isEmpty()) {
                    r.add("spec.vertex.projectId", "is required for provider vertex");
                } else if (!GCP_PROJECT.matcher(project).matches()) {
                    r.add("spec.vertex.projectId", Messages.quote(project)
                            + " is not a valid Google Cloud project id (6-30 lower-case letters, digits and '-', starting with a letter)");
                }
            }
            default -> { }
        }
    }

    private static void region(Map<String, String> block, String path, boolean required, Reporter r) {
        String region = block == null ? null : block.get("region");
        if (region == null || region.isEmpty()) {
            if (required) {
                r.add(path + ".region", "is required");
            }
        } else if (region.length() > MAX_LABEL || !REGION.matcher(region).matches()) {
            r.add(path + ".region", Messages.quote(region) + " is not a valid region (lower-case letters, digits and '-', e.g. us-east-1)");
        }
    }

    private static void checkModels(ProviderDeploymentSpec spec, ProviderType type, Reporter r) {
        if (spec.models == null) {
            return;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < spec.models.size(); i++) {
            String path = "spec.models[" + i + "]";
            ProviderDeploymentSpec.Model m = spec.models.get(i);
            if (m == null) {
                r.add(path, "is empty");
                continue;
            }
            if (m.name == null || m.name.isEmpty()) {
                r.add(path + ".name", "is required");
            } else {
                try {
                    ModelRef.checkModel(m.name);
                    if (!seen.add(m.name)) {
                        r.add(path + ".name", "model " + Messages.quote(m.name) + " is listed twice");
                    }
                } catch (IllegalArgumentException e) {
                    r.add(path + ".name", e.getMessage() + (m.name.contains("/") ? " (a deployment's model names take no prefix)" : ""));
                }
            }
            if (m.deployment != null) {
                boolean arn = type == ProviderType.BEDROCK && BEDROCK_ARN.matcher(m.deployment).matches();
                if (!arn) {
                    try {
                        ModelRef.checkModel(m.deployment);
                    } catch (IllegalArgumentException e) {
                        r.add(path + ".deployment", e.getMessage().replace("model name", "provider-side model id")
                                + (type == ProviderType.BEDROCK ? " (or a Bedrock ARN)" : ""));
                    }
                }
            }
            if (m.pricing != null) {
                money(m.pricing.inputPerMTok, path + ".pricing.inputPerMTok", r);
                money(m.pricing.outputPerMTok, path + ".pricing.outputPerMTok", r);
                money(m.pricing.cacheWritePerMTok, path + ".pricing.cacheWritePerMTok", r);
                money(m.pricing.cacheReadPerMTok, path + ".pricing.cacheReadPerMTok", r);
            }
        }
    }

    private static void checkCredentials(ProviderDeploymentSpec spec, ProviderType type, Context ctx, Reporter r) {
        if (spec.credentials == null) {
            return;
        }
        SecretKeyRef ref = spec.credentials.secretRef;
        if (ref == null) {
            r.add("spec.credentials.secretRef", "is required when spec.credentials is given (omit credentials to use the platform identity)");
            return;
        }
        if (!checkSecretRef(ref, "spec.credentials.secretRef", r)) {
            return;
        }
        if (!ctx.set.resolvesProviderSecrets()) {
            return;
        }
        Map<String, String> secret = ctx.set.secrets().get(ref.name);
        if (secret == null) {
            r.unresolved("spec.credentials.secretRef.name", "Secret " + Messages.quote(ref.name) + " not found");
            return;
        }
        if (type == null) {
            return;
        }
        List<String> required;
        String keyField;
        if (API_KEY_PROVIDERS.contains(type)) {
            required = List.of(ref.key != null ? ref.key : DEFAULT_API_KEY_KEY);
            keyField = "spec.credentials.secretRef.key";
        } else if (type == ProviderType.BEDROCK) {
            // SigV4 access keys, or a Bedrock API key (sent as a Bearer token)
            required = secret.containsKey(DEFAULT_API_KEY_KEY) ? List.of(DEFAULT_API_KEY_KEY) : BEDROCK_SECRET_KEYS;
            keyField = "spec.credentials.secretRef";
        } else if (type == ProviderType.VERTEX) {
            required = List.of(ref.key != null ? ref.key : VERTEX_SECRET_KEY);
            keyField = "spec.credentials.secretRef.key";
        } else {
            return;
        }
        for (String key : required) {
            String value = secret.get(key);
            if (value == null) {
                r.unresolved(keyField, "Secret " + Messages.quote(ref.name) + " has no key " + Messages.quote(key)
                        + " (keys: " + new TreeSet<>(secret.keySet()) + ")");
            } else if (value.isBlank()) {
                r.add(keyField, "key " + Messages.quote(key) + " of Secret " + Messages.quote(ref.name) + " is empty");
            }
        }
    }

    /**
     * The keys of {@code spec.credentials.secretRef} a deployment reads, required ones first, then
     * optional ones ({@code sessionToken} for bedrock); empty without credentials or for an unknown
     * provider. The operator copies exactly these into the gateway's credentials Secret.
     */
    public static List<String> credentialKeys(ProviderDeploymentSpec spec) {
        if (spec == null || spec.credentials == null || spec.credentials.secretRef == null) {
            return List.of();
        }
        SecretKeyRef ref = spec.credentials.secretRef;
        ProviderType type = ProviderType.fromId(spec.provider).orElse(null);
        if (type == null) {
            return List.of();
        }
        if (API_KEY_PROVIDERS.contains(type)) {
            return List.of(ref.key != null ? ref.key : DEFAULT_API_KEY_KEY);
        }
        if (type == ProviderType.BEDROCK) {
            List<String> keys = new ArrayList<>(BEDROCK_SECRET_KEYS);
            keys.add(BEDROCK_SESSION_TOKEN_KEY);
            keys.add(DEFAULT_API_KEY_KEY);
            return List.copyOf(keys);
        }
        if (type == ProviderType.VERTEX) {
            return List.of(ref.key != null ? ref.key : VERTEX_SECRET_KEY);
        }
        return List.of();
    }

    /** Checks a CA bundle: one or more PEM X.509 certificates, no private key; returns the problem or null. */
    public static String checkCaPem(String pem) {
        if (pem.contains("PRIVATE KEY")) {
            return "contains a private key: caPem takes certificates only (and a private key never belongs in a spec)";
        }
        if (!pem.contains("-----BEGIN CERTIFICATE-----")) {
            return "contains no PEM certificate (-----BEGIN CERTIFICATE-----)";
        }
        try {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
            if (certs.isEmpty()) {
                return "contains no X.509 certificate";
            }
            return null;
        } catch (CertificateException | RuntimeException e) {
            return "is not a valid PEM X.509 certificate bundle: " + e.getMessage();
        }
    }

    // ---------------------------------------------------------------- RoutingRule

    private static void validateRule(RoutingRule rr, Context ctx, Consumer<Problem> out) {
        Reporter r = new Reporter(ROUTING_RULE, nameOf(rr), out);
        checkMetadata(rr, false, ctx.ruleNames, r);
        RoutingRuleSpec spec = rr.getSpec();
        if (spec == null) {
            r.add("spec", "is required");
            return;
        }
        if (spec.scope != null) {
            references(spec.scope.virtualKeys, "spec.scope.virtualKeys", VIRTUAL_KEY, ctx.keyNames, r);
        }
        if (spec.when != null && !spec.when.isBlank()) {
            RuleExpressions.check(spec.when).ifPresent(error -> r.add("spec.when", error));
        }
        if (spec.targets == null || spec.targets.isEmpty()) {
            r.add("spec.targets", "at least one target is required");
        } else {
            boolean positive = false;
            for (int i = 0; i < spec.targets.size(); i++) {
                String path = "spec.targets[" + i + "]";
                RoutingRuleSpec.Target t = spec.targets.get(i);
                if (t == null) {
                    r.add(path, "is empty");
                    continue;
                }
                if (t.model == null || t.model.isEmpty()) {
                    r.add(path + ".model", "is required");
                } else {
                    checkReference(t.model, path + ".model", ctx, r);
                }
                if (t.weight != null && t.weight < 0) {
                    r.add(path + ".weight", "must be >= 0, got " + t.weight);
                }
                positive |= defaultWeight(t.weight) > 0;
            }
            if (!positive) {
                r.add("spec.targets", "at least one target needs a weight > 0");
            }
        }
        if (spec.fallbacks != null) {
            for (int i = 0; i < spec.fallbacks.size(); i++) {
                String f = spec.fallbacks.get(i);
                String path = "spec.fallbacks[" + i + "]";
                if (f == null || f.isEmpty()) {
                    r.add(path, "is empty");
                } else {
                    checkReference(f, path, ctx, r);
                }
            }
        }
    }

    /** A malformed reference is a problem of the rule; one that names nothing that exists is unresolved. */
    private static void checkReference(String reference, String path, Context ctx, Reporter r) {
        try {
            ModelRef.parse(reference);
        } catch (IllegalArgumentException e) {
            r.add(path, e.getMessage());
            return;
        }
        resolve(reference, ctx).ifPresent(p -> r.unresolved(path, p));
    }

    /**
     * Checks that a model reference resolves against the set's deployments: returns the problem, or
     * empty when some deployment can serve it.
     */
    public static Optional<String> resolve(String reference, ResourceSet set) {
        return resolve(reference, new Context(set));
    }

    private static Optional<String> resolve(String reference, Context ctx) {
        ModelRef ref;
        try {
            ref = ModelRef.parse(reference);
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
        String model = ref.model();
        if (ref.prefix() != null) {
            ProviderDeployment named = ctx.deploymentNames.get(ref.prefix());
            if (named != null) {
                if (serves(named.getSpec(), model)) {
                    return Optional.empty();
                }
                return Optional.of("ProviderDeployment " + Messages.quote(ref.prefix()) + " does not list model "
                        + Messages.quote(model) + " (models: " + modelNames(named.getSpec()) + ")");
            }
            ProviderType type = ProviderType.fromId(ref.prefix()).orElse(null);
            List<ProviderDeployment> ofType = type == null ? List.of() : ctx.byType.getOrDefault(type, List.of());
            if (type != null && ofType.isEmpty()) {
                return Optional.of("no ProviderDeployment named " + Messages.quote(ref.prefix())
                        + " and no deployment of provider type " + type.id() + " (ProviderDeployment names: "
                        + new TreeSet<>(ctx.deploymentNames.keySet()) + "; provider types: " + new TreeSet<>(ctx.typesPresent()) + ")");
            }
            if (ofType.isEmpty()) {
                return Optional.of("unknown provider or deployment " + Messages.quote(ref.prefix())
                        + " (ProviderDeployment names: " + new TreeSet<>(ctx.deploymentNames.keySet())
                        + "; provider types: " + new TreeSet<>(ctx.typesPresent()) + ")");
            }
            if (ofType.stream().noneMatch(d -> serves(d.getSpec(), model))) {
                return Optional.of("no " + type.id() + " ProviderDeployment serves model " + Messages.quote(model)
                        + " (" + type.id() + " deployments: " + ofType.stream().map(ResourceValidator::nameOf).sorted().toList() + ")");
            }
            return Optional.empty();
        }
        boolean listed = ctx.set.deployments().stream().anyMatch(d -> d.getSpec() != null && d.getSpec().models != null
                && d.getSpec().models.stream().anyMatch(m -> m != null && model.equals(m.name)));
        if (listed) {
            return Optional.empty();
        }
        if (model.startsWith("claude-")) {
            List<ProviderDeployment> anthropic = ctx.byType.getOrDefault(ProviderType.ANTHROPIC, List.of());
            if (anthropic.stream().anyMatch(d -> serves(d.getSpec(), model))) {
                return Optional.empty();
            }
            return Optional.of("no ProviderDeployment lists model " + Messages.quote(model)
                    + " and no anthropic deployment can serve it (use prefix/model to pin a deployment or provider type)");
        }
        return Optional.of("no ProviderDeployment lists model " + Messages.quote(model)
                + " (use prefix/model with a deployment name or provider type, or list it in a deployment's spec.models)");
    }

    private static List<String> modelNames(ProviderDeploymentSpec spec) {
        return spec.models.stream().filter(Objects::nonNull).map(m -> m.name).filter(Objects::nonNull).sorted().toList();
    }

    // ---------------------------------------------------------------- VirtualKey

    private static void validateKey(VirtualKey vk, Context ctx, Map<String, String> tokenOwners, Consumer<Problem> out) {
        Reporter r = new Reporter(VIRTUAL_KEY, nameOf(vk), out);
        checkMetadata(vk, false, ctx.keyNames, r);
        VirtualKeySpec spec = vk.getSpec();
        if (spec == null) {
            r.add("spec", "is required");
            return;
        }
        String hash = null;
        if (spec.secretRef != null && spec.tokenSha256 != null) {
            r.add("spec", "give exactly one of secretRef and tokenSha256, not both");
        } else if (spec.secretRef == null && spec.tokenSha256 == null) {
            r.add("spec", "one of secretRef and tokenSha256 is required");
        } else if (spec.tokenSha256 != null) {
            if (!SHA256_HEX.matcher(spec.tokenSha256).matches()) {
                r.add("spec.tokenSha256", "must be 64 lower-case hex digits (the SHA-256 of the token)");
            } else {
                hash = spec.tokenSha256;
            }
        } else if (checkSecretRef(spec.secretRef, "spec.secretRef", r) && ctx.set.resolvesKeySecrets()) {
            Map<String, String> secret = ctx.set.secrets().get(spec.secretRef.name);
            String key = spec.secretRef.key != null ? spec.secretRef.key : DEFAULT_TOKEN_KEY;
            if (secret == null) {
                r.unresolved("spec.secretRef.name", "Secret " + Messages.quote(spec.secretRef.name) + " not found");
            } else if (!secret.containsKey(key)) {
                r.unresolved("spec.secretRef.key", "Secret " + Messages.quote(spec.secretRef.name) + " has no key " + Messages.quote(key)
                        + " (keys: " + new TreeSet<>(secret.keySet()) + ")");
            } else {
                String token = secret.get(key);
                if (token == null || token.length() < MIN_TOKEN_LENGTH) {
                    r.add("spec.secretRef", "the token in Secret " + Messages.quote(spec.secretRef.name) + " key "
                            + Messages.quote(key) + " is shorter than " + MIN_TOKEN_LENGTH + " characters");
                } else if (token.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
                    r.add("spec.secretRef", "the token in Secret " + Messages.quote(spec.secretRef.name) + " key "
                            + Messages.quote(key) + " contains whitespace, control or non-ASCII characters");
                } else {
                    hash = sha256Hex(token);
                }
            }
        }
        if (hash != null && r.name != null) {
            String other = tokenOwners.putIfAbsent(hash, r.name);
            if (other != null && !other.equals(r.name)) {
                r.add(spec.tokenSha256 != null ? "spec.tokenSha256" : "spec.secretRef",
                        "the same token as VirtualKey " + Messages.quote(other) + ": every key needs its own token");
            }
        }
        if (spec.allow != null) {
            if (spec.allow.providers != null) {
                for (int i = 0; i < spec.allow.providers.size(); i++) {
                    String p = spec.allow.providers.get(i);
                    if (p == null || p.isEmpty()) {
                        r.add("spec.allow.providers[" + i + "]", "is empty");
                    } else if (!ctx.deploymentNames.containsKey(p) && ProviderType.fromId(p).filter(t -> t.id().equals(p)).isEmpty()) {
                        r.add("spec.allow.providers[" + i + "]", "unknown provider or deployment " + Messages.quote(p)
                                + " (ProviderDeployment names: " + new TreeSet<>(ctx.deploymentNames.keySet())
                                + "; provider types: " + providerTypeIds() + ")");
                    }
                }
            }
            if (spec.allow.models != null) {
                for (int i = 0; i < spec.allow.models.size(); i++) {
                    String m = spec.allow.models.get(i);
                    if (m == null || m.isBlank()) {
                        r.add("spec.allow.models[" + i + "]", "is empty (use \"*\" to allow every model, or omit the list)");
                    }
                }
            }
            references(spec.allow.mcpServers, "spec.allow.mcpServers", MCP_SERVER, ctx.mcpNames, r);
            globs(spec.allow.mcpTools, "spec.allow.mcpTools", "use \"*\" to allow every tool, or omit the list", r);
        }
        if (spec.budget != null) {
            if (spec.budget.limitUsd == null) {
                r.add("spec.budget.limitUsd", "is required when spec.budget is given");
            } else {
                limit(spec.budget.limitUsd, "spec.budget.limitUsd", r);
            }
            if (spec.budget.period != null && spec.budget.duration != null) {
                r.add("spec.budget", "give period or duration, not both");
            }
            window(spec.budget.period, spec.budget.duration, spec.budget.timeZone, "spec.budget.", r);
        }
        if (spec.rateLimits != null) {
            positive(spec.rateLimits.requestsPerMinute, "spec.rateLimits.requestsPerMinute", r);
            positive(spec.rateLimits.tokensPerMinute, "spec.rateLimits.tokensPerMinute", r);
            positive(spec.rateLimits.maxConcurrentRequests, "spec.rateLimits.maxConcurrentRequests", r);
        }
        if (spec.expiresAt != null) {
            try {
                parseInstant(spec.expiresAt);
            } catch (IllegalArgumentException e) {
                r.add("spec.expiresAt", e.getMessage());
            }
        }
    }

    // ---------------------------------------------------------------- Budget

    private static void validateBudget(Budget budget, Context ctx, Consumer<Problem> out) {
        Reporter r = new Reporter(BUDGET, nameOf(budget), out);
        checkMetadata(budget, false, ctx.budgetNames, r);
        BudgetSpec spec = budget.getSpec();
        if (spec == null) {
            r.add("spec", "is required");
            return;
        }
        if (spec.scope != null) {
            List<String> teams = spec.scope.teams == null ? List.of() : spec.scope.teams;
            for (int i = 0; i < teams.size(); i++) {
                if (teams.get(i) == null || teams.get(i).isEmpty()) {
                    r.add("spec.scope.teams[" + i + "]", "is empty");
                }
            }
            references(spec.scope.virtualKeys, "spec.scope.virtualKeys", VIRTUAL_KEY, ctx.keyNames, r);
            List<String> models = spec.scope.models == null ? List.of() : spec.scope.models;
            for (int i = 0; i < models.size(); i++) {
                if (models.get(i) == null || models.get(i).isBlank()) {
                    r.add("spec.scope.models[" + i + "]", "is empty (omit the list to count every model)");
                }
            }
        }
        if (spec.limitUsd == null) {
            r.add("spec.limitUsd", "is required");
        } else {
            limit(spec.limitUsd, "spec.limitUsd", r);
        }
        if (spec.period != null && spec.duration != null) {
            r.add("spec", "give exactly one of period and duration, not both");
        } else if (spec.period == null && spec.duration == null) {
            r.add("spec", "one of period (" + String.join(", ", BUDGET_PERIODS) + ") and duration (a rolling window such as 7d) is required");
        }
        window(spec.period, spec.duration, spec.timeZone, "spec.", r);
        if (spec.action != null && BudgetAction.fromId(spec.action).isEmpty()) {
            r.add("spec.action", "unknown action " + Messages.quote(spec.action) + " (one of " + BudgetAction.ids() + ")");
        }
        checkAlerts(spec.alertAtPercent, r);
    }

    /** Each 1 to 100, strictly ascending (so each once), at most {@link #MAX_ALERTS}. */
    private static void checkAlerts(List<Integer> alerts, Reporter r) {
        if (alerts == null || alerts.isEmpty()) {
            return;
        }
        if (alerts.size() > MAX_ALERTS) {
            r.add("spec.alertAtPercent", "has " + alerts.size() + " entries; at most " + MAX_ALERTS);
        }
        boolean inRange = true;
        for (int i = 0; i < alerts.size(); i++) {
            Integer p = alerts.get(i);
            if (p == null) {
                r.add("spec.alertAtPercent[" + i + "]", "is empty");
                inRange = false;
            } else if (p < 1 || p > 100) {
                r.add("spec.alertAtPercent[" + i + "]", "must be between 1 and 100, got " + p);
                inRange = false;
            }
        }
        if (!inRange) {
            return;
        }
        for (int i = 1; i < alerts.size(); i++) {
            if (alerts.get(i) <= alerts.get(i - 1)) {
                r.add("spec.alertAtPercent", "must be in ascending order with each value once, got " + alerts
                        + (alerts.get(i).equals(alerts.get(i - 1)) ? " (" + alerts.get(i) + " twice)" : ""));
                return;
            }
        }
    }

    /**
     * The period or rolling window of a budget and its time zone, under {@code prefix} ({@code spec.} or
     * {@code spec.budget.}). Whether one of period and duration is required is the caller's check.
     */
    private static void window(String period, String duration, String timeZone, String prefix, Reporter r) {
        BudgetPeriod calendar = null;
        if (period != null) {
            calendar = BudgetPeriod.fromId(period).orElse(null);
            if (calendar == null) {
                r.add(prefix + "period", "unknown period " + Messages.quote(period) + " (one of " + BUDGET_PERIODS + ")");
            }
        }
        if (duration != null) {
            try {
                Durations.parseRolling(duration);
            } catch (IllegalArgumentException e) {
                r.add(prefix + "duration", e.getMessage());
            }
        }
        if (timeZone != null) {
            try {
                TimeZones.parse(timeZone);
                if (duration != null && period == null) {
                    r.add(prefix + "timeZone", "a rolling duration has no calendar boundaries: timeZone goes only with period "
                            + "Daily, Weekly, Monthly or Quarterly");
                } else if (calendar != null && !calendar.calendar()) {
                    r.add(prefix + "timeZone", "period Total never resets: timeZone goes only with period Daily, Weekly, Monthly or Quarterly");
                }
            } catch (IllegalArgumentException e) {
                r.add(prefix + "timeZone", e.getMessage());
            }
        }
    }

    /** A budget limit: money that fits in micro-dollars. */
    private static void limit(String value, String path, Reporter r) {
        try {
            Money.toMicros(value);
        } catch (IllegalArgumentException e) {
            r.add(path, e.getMessage());
        }
    }

    private static void positive(Integer value, String path, Reporter r) {
        if (value != null && value <= 0) {
            r.add(path, "must be > 0, got " + value);
        }
    }

    // ---------------------------------------------------------------- McpServer

    private static void validateMcpServer(McpServer server, Context ctx, Map<String, String> prefixOwners, Consumer<Problem> out) {
        Reporter r = new Reporter(MCP_SERVER, nameOf(server), out);
        checkMetadata(server, false, ctx.mcpNames, r);
        McpServerSpec spec = server.getSpec();
        if (spec == null) {
            r.add("spec", "is required");
            return;
        }
        if (spec.url == null || spec.url.isEmpty()) {
            r.add("spec.url", "is required (the server's MCP endpoint, such as https://mcp.example.com/mcp)");
        } else {
            String problem = checkEndpoint(spec.url);
            if (problem != null) {
                r.add("spec.url", problem.replace("omit it to use the provider's default endpoint", "the server's MCP endpoint"));
            }
        }
        if (spec.transport != null && McpTransport.fromId(spec.transport).isEmpty()) {
            r.add("spec.transport", "unknown transport " + Messages.quote(spec.transport) + " (one of " + McpTransport.ids() + ")");
        }
        String prefix = toolPrefix(server);
        if (spec.toolPrefix != null && !spec.toolPrefix.isEmpty() && (spec.toolPrefix.length() > MAX_LABEL
                || !TOOL_PREFIX.matcher(spec.toolPrefix).matches() || spec.toolPrefix.contains(MCP_TOOL_SEPARATOR))) {
            r.add("spec.toolPrefix", Messages.quote(spec.toolPrefix) + " is not a valid tool prefix: at most " + MAX_LABEL
                    + " letters, digits, '-', '.' and '_', starting and ending with a letter or digit, without \"__\"; or \"\" for none");
        } else if (prefix != null && r.name != null) {
            String other = prefixOwners.putIfAbsent(prefix, r.name);
            if (other != null) {
                r.add(spec.toolPrefix != null ? "spec.toolPrefix" : "metadata.name", prefix.isEmpty()
                        ? "McpServer " + Messages.quote(other) + " already lists its tools without a prefix: only one server may"
                        : "tool prefix " + Messages.quote(prefix) + " is already McpServer " + Messages.quote(other)
                                + "'s: each server's tools need a prefix of their own");
            }
        }
        if (spec.auth != null) {
            checkMcpAuth(spec.auth, ctx, r);
        }
        if (spec.tools != null) {
            globs(spec.tools.allow, "spec.tools.allow", "use \"*\" to allow every tool, or omit the list", r);
            globs(spec.tools.deny, "spec.tools.deny", "omit it to deny nothing", r);
        }
        if (spec.timeouts != null) {
            duration(spec.timeouts.connect, "spec.timeouts.connect", r);
            duration(spec.timeouts.call, "spec.timeouts.call", r);
        }
        if (spec.pricing != null && spec.pricing.perCallUsd != null) {
            limit(spec.pricing.perCallUsd, "spec.pricing.perCallUsd", r);
        }
    }

    private static void checkMcpAuth(McpServerSpec.Auth auth, Context ctx, Reporter r) {
        if (auth.header != null) {
            if (!HEADER_TOKEN.matcher(auth.header).matches()) {
                r.add("spec.auth.header", Messages.quote(auth.header) + " is not a valid header name");
            } else if (RESERVED_HEADERS.contains(auth.header.toLowerCase(java.util.Locale.ROOT))) {
                r.add("spec.auth.header", "header " + Messages.quote(auth.header) + " is the protocol's own: name another");
            }
        }
        if (auth.scheme != null && !auth.scheme.isEmpty() && !HEADER_TOKEN.matcher(auth.scheme).matches()) {
            r.add("spec.auth.scheme", Messages.quote(auth.scheme) + " is not a valid scheme (a single word such as Bearer, or \"\")");
        }
        SecretKeyRef ref = auth.secretRef;
        if (ref == null) {
            r.add("spec.auth.secretRef", "is required when spec.auth is given");
            return;
        }
        if (!checkSecretRef(ref, "spec.auth.secretRef", r) || !ctx.set.resolvesProviderSecrets()) {
            return;
        }
        Map<String, String> secret = ctx.set.secrets().get(ref.name);
        String key = mcpCredentialKey(auth);
        if (secret == null) {
            r.unresolved("spec.auth.secretRef.name", "Secret " + Messages.quote(ref.name) + " not found");
        } else if (secret.get(key) == null) {
            r.unresolved("spec.auth.secretRef.key", "Secret " + Messages.quote(ref.name) + " has no key " + Messages.quote(key)
                    + " (keys: " + new TreeSet<>(secret.keySet()) + ")");
        } else if (secret.get(key).isBlank()) {
            r.add("spec.auth.secretRef.key", "key " + Messages.quote(key) + " of Secret " + Messages.quote(ref.name) + " is empty");
        } else if (secret.get(key).chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            r.add("spec.auth.secretRef.key", "key " + Messages.quote(key) + " of Secret " + Messages.quote(ref.name)
                    + " holds control characters: it cannot be sent in a header");
        }
    }

    /** The Secret key an McpServer's {@code auth} reads: {@code secretRef.key}, or {@value #DEFAULT_MCP_TOKEN_KEY}. */
    public static String mcpCredentialKey(McpServerSpec.Auth auth) {
        return auth.secretRef.key != null ? auth.secretRef.key : DEFAULT_MCP_TOKEN_KEY;
    }

    /** An McpServer's tool prefix: {@code spec.toolPrefix} ("" = its tools keep their own names), or its name. */
    public static String toolPrefix(McpServer server) {
        return server.getSpec() != null && server.getSpec().toolPrefix != null ? server.getSpec().toolPrefix : nameOf(server);
    }

    /** Names of resources of {@code kind} that must exist: an empty one is a problem, a missing one unresolved. */
    private static void references(List<String> names, String path, String kind, Map<String, ?> known, Reporter r) {
        if (names == null) {
            return;
        }
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            if (name == null || name.isEmpty()) {
                r.add(path + "[" + i + "]", "is empty");
            } else if (!known.containsKey(name)) {
                r.unresolved(path + "[" + i + "]", kind + " " + Messages.quote(name) + " not found (" + kind + "s: "
                        + new TreeSet<>(known.keySet()) + ")");
            }
        }
    }

    private static void globs(List<String> patterns, String path, String hint, Reporter r) {
        if (patterns != null) {
            for (int i = 0; i < patterns.size(); i++) {
                if (patterns.get(i) == null || patterns.get(i).isBlank()) {
                    r.add(path + "[" + i + "]", "is empty (" + hint + ")");
                }
            }
        }
    }

    // ---------------------------------------------------------------- shared checks

    private static void checkMetadata(HasMetadata resource, boolean label, Map<String, ?> byName, Reporter r) {
        String name = nameOf(resource);
        String problem = checkName(name, label);
        if (problem != null) {
            r.add("metadata.name", problem + (label && name != null && name.contains(".")
                    ? " (ProviderDeployment names are model reference prefixes: no dots)" : ""));
        } else if (byName.get(name) != resource) {
            r.add("metadata.name", "another " + r.kind + " has the same name");
        }
    }

    private static boolean checkSecretRef(SecretKeyRef ref, String path, Reporter r) {
        boolean ok = true;
        String problem = checkName(ref.name, false);
        if (problem != null) {
            r.add(path + ".name", problem);
            ok = false;
        }
        if (ref.key != null && (ref.key.isEmpty() || ref.key.length() > MAX_SUBDOMAIN || !SECRET_KEY.matcher(ref.key).matches())) {
            r.add(path + ".key", Messages.quote(ref.key) + " is not a valid Secret key (letters, digits, '-', '_', '.')");
            ok = false;
        }
        return ok;
    }

    private static void duration(String value, String path, Reporter r) {
        if (value != null) {
            try {
                Durations.parse(value);
            } catch (IllegalArgumentException e) {
                r.add(path, e.getMessage());
            }
        }
    }

    private static void money(String value, String path, Reporter r) {
        if (value != null) {
            try {
                Money.parseUsd(value);
            } catch (IllegalArgumentException e) {
                r.add(path, e.getMessage());
            }
        }
    }

    private static String nameOf(HasMetadata resource) {
        return resource == null || resource.getMetadata() == null ? null : resource.getMetadata().getName();
    }

    private static String kindOf(HasMetadata resource) {
        if (resource instanceof ProviderDeployment) {
            return PROVIDER_DEPLOYMENT;
        }
        if (resource instanceof RoutingRule) {
            return ROUTING_RULE;
        }
        if (resource instanceof VirtualKey) {
            return VIRTUAL_KEY;
        }
        if (resource instanceof Budget) {
            return BUDGET;
        }
        if (resource instanceof McpServer) {
            return MCP_SERVER;
        }
        return resource.getKind();
    }

    private static <T extends HasMetadata> List<T> sorted(List<T> resources) {
        List<T> copy = new ArrayList<>(resources);
        copy.removeIf(Objects::isNull);
        copy.sort(Comparator.comparing(ResourceValidator::nameOf, Comparator.nullsFirst(Comparator.naturalOrder())));
        return copy;
    }

    /** Indexes built once per validation. The first resource of a name (in input order) owns it. */
    private static final class Context {
        final ResourceSet set;
        final Map<String, ProviderDeployment> deploymentNames = new LinkedHashMap<>();
        final Map<String, RoutingRule> ruleNames = new LinkedHashMap<>();
        final Map<String, VirtualKey> keyNames = new LinkedHashMap<>();
        final Map<String, Budget> budgetNames = new LinkedHashMap<>();
        final Map<String, McpServer> mcpNames = new LinkedHashMap<>();
        final Map<ProviderType, List<ProviderDeployment>> byType = new LinkedHashMap<>();

        Context(ResourceSet set) {
            this.set = set;
            for (ProviderDeployment pd : set.deployments()) {
                if (pd != null && nameOf(pd) != null) {
                    deploymentNames.putIfAbsent(nameOf(pd), pd);
                }
                if (pd != null && pd.getSpec() != null && pd.getSpec().provider != null) {
                    ProviderType.fromId(pd.getSpec().provider).filter(t -> t.id().equals(pd.getSpec().provider))
                            .ifPresent(t -> byType.computeIfAbsent(t, k -> new ArrayList<>()).add(pd));
                }
            }
            for (RoutingRule rr : set.rules()) {
                if (rr != null && nameOf(rr) != null) {
                    ruleNames.putIfAbsent(nameOf(rr), rr);
                }
            }
            for (VirtualKey vk : set.keys()) {
                if (vk != null && nameOf(vk) != null) {
                    keyNames.putIfAbsent(nameOf(vk), vk);
                }
            }
            for (Budget budget : set.budgets()) {
                if (budget != null && nameOf(budget) != null) {
                    budgetNames.putIfAbsent(nameOf(budget), budget);
                }
            }
            for (McpServer server : set.mcpServers()) {
                if (server != null && nameOf(server) != null) {
                    mcpNames.putIfAbsent(nameOf(server), server);
                }
            }
        }

        Set<String> typesPresent() {
            Set<String> ids = new TreeSet<>();
            byType.keySet().forEach(t -> ids.add(t.id()));
            return ids;
        }
    }

    private static final class Reporter {
        final String kind;
        final String name;
        final Consumer<Problem> out;

        Reporter(String kind, String name, Consumer<Problem> out) {
            this.kind = kind;
            this.name = name;
            this.out = out;
        }

        void add(String field, String message) {
            out.accept(new Problem(kind, name, field, message));
        }

        /** The resource names something that does not exist. */
        void unresolved(String field, String message) {
            out.accept(new Problem(kind, name, field, message, true));
        }
    }
}

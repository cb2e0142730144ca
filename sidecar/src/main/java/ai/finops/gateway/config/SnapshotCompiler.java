package ai.finops.gateway.config;

import ai.finops.gateway.auth.CompiledBudget;
import ai.finops.crds.Budget;
import ai.finops.crds.BudgetAction;
import ai.finops.crds.BudgetPeriod;
import ai.finops.crds.BudgetSpec;
import ai.finops.crds.ProviderDeployment;
import ai.finops.crds.ProviderDeploymentSpec;
import ai.finops.crds.ProviderType;
import ai.finops.crds.ResourceSet;
import ai.finops.crds.RoutingRule;
import ai.finops.crds.RoutingRuleSpec;
import ai.finops.crds.VirtualKey;
import ai.finops.crds.VirtualKeySpec;
import ai.finops.crds.cel.RuleExpressions;
import ai.finops.crds.validation.Durations;
import ai.finops.crds.validation.ModelRef;
import ai.finops.crds.validation.Money;
import ai.finops.crds.validation.ResourceValidator;
import ai.finops.crds.validation.TimeZones;
import ai.finops.gateway.auth.Authenticator;
import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.mcp.McpUpstream;
import ai.finops.gateway.observability.PriceCatalogue;
import ai.finops.gateway.provider.ProviderAdapter;
import ai.finops.gateway.provider.ModelCatalogue;
import ai.finops.gateway.provider.Providers;
import ai.finops.gateway.observability.Pricing;
import ai.finops.gateway.routing.CompiledRule;
import ai.finops.gateway.routing.Deployment;
import ai.finops.gateway.routing.ModelEntry;
import ai.finops.gateway.routing.RoutingTable;
import ai.finops.gateway.upstream.TlsContexts;
import ai.finops.gateway.upstream.UpstreamEndpoint;
import java.math.BigDecimal;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Compiles a validated {@link ResourceSet} into a {@link Snapshot}: CEL programs compiled, keys
 * hashed, deployments indexed, endpoints, credentials and prices resolved, budgets and rate limits
 * compiled (money in micro-dollars, windows and time zones parsed), McpServers with their credentials.
 * Runs off the event loops.
 */
public final class SnapshotCompiler {
    static final Duration DEFAULT_COOLDOWN = Duration.ofSeconds(10);
    static final String DEFAULT_TOKEN_KEY = "token";

    /** Provider types this version has an adapter for. */
    static final Set<ProviderType> SUPPORTED = Set.of(ProviderType.values());

    private final TlsContexts tls;

    public SnapshotCompiler(TlsContexts tls) {
        this.tls = tls;
    }

    public Snapshot compile(ResourceSet set, GatewaySettings settings, long generation, Instant now) {
        Map<String, KeyEntry> keys = new HashMap<>();
        for (VirtualKey vk : set.keys()) {
            KeyEntry entry = key(vk, set.secrets());
            keys.put(HexFormat.of().formatHex(entry.tokenSha256()), entry);
        }
        Map<String, Deployment> deployments = new TreeMap<>();
        for (ProviderDeployment pd : set.deployments()) {
            deployments.put(pd.getMetadata().getName(), deployment(pd, set.secrets(), settings));
        }
        Map<ProviderType, List<Deployment>> byType = new EnumMap<>(ProviderType.class);
        for (Deployment d : deployments.values()) {
            byType.computeIfAbsent(d.type(), t -> new ArrayList<>()).add(d);
        }
        byType.replaceAll((t, list) -> List.copyOf(list));
        List<CompiledRule> rules = set.rules().stream()
                .map(SnapshotCompiler::rule)
                .sorted(Comparator.comparingInt(CompiledRule::priority).thenComparing(CompiledRule::name))
                .toList();
        RoutingTable routing = new RoutingTable(rules, Map.copyOf(deployments), Map.copyOf(byType));
        List<CompiledBudget> budgets = set.budgets().stream().map(SnapshotCompiler::budget)
                .sorted(Comparator.comparing(CompiledBudget::name)).toList();
        List<McpUpstream> mcpServers = set.mcpServers().stream().map(server -> McpUpstream.of(server, set.secrets()))
                .sorted(Comparator.comparing(McpUpstream::name)).toList();
        return new Snapshot(generation, now, settings, Map.copyOf(keys), routing, budgets, mcpServers);
    }

    /** A Budget resource. */
    static CompiledBudget budget(Budget budget) {
        BudgetSpec spec = budget.getSpec();
        BudgetSpec.Scope scope = spec.scope != null ? spec.scope : new BudgetSpec.Scope();
        return new CompiledBudget(CompiledBudget.Kind.BUDGET, budget.getMetadata().getName(), nonNull(scope.teams),
                nonNull(scope.virtualKeys), nonNull(scope.models), Money.toMicros(spec.limitUsd),
                spec.period == null ? null : BudgetPeriod.fromId(spec.period).orElseThrow(),
                spec.duration == null ? null : Durations.parseRolling(spec.duration),
                spec.timeZone == null ? TimeZones.DEFAULT : TimeZones.parse(spec.timeZone),
                BudgetAction.fromId(spec.action != null ? spec.action : ResourceValidator.DEFAULT_BUDGET_ACTION).orElseThrow(),
                nonNull(spec.alertAtPercent));
    }

    /** A VirtualKey's own budget: over the key alone, Monthly unless it gives a period or a duration, always blocking. */
    static CompiledBudget budget(String keyName, VirtualKeySpec.Budget budget) {
        if (budget == null) {
            return null;
        }
        String period = budget.period == null && budget.duration == null ? ResourceValidator.DEFAULT_BUDGET_PERIOD : budget.period;
        return new CompiledBudget(CompiledBudget.Kind.VIRTUAL_KEY, keyName, List.of(), List.of(keyName), List.of(),
                Money.toMicros(budget.limitUsd),
                period == null ? null : BudgetPeriod.fromId(period).orElseThrow(),
                budget.duration == null ? null : Durations.parseRolling(budget.duration),
                budget.timeZone == null ? TimeZones.DEFAULT : TimeZones.parse(budget.timeZone),
                BudgetAction.BLOCK, List.of());
    }

    static KeyEntry.RateLimits rateLimits(VirtualKeySpec.RateLimits limits) {
        if (limits == null) {
            return KeyEntry.RateLimits.NONE;
        }
        return new KeyEntry.RateLimits(orZero(limits.requestsPerMinute), orZero(limits.tokensPerMinute), orZero(limits.maxConcurrentRequests));
    }

    private static int orZero(Integer value) {
        return value == null ? 0 : value;
    }

    private static KeyEntry key(VirtualKey vk, Map<String, Map<String, String>> secrets) {
        VirtualKeySpec spec = vk.getSpec();
        byte[] hash;
        if (spec.tokenSha256 != null) {
            hash = HexFormat.of().parseHex(spec.tokenSha256);
        } else {
            String secretKey = spec.secretRef.key != null ? spec.secretRef.key : DEFAULT_TOKEN_KEY;
            String token = secrets.getOrDefault(spec.secretRef.name, Map.of()).get(secretKey);
            hash = Authenticator.sha256(Objects.requireNonNull(token, "validated: token present"));
        }
        VirtualKeySpec.Allow allow = spec.allow != null ? spec.allow : new VirtualKeySpec.Allow();
        String name = vk.getMetadata().getName();
        return new KeyEntry(name, spec.owner, spec.team, hash, Boolean.TRUE.equals(spec.disabled),
                spec.expiresAt == null ? null : Instant.parse(spec.expiresAt),
                List.copyOf(nonNull(allow.providers)), List.copyOf(nonNull(allow.models)),
                budget(name, spec.budget), rateLimits(spec.rateLimits), nonNull(allow.mcpServers), nonNull(allow.mcpTools));
    }

    private Deployment deployment(ProviderDeployment pd, Map<String, Map<String, String>> secrets, GatewaySettings settings) {
        ProviderDeploymentSpec spec = pd.getSpec();
        ProviderType type = ProviderType.fromId(spec.provider).orElseThrow();
        if (!SUPPORTED.contains(type)) {
            throw new IllegalArgumentException("ProviderDeployment/" + pd.getMetadata().getName() + ": spec.provider: '" + type.id()
                    + "' is valid but this gateway version serves only " + SUPPORTED.stream().map(ProviderType::id).toList());
        }
        String endpoint = spec.endpoint != null ? spec.endpoint : Providers.defaultEndpoint(type, spec);
        URI uri = URI.create(endpoint);
        UpstreamEndpoint upstream = UpstreamEndpoint.of(uri,
                "https".equalsIgnoreCase(uri.getScheme()) ? tls.forCa(spec.tls == null ? null : spec.tls.caPem) : null);
        Map<String, String> secret = spec.credentials != null && spec.credentials.secretRef != null
                ? secrets.getOrDefault(spec.credentials.secretRef.name, Map.of()) : null;
        ProviderAdapter adapter = Providers.adapter(type, spec, upstream, secret);
        Map<String, ModelEntry> models = new LinkedHashMap<>();
        String region = type == ProviderType.BEDROCK ? spec.bedrock.get("region") : type == ProviderType.VERTEX ? spec.vertex.get("region") : null;
        java.util.function.UnaryOperator<String> providerIds = name -> ModelCatalogue.providerId(type, name, region);
        for (ProviderDeploymentSpec.Model m : nonNull(spec.models)) {
            String providerId = m.deployment != null ? m.deployment : providerIds.apply(m.name);
            Pricing catalogue = PriceCatalogue.lookup(ModelCatalogue.canonical(providerId));
            if (catalogue == null) {
                catalogue = PriceCatalogue.lookup(ModelCatalogue.canonical(m.name));
            }
            models.put(m.name, new ModelEntry(m.name, providerId, pricing(m.pricing, catalogue)));
        }
        ProviderDeploymentSpec.Timeouts t = spec.timeouts != null ? spec.timeouts : new ProviderDeploymentSpec.Timeouts();
        ProviderDeploymentSpec.Retries r = spec.retries != null ? spec.retries : new ProviderDeploymentSpec.Retries();
        return new Deployment(pd.getMetadata().getName(), type, upstream, adapter, Map.copyOf(models),
                spec.weight != null ? spec.weight : 1,
                duration(t.connect, settings.connectTimeout()),
                duration(t.firstByte, settings.firstByteTimeout()),
                duration(t.idle, settings.idleTimeout()),
                r.attempts != null ? r.attempts : 1,
                duration(r.cooldown, DEFAULT_COOLDOWN),
                providerIds);
    }

    /** A model's price: the deployment's override where given, the catalogue for the rest. */
    private static Pricing pricing(ProviderDeploymentSpec.Pricing p, Pricing catalogue) {
        if (p == null) {
            return catalogue;
        }
        BigDecimal in = money(p.inputPerMTok, catalogue == null ? null : catalogue.inputPerMTok());
        BigDecimal out = money(p.outputPerMTok, catalogue == null ? null : catalogue.outputPerMTok());
        if (in == null || out == null) {
            return catalogue;
        }
        BigDecimal write = money(p.cacheWritePerMTok, in.multiply(new BigDecimal("1.25")));
        BigDecimal read = money(p.cacheReadPerMTok, in.multiply(new BigDecimal("0.1")));
        return new Pricing(in, out, write, read);
    }

    private static CompiledRule rule(RoutingRule rr) {
        RoutingRuleSpec spec = rr.getSpec();
        RuleExpressions.Compiled when = spec.when == null || spec.when.isBlank() ? null : RuleExpressions.compile(spec.when);
        List<CompiledRule.WeightedRef> targets = nonNull(spec.targets).stream()
                .map(t -> new CompiledRule.WeightedRef(ModelRef.parse(t.model), t.weight != null ? t.weight : 1))
                .toList();
        List<ModelRef> fallbacks = nonNull(spec.fallbacks).stream().map(ModelRef::parse).toList();
        Set<String> scope = spec.scope == null ? Set.of() : Set.copyOf(nonNull(spec.scope.virtualKeys));
        return new CompiledRule(rr.getMetadata().getName(), spec.priority != null ? spec.priority : 0, scope, when, targets, fallbacks);
    }

    private static Duration duration(String value, Duration fallback) {
        return value == null ? fallback : Durations.parse(value);
    }

    private static BigDecimal money(String value, BigDecimal fallback) {
        return value == null ? fallback : Money.parseUsd(value);
    }

    private static <T> List<T> nonNull(List<T> list) {
        return list == null ? List.of() : list;
    }
}

package ai.finops.gateway.routing;

import ai.finops.crds.ProviderType;
import ai.finops.crds.validation.ModelRef;
import ai.finops.gateway.auth.KeyEntry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns a requested model into an ordered list of attempts (docs/design.md §2): RoutingRules in scope, by
 * priority, first match wins; else the model reference itself ({@code deployment/model}, {@code
 * provider/model}, or a bare model that a deployment lists, or a Claude model for the anthropic
 * deployments). Among weighted candidates the order is per session by rendezvous hashing, and a
 * deployment cooling down after 429/529/5xx moves behind the others. The VirtualKey's allow-lists
 * filter the result. Pure: the same code answers real requests and the dry-run endpoint.
 */
public final class Resolver {
    private final Cooldowns cooldowns;

    public Resolver(Cooldowns cooldowns) {
        this.cooldowns = cooldowns;
    }

    public Resolution resolve(RoutingTable table, RouteRequest request) {
        List<String> steps = new ArrayList<>();
        KeyEntry key = request.key();
        CompiledRule matched = null;
        Map<String, Object> variables = null;
        for (CompiledRule rule : table.rules()) {
            if (!rule.scope().isEmpty() && !rule.scope().contains(key.name())) {
                steps.add("rule " + rule.name() + ": not in scope of virtual key '" + key.name() + "'");
                continue;
            }
            if (rule.when() != null) {
                if (variables == null) {
                    variables = variables(request);
                }
                if (!rule.when().test(variables)) {
                    steps.add("rule " + rule.name() + ": when is false: " + rule.when().source());
                    continue;
                }
            }
            steps.add("rule " + rule.name() + ": matched (priority " + rule.priority() + ")");
            matched = rule;
            break;
        }

        List<Attempt> attempts = new ArrayList<>();
        if (matched != null) {
            List<Candidate> candidates = new ArrayList<>();
            for (CompiledRule.WeightedRef target : matched.targets()) {
                List<Deployment> serving = expand(table, target.ref(), steps);
                int total = serving.stream().mapToInt(Deployment::weight).sum();
                for (Deployment d : serving) {
                    double weight = total == 0 ? 0 : target.weight() * (double) d.weight() / total;
                    candidates.add(new Candidate(d, target.ref(), weight));
                }
            }
            order(candidates, request.sessionKey(), attempts, false);
            for (ModelRef fallback : matched.fallbacks()) {
                List<Candidate> fallbackCandidates = new ArrayList<>();
                for (Deployment d : expand(table, fallback, steps)) {
                    fallbackCandidates.add(new Candidate(d, fallback, d.weight()));
                }
                order(fallbackCandidates, request.sessionKey(), attempts, true);
            }
        } else {
            ModelRef ref;
            try {
                ref = ModelRef.parse(request.model());
            } catch (IllegalArgumentException e) {
                steps.add("model '" + request.model() + "' is not a valid model reference");
                return Resolution.error(null, steps, 400, "invalid_request_error", "invalid model: " + e.getMessage());
            }
            List<Candidate> candidates = new ArrayList<>();
            for (Deployment d : expand(table, ref, steps)) {
                candidates.add(new Candidate(d, ref, d.weight()));
            }
            order(candidates, request.sessionKey(), attempts, false);
            if (attempts.isEmpty()) {
                return Resolution.error(null, steps, 404, "not_found_error", notFound(ref));
            }
        }

        int before = attempts.size();
        attempts.removeIf(a -> !allowed(key, request.model(), a));
        if (attempts.size() < before) {
            steps.add("virtual key '" + key.name() + "' allow-lists removed " + (before - attempts.size()) + " target(s)");
        }
        if (attempts.isEmpty()) {
            String rule = matched == null ? null : matched.name();
            if (before > 0) {
                return Resolution.error(rule, steps, 403, "permission_error",
                        "virtual key '" + key.name() + "' is not allowed to use any target of model '" + request.model() + "'");
            }
            return Resolution.error(rule, steps, 404, "not_found_error",
                    "RoutingRule '" + rule + "' has no target that a ProviderDeployment serves");
        }
        promoteHealthy(attempts, steps);
        return new Resolution(matched == null ? null : matched.name(), steps, List.copyOf(attempts), 0, null, null);
    }

    /** The deployments that serve {@code ref}: a deployment name wins over a provider type of the same spelling. */
    static List<Deployment> expand(RoutingTable table, ModelRef ref, List<String> steps) {
        String model = ref.model();
        if (ref.prefix() != null) {
            Deployment named = table.deployments().get(ref.prefix());
            if (named != null) {
                if (named.serves(model)) {
                    return List.of(named);
                }
                steps.add(ref + ": deployment '" + named.name() + "' does not list model '" + model + "'");
                return List.of();
            }
            Optional<ProviderType> type = ProviderType.fromId(ref.prefix());
            List<Deployment> ofType = type.map(t -> table.byType().getOrDefault(t, List.of())).orElse(List.of());
            List<Deployment> serving = ofType.stream().filter(d -> d.serves(model)).toList();
            if (serving.isEmpty()) {
                steps.add(ref + ": no ProviderDeployment named '" + ref.prefix() + "'"
                        + (type.isPresent() ? " and no " + ref.prefix() + " deployment serves '" + model + "'" : ""));
            }
            return serving;
        }
        List<Deployment> listing = table.deployments().values().stream()
                .filter(d -> d.models().containsKey(model))
                .sorted(Comparator.comparing(Deployment::name))
                .toList();
        if (!listing.isEmpty()) {
            return listing;
        }
        if (model.startsWith("claude-")) {
            List<Deployment> anthropic = table.byType().getOrDefault(ProviderType.ANTHROPIC, List.of()).stream()
                    .filter(d -> d.serves(model))
                    .toList();
            if (anthropic.isEmpty()) {
                steps.add(ref + ": no deployment lists it and no anthropic deployment can serve it");
            }
            return anthropic;
        }
        steps.add(ref + ": no deployment lists it");
        return List.of();
    }

    /** Appends {@code candidates} in this session's rendezvous order, skipping ones already present. */
    private static void order(List<Candidate> candidates, String sessionKey, List<Attempt> out, boolean fallback) {
        Map<Candidate, Double> scores = new HashMap<>();
        for (Candidate c : candidates) {
            scores.put(c, Rendezvous.score(sessionKey, c.deployment.name() + "/" + c.ref, c.weight));
        }
        candidates.stream()
                .filter(c -> c.weight > 0)
                .sorted(Comparator.comparingDouble((Candidate c) -> scores.get(c)).reversed())
                .forEach(c -> {
                    ModelEntry entry = c.deployment.model(c.ref.model());
                    boolean duplicate = out.stream().anyMatch(a -> a.deployment() == c.deployment && a.model().name().equals(entry.name()));
                    if (!duplicate) {
                        out.add(new Attempt(c.deployment, entry, c.ref.toString(), fallback));
                    }
                });
    }

    /** Deployments cooling down go behind the healthy ones; order is otherwise kept. */
    private void promoteHealthy(List<Attempt> attempts, List<String> steps) {
        List<Attempt> cooling = new ArrayList<>();
        attempts.removeIf(a -> {
            if (cooldowns.coolingDown(a.deployment().name())) {
                cooling.add(a);
                steps.add("deployment " + a.deployment().name() + " is cooling down for "
                        + cooldowns.remainingMillis(a.deployment().name()) + " ms: tried last");
                return true;
            }
            return false;
        });
        attempts.addAll(cooling);
    }

    /** Allowed when the provider (type or deployment name) and the model (as requested, or as resolved) match. */
    private static boolean allowed(KeyEntry key, String requested, Attempt attempt) {
        Deployment d = attempt.deployment();
        return key.allowsProvider(d.name(), d.type().id())
                && key.allowsModel(requested, attempt.model().name(), attempt.model().providerId());
    }

    private static Map<String, Object> variables(RouteRequest request) {
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("model", request.model());
        vars.put("headers", request.headers());
        vars.put("virtualKey", request.key().name());
        vars.put("team", request.key().team() == null ? "" : request.key().team());
        vars.put("api", request.api());
        vars.put("path", request.path());
        if (request.budget() != null) {
            vars.put("budget", request.budget());
        }
        return vars;
    }

    private static String notFound(ModelRef ref) {
        if (ref.prefix() != null) {
            return "model '" + ref + "' not found: no ProviderDeployment named '" + ref.prefix()
                    + "' (or of provider type '" + ref.prefix() + "') serves '" + ref.model()
                    + "'; add a ProviderDeployment or list the model in its spec.models";
        }
        return "model '" + ref + "' not found: add a RoutingRule that maps it to a target, or list it in a ProviderDeployment's spec.models";
    }

    private record Candidate(Deployment deployment, ModelRef ref, double weight) {}
}

package ai.finops.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.crds.ProviderType;
import ai.finops.crds.cel.RuleExpressions;
import ai.finops.crds.validation.ModelRef;
import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.upstream.UpstreamEndpoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ResolverTest {
    private final AtomicLong now = new AtomicLong();
    private final Cooldowns cooldowns = new Cooldowns(now::get);
    private final Resolver resolver = new Resolver(cooldowns);

    static Deployment deployment(String name, ProviderType type, int weight, String... models) {
        Map<String, ModelEntry> entries = new HashMap<>();
        for (String m : models) {
            entries.put(m, new ModelEntry(m, m + "-id", null));
        }
        return new Deployment(name, type, new UpstreamEndpoint("http", "127.0.0.1", 1, "", null), null, Map.copyOf(entries), weight,
                Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1), 1, Duration.ofSeconds(10), Deployment.SAME_IDS);
    }

    static KeyEntry key(String name, List<String> providers, List<String> models) {
        return new KeyEntry(name, null, "team-a", new byte[32], false, null, providers, models);
    }

    static RoutingTable table(List<CompiledRule> rules, Deployment... deployments) {
        Map<String, Deployment> byName = new HashMap<>();
        Map<ProviderType, List<Deployment>> byType = new HashMap<>();
        for (Deployment d : deployments) {
            byName.put(d.name(), d);
            byType.computeIfAbsent(d.type(), t -> new ArrayList<>()).add(d);
        }
        return new RoutingTable(rules, byName, byType);
    }

    static CompiledRule rule(String name, int priority, Set<String> scope, String when, List<String> targets, List<Integer> weights,
            List<String> fallbacks) {
        List<CompiledRule.WeightedRef> refs = new ArrayList<>();
        for (int i = 0; i < targets.size(); i++) {
            refs.add(new CompiledRule.WeightedRef(ModelRef.parse(targets.get(i)), weights.get(i)));
        }
        return new CompiledRule(name, priority, scope, when == null ? null : RuleExpressions.compile(when), refs,
                fallbacks.stream().map(ModelRef::parse).toList());
    }

    private Resolution resolve(RoutingTable t, String model, Map<String, String> headers, KeyEntry key) {
        return resolver.resolve(t, new RouteRequest(model, headers, key, "anthropic", "/v1/messages", RouteRequest.sessionKey(headers, key)));
    }

    @Test
    void aliasRuleMatchesOnlyClaudeCode() {
        Deployment anthropic = deployment("anthropic-main", ProviderType.ANTHROPIC, 1);
        RoutingTable t = table(List.of(rule("sonnet", 10, Set.of(),
                "model == \"sonnet-model\" && headers[\"user-agent\"].startsWith(\"claude-cli\")",
                List.of("anthropic/claude-sonnet-4-6"), List.of(1), List.of())), anthropic);
        Resolution cc = resolve(t, "sonnet-model", Map.of("user-agent", "claude-cli/2.1.328 (external, sdk-cli)"), key("k", List.of(), List.of()));
        assertThat(cc.rule()).isEqualTo("sonnet");
        assertThat(cc.attempts()).extracting(a -> a.model().providerId()).containsExactly("claude-sonnet-4-6");

        Resolution curl = resolve(t, "sonnet-model", Map.of("user-agent", "curl/8"), key("k", List.of(), List.of()));
        assertThat(curl.ok()).isFalse();
        assertThat(curl.errorStatus()).isEqualTo(404);
        assertThat(curl.errorMessage()).contains("sonnet-model").contains("RoutingRule");

        Resolution noAgent = resolve(t, "sonnet-model", Map.of(), key("k", List.of(), List.of()));
        assertThat(noAgent.errorStatus()).as("a missing header is no match, not an error").isEqualTo(404);
    }

    @Test
    void priorityThenScope() {
        Deployment a = deployment("a", ProviderType.ANTHROPIC, 1);
        Deployment b = deployment("b", ProviderType.ANTHROPIC, 1);
        RoutingTable t = table(List.of(
                rule("alice-only", 1, Set.of("alice"), null, List.of("a/m"), List.of(1), List.of()),
                rule("everyone", 5, Set.of(), null, List.of("b/m"), List.of(1), List.of())), a, b);
        assertThat(resolve(t, "x", Map.of(), key("alice", List.of(), List.of())).attempts().get(0).deployment().name()).isEqualTo("a");
        Resolution bob = resolve(t, "x", Map.of(), key("bob", List.of(), List.of()));
        assertThat(bob.rule()).isEqualTo("everyone");
        assertThat(bob.steps()).anyMatch(s -> s.contains("alice-only") && s.contains("not in scope"));
    }

    @Test
    void deploymentNameWinsOverProviderType() {
        Deployment namedAnthropic = deployment("anthropic", ProviderType.OPENAI_COMPATIBLE, 1);
        Deployment realAnthropic = deployment("anthropic-2", ProviderType.ANTHROPIC, 1);
        RoutingTable t = table(List.of(), namedAnthropic, realAnthropic);
        Resolution r = resolve(t, "anthropic/claude-x", Map.of(), key("k", List.of(), List.of()));
        assertThat(r.attempts()).extracting(a -> a.deployment().name()).containsExactly("anthropic");
    }

    @Test
    void bareModelsFindTheDeploymentThatListsThemThenClaudeDefaultsToAnthropic() {
        Deployment listing = deployment("listing", ProviderType.OPENAI_COMPATIBLE, 1, "llama-3");
        Deployment anthropic = deployment("anthropic-main", ProviderType.ANTHROPIC, 1);
        RoutingTable t = table(List.of(), listing, anthropic);
        assertThat(resolve(t, "llama-3", Map.of(), key("k", List.of(), List.of())).attempts().get(0).model().providerId()).isEqualTo("llama-3-id");
        assertThat(resolve(t, "claude-haiku-4-6", Map.of(), key("k", List.of(), List.of())).attempts().get(0).deployment().name())
                .isEqualTo("anthropic-main");
        Resolution unknown = resolve(t, "gpt-x", Map.of(), key("k", List.of(), List.of()));
        assertThat(unknown.errorStatus()).isEqualTo(404);
        assertThat(unknown.errorMessage()).contains("gpt-x").contains("ProviderDeployment");
    }

    @Test
    void weightedTargetsSplitByWeightAndStickPerSession() {
        Deployment a = deployment("acct-a", ProviderType.ANTHROPIC, 1);
        Deployment b = deployment("acct-b", ProviderType.ANTHROPIC, 1);
        RoutingTable t = table(List.of(rule("split", 0, Set.of(), null, List.of("acct-a/m", "acct-b/m"), List.of(3, 1), List.of())), a, b);
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 4000; i++) {
            Map<String, String> h = Map.of("x-claude-code-session-id", "session-" + i);
            String first = resolve(t, "m", h, key("k", List.of(), List.of())).attempts().get(0).deployment().name();
            counts.merge(first, 1, Integer::sum);
            String again = resolve(t, "m", h, key("k", List.of(), List.of())).attempts().get(0).deployment().name();
            assertThat(again).isEqualTo(first);
        }
        assertThat(counts.get("acct-a") / 4000.0).isBetween(0.71, 0.79);
        // Without a session id the key name is the session: one key, one account.
        String k1 = resolve(t, "m", Map.of(), key("k1", List.of(), List.of())).attempts().get(0).deployment().name();
        for (int i = 0; i < 10; i++) {
            assertThat(resolve(t, "m", Map.of(), key("k1", List.of(), List.of())).attempts().get(0).deployment().name()).isEqualTo(k1);
        }
    }

    @Test
    void coolingDeploymentMovesBehindAndComesBack() {
        Deployment a = deployment("acct-a", ProviderType.ANTHROPIC, 1);
        Deployment b = deployment("acct-b", ProviderType.ANTHROPIC, 1);
        RoutingTable t = table(List.of(rule("split", 0, Set.of(), null, List.of("acct-a/m", "acct-b/m"), List.of(1, 1), List.of("anthropic/m"))), a, b);
        Map<String, String> h = Map.of("x-claude-code-session-id", "s-1");
        List<String> order = resolve(t, "m", h, key("k", List.of(), List.of())).attempts().stream().map(x -> x.deployment().name()).toList();
        cooldowns.coolDown(order.get(0), 5_000_000_000L);
        List<String> cooled = resolve(t, "m", h, key("k", List.of(), List.of())).attempts().stream().map(x -> x.deployment().name()).toList();
        assertThat(cooled.get(0)).isEqualTo(order.get(1));
        assertThat(cooled).contains(order.get(0));
        now.addAndGet(6_000_000_000L);
        assertThat(resolve(t, "m", h, key("k", List.of(), List.of())).attempts().get(0).deployment().name()).isEqualTo(order.get(0));
    }

    @Test
    void allowListsApplyToTheResolvedTarget() {
        Deployment anthropic = deployment("anthropic-main", ProviderType.ANTHROPIC, 1);
        RoutingTable t = table(List.of(rule("alias", 0, Set.of(), "model == \"sonnet-model\"", List.of("anthropic/claude-sonnet-4-6"), List.of(1),
                List.of())), anthropic);
        assertThat(resolve(t, "sonnet-model", Map.of(), key("k", List.of(), List.of("claude-*"))).ok()).isTrue();
        assertThat(resolve(t, "sonnet-model", Map.of(), key("k", List.of(), List.of("sonnet-model"))).ok()).isTrue();
        Resolution denied = resolve(t, "claude-opus-4-6", Map.of(), key("k", List.of(), List.of("claude-haiku-*")));
        assertThat(denied.errorStatus()).isEqualTo(403);
        assertThat(resolve(t, "claude-haiku-4-6", Map.of(), key("k", List.of("bedrock"), List.of())).errorStatus()).isEqualTo(403);
    }
}

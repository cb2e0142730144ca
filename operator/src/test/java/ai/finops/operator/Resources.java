package ai.finops.operator;

import ai.finops.crds.Budget;
import ai.finops.crds.BudgetSpec;
import ai.finops.crds.ProviderDeployment;
import ai.finops.crds.ProviderDeploymentSpec;
import ai.finops.crds.RoutingRule;
import ai.finops.crds.RoutingRuleSpec;
import ai.finops.crds.SecretKeyRef;
import ai.finops.crds.VirtualKey;
import ai.finops.crds.VirtualKeySpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.util.List;
import java.util.Map;

/** Test resources, built as a user's manifests would be. */
final class Resources {
    private Resources() {}

    static ProviderDeployment anthropic(String ns, String name, String endpoint, String secret) {
        ProviderDeployment pd = new ProviderDeployment();
        pd.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
        ProviderDeploymentSpec spec = new ProviderDeploymentSpec();
        spec.provider = "anthropic";
        spec.endpoint = endpoint;
        spec.credentials = new ProviderDeploymentSpec.Credentials();
        spec.credentials.secretRef = new SecretKeyRef(secret, null);
        spec.timeouts = new ProviderDeploymentSpec.Timeouts();
        spec.timeouts.connect = "1s";
        spec.timeouts.firstByte = "5s";
        pd.setSpec(spec);
        return pd;
    }

    static RoutingRule rule(String ns, String name, String when, String target) {
        RoutingRule rr = new RoutingRule();
        rr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
        RoutingRuleSpec spec = new RoutingRuleSpec();
        spec.priority = 10;
        spec.when = when;
        spec.targets = List.of(new RoutingRuleSpec.Target(target, null));
        rr.setSpec(spec);
        return rr;
    }

    static VirtualKey key(String ns, String name, String secret) {
        VirtualKey vk = new VirtualKey();
        vk.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
        VirtualKeySpec spec = new VirtualKeySpec();
        spec.secretRef = new SecretKeyRef(secret, null);
        spec.owner = name + "@example.com";
        vk.setSpec(spec);
        return vk;
    }

    /** A monthly Budget of {@code limitUsd} over the keys of {@code team}. */
    static Budget budget(String ns, String name, String team, String limitUsd) {
        Budget budget = new Budget();
        budget.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
        BudgetSpec spec = new BudgetSpec();
        spec.scope = new BudgetSpec.Scope();
        spec.scope.teams.add(team);
        spec.limitUsd = limitUsd;
        spec.period = "Monthly";
        spec.timeZone = "Europe/Paris";
        spec.alertAtPercent.addAll(List.of(50, 80, 95));
        budget.setSpec(spec);
        return budget;
    }

    /** An McpServer at {@code url} whose token is key {@code token} of Secret {@code secret}. */
    static ai.finops.crds.McpServer mcpServer(String ns, String name, String url, String secret) {
        ai.finops.crds.McpServer server = new ai.finops.crds.McpServer();
        server.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
        ai.finops.crds.McpServerSpec spec = new ai.finops.crds.McpServerSpec();
        spec.url = url;
        spec.auth = new ai.finops.crds.McpServerSpec.Auth();
        spec.auth.secretRef = new ai.finops.crds.SecretKeyRef(secret, null);
        server.setSpec(spec);
        return server;
    }

    static Secret secret(String ns, String name, Map<String, String> values) {
        return new SecretBuilder().withMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build())
                .withStringData(values).build();
    }
}

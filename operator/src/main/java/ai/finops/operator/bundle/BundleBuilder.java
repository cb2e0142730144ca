package ai.finops.operator.bundle;

import ai.finops.crds.Budget;
import ai.finops.crds.McpServer;
import ai.finops.crds.ProviderDeployment;
import ai.finops.crds.ResourceSet;
import ai.finops.crds.RoutingRule;
import ai.finops.crds.VirtualKey;
import ai.finops.crds.validation.Problem;
import ai.finops.crds.validation.ResourceValidator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Turns one namespace's resources into its {@link Bundle}: a pure function, the same validators as
 * the gateway ({@link ResourceValidator}), no API calls.
 *
 * <p>A resource with a problem is left out and the rest keeps working. Leaving one out can break
 * another (a RoutingRule whose only target was a rejected ProviderDeployment), so validation repeats
 * on what is left until nothing more falls out; what is left is exactly a set the gateway accepts.
 * The output is deterministic (sorted, no timestamps), so unchanged input gives the same hash and
 * the operator writes nothing.
 */
public final class BundleBuilder {
    private static final YAMLMapper YAML = YAMLMapper.builder(YAMLFactory.builder()
                    .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                    .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                    .build())
            .build();

    /**
     * A namespace's resources and the values of the Secrets they reference.
     *
     * @param secrets Secret name, then key, then value: VirtualKey tokens and provider credentials
     */
    public record Input(String namespace, List<ProviderDeployment> deployments, List<RoutingRule> rules, List<VirtualKey> keys,
            List<Budget> budgets, List<McpServer> mcpServers, Map<String, Map<String, String>> secrets) {

        /** A namespace without Budgets nor McpServers. */
        public Input(String namespace, List<ProviderDeployment> deployments, List<RoutingRule> rules, List<VirtualKey> keys,
                Map<String, Map<String, String>> secrets) {
            this(namespace, deployments, rules, keys, List.of(), List.of(), secrets);
        }

        /** A namespace without McpServers. */
        public Input(String namespace, List<ProviderDeployment> deployments, List<RoutingRule> rules, List<VirtualKey> keys,
                List<Budget> budgets, Map<String, Map<String, String>> secrets) {
            this(namespace, deployments, rules, keys, budgets, List.of(), secrets);
        }
    }

    private BundleBuilder() {}

    public static Bundle build(Input input) {
        List<ProviderDeployment> deployments = sorted(input.deployments());
        List<RoutingRule> rules = sorted(input.rules());
        List<VirtualKey> keys = sorted(input.keys());
        List<Budget> budgets = sorted(input.budgets());
        List<McpServer> mcpServers = sorted(input.mcpServers());
        SortedMap<ResourceKey, Verdict> verdicts = new TreeMap<>();
        List<ResourceKey> rejectedEarlier = new ArrayList<>();
        while (true) {
            ResourceSet set = new ResourceSet(deployments, rules, keys, budgets, mcpServers, input.secrets(), ResourceSet.SecretChecks.ALL);
            Map<ResourceKey, List<Problem>> problems = ResourceValidator.validate(set).stream()
                    .collect(Collectors.groupingBy(p -> new ResourceKey(p.kind(), p.name()), LinkedHashMap::new, Collectors.toList()));
            if (problems.isEmpty()) {
                break;
            }
            problems.forEach((key, list) -> verdicts.put(key, new Verdict(
                    list.stream().filter(p -> !p.unresolvedReference()).toList(),
                    list.stream().filter(Problem::unresolvedReference).map(p -> explain(p, rejectedEarlier)).toList())));
            deployments.removeIf(r -> problems.containsKey(ResourceKey.of(r)));
            rules.removeIf(r -> problems.containsKey(ResourceKey.of(r)));
            keys.removeIf(r -> problems.containsKey(ResourceKey.of(r)));
            budgets.removeIf(r -> problems.containsKey(ResourceKey.of(r)));
            mcpServers.removeIf(r -> problems.containsKey(ResourceKey.of(r)));
            rejectedEarlier.addAll(new TreeMap<>(problems).keySet());
        }
        List<JsonNode> documents = new ArrayList<>();
        SortedMap<String, String> credentials = new TreeMap<>();
        for (ProviderDeployment pd : deployments) {
            verdicts.put(ResourceKey.of(pd), Verdict.ACCEPTED);
            documents.add(document(pd, (ObjectNode) YAML.valueToTree(pd.getSpec())));
            for (String key : ResourceValidator.credentialKeys(pd.getSpec())) {
                String secretName = pd.getSpec().credentials.secretRef.name;
                String value = input.secrets().getOrDefault(secretName, Map.of()).get(key);
                if (value != null) {
                    credentials.put(secretName + "." + key, value);
                }
            }
        }
        for (RoutingRule rr : rules) {
            verdicts.put(ResourceKey.of(rr), Verdict.ACCEPTED);
            documents.add(document(rr, (ObjectNode) YAML.valueToTree(rr.getSpec())));
        }
        for (VirtualKey vk : keys) {
            verdicts.put(ResourceKey.of(vk), Verdict.ACCEPTED);
            ObjectNode spec = YAML.valueToTree(vk.getSpec());
            if (vk.getSpec().secretRef != null) {
                String tokenKey = vk.getSpec().secretRef.key != null ? vk.getSpec().secretRef.key : ResourceValidator.DEFAULT_TOKEN_KEY;
                String token = input.secrets().get(vk.getSpec().secretRef.name).get(tokenKey);
                spec.remove("secretRef");
                spec.put("tokenSha256", ResourceValidator.sha256Hex(token));
            }
            documents.add(document(vk, spec));
        }
        for (Budget budget : budgets) {
            verdicts.put(ResourceKey.of(budget), Verdict.ACCEPTED);
            documents.add(document(budget, (ObjectNode) YAML.valueToTree(budget.getSpec())));
        }
        for (McpServer server : mcpServers) {
            verdicts.put(ResourceKey.of(server), Verdict.ACCEPTED);
            documents.add(document(server, (ObjectNode) YAML.valueToTree(server.getSpec())));
            if (server.getSpec().auth != null) {
                String secretName = server.getSpec().auth.secretRef.name;
                String key = ResourceValidator.mcpCredentialKey(server.getSpec().auth);
                credentials.put(secretName + "." + key, input.secrets().get(secretName).get(key));
            }
        }
        StringBuilder yaml = new StringBuilder("# Generated by finops-operator from the resources of namespace ")
                .append(input.namespace()).append(". Do not edit: the operator rewrites it.\n");
        for (JsonNode doc : documents) {
            yaml.append("---\n").append(write(doc));
        }
        String text = yaml.toString();
        return new Bundle(text, sha256(text), credentials, verdicts);
    }

    /** A reference to a resource that exists but was left out says so, instead of only "not found". */
    private static Problem explain(Problem problem, List<ResourceKey> rejected) {
        String because = rejected.stream().filter(k -> problem.message().contains("'" + k.name() + "'"))
                .map(k -> " (" + k + " exists but is not accepted)").collect(Collectors.joining());
        return because.isEmpty() ? problem : new Problem(problem.kind(), problem.name(), problem.field(), problem.message() + because, true);
    }

    private static ObjectNode document(HasMetadata resource, ObjectNode spec) {
        ObjectNode doc = YAML.createObjectNode();
        doc.put("apiVersion", resource.getApiVersion());
        doc.put("kind", resource.getKind());
        doc.putObject("metadata").put("name", resource.getMetadata().getName());
        doc.set("spec", withoutEmpty(spec));
        return doc;
    }

    /** Drops empty lists and objects (defaults the gateway fills in), so the bundle reads like a hand-written file. */
    private static JsonNode withoutEmpty(JsonNode node) {
        if (node.isContainerNode()) {
            for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
                withoutEmpty(it.next());
            }
            if (node instanceof ObjectNode object) {
                object.properties().removeIf(e -> e.getValue().isNull() || e.getValue().isContainerNode() && e.getValue().isEmpty());
            }
        }
        return node;
    }

    private static String write(JsonNode doc) {
        try {
            return YAML.writeValueAsString(doc);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static <T extends HasMetadata> List<T> sorted(List<T> resources) {
        List<T> copy = new ArrayList<>(resources);
        copy.sort(Comparator.comparing(r -> r.getMetadata().getName()));
        return copy;
    }

    static String sha256(String text) {
        return ResourceValidator.sha256Hex(text);
    }
}

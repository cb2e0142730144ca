package ai.finops.operator;

import ai.finops.crds.Budget;
import ai.finops.crds.McpServer;
import ai.finops.crds.ProviderDeployment;
import ai.finops.crds.ResourceStatus;
import ai.finops.crds.RoutingRule;
import ai.finops.crds.VirtualKey;
import ai.finops.crds.validation.ResourceValidator;
import ai.finops.operator.bundle.Bundle;
import ai.finops.operator.bundle.BundleBuilder;
import ai.finops.operator.bundle.Names;
import ai.finops.operator.bundle.ResourceKey;
import ai.finops.operator.bundle.Statuses;
import ai.finops.operator.bundle.Verdict;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles one namespace's VirtualKeys, RoutingRules, ProviderDeployments, Budgets and McpServers into its gateway
 * bundle: the ConfigMap {@value Names#BUNDLE_CONFIG_MAP}, the Secret {@value Names#CREDENTIALS_SECRET}
 * and the {@code .status} of every resource.
 *
 * <p>The primary resource is the {@link Namespace}: the bundle is a function of everything in it, so
 * one reconciliation per namespace sees the whole state, JOSDK never runs two for the same namespace
 * at once, and a delete (which leaves no primary of its own to reconcile) still rebuilds the bundle.
 * Every kind is a secondary mapped to its namespace: a ProviderDeployment edit re-bundles the rules
 * that use it because everything in the namespace is re-derived. Secrets map only when a resource
 * references them. Updates that change only {@code .status} (our own writes) are filtered out.
 *
 * <p>The operator never writes a custom resource outside {@code /status} and adds no finalizer, so
 * nothing it does shows as drift in Argo CD. Nothing is written when the derived state is unchanged.
 */
public final class BundleReconciler implements Reconciler<Namespace> {
    private static final Logger LOG = LoggerFactory.getLogger(BundleReconciler.class);

    /** A namespace labelled {@code finops.ai/shared-gateway: enabled} has its VirtualKeys accepted by the shared gateway too. */
    public static final String SHARED_GATEWAY_LABEL = "finops.ai/shared-gateway";
    static final String ENABLED = "enabled";

    private final Set<String> namespaces;
    private final Clock clock;
    private final OperatorMetrics metrics;
    private final Supplier<String> tokens;
    private final String sharedGateway;
    private InformerEventSource<ProviderDeployment, Namespace> deployments;
    private InformerEventSource<RoutingRule, Namespace> rules;
    private InformerEventSource<VirtualKey, Namespace> keys;
    private InformerEventSource<Budget, Namespace> budgets;
    private InformerEventSource<McpServer, Namespace> mcpServers;
    private InformerEventSource<Secret, Namespace> secrets;
    private InformerEventSource<ConfigMap, Namespace> configMaps;
    private InformerEventSource<Namespace, Namespace> sharingNamespaces;   // null without a shared gateway
    /** Re-bundles the shared gateway after a write of ours it must see (whose own event JOSDK filters out). */
    private final io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource<Namespace> sharedGatewayTrigger =
            new io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource<>("shared-gateway-trigger");

    /**
     * @param namespaces the namespaces to serve; empty = all
     * @param tokens new VirtualKey tokens
     * @param sharedGateway the shared gateway's namespace, whose bundle also carries the VirtualKeys of
     *     namespaces labelled {@value #SHARED_GATEWAY_LABEL}{@code =enabled}; null when there is none
     */
    public BundleReconciler(Set<String> namespaces, Clock clock, OperatorMetrics metrics, Supplier<String> tokens, String sharedGateway) {
        this.namespaces = Set.copyOf(namespaces);
        this.clock = clock;
        this.metrics = metrics;
        this.tokens = tokens;
        this.sharedGateway = sharedGateway == null || sharedGateway.isBlank() ? null : sharedGateway;
    }

    /** Whether this operator serves {@code namespace}. */
    public boolean serves(String namespace) {
        return namespaces.isEmpty() || namespaces.contains(namespace);
    }

    @Override
    public List<EventSource<?, Namespace>> prepareEventSources(EventSourceContext<Namespace> context) {
        deployments = new InformerEventSource<>(watched(InformerEventSourceConfiguration.from(ProviderDeployment.class, Namespace.class)
                .withName("deployments").withSecondaryToPrimaryMapper(toNamespace()).withOnUpdateFilter(BundleReconciler::specChanged))
                .build(), context);
        rules = new InformerEventSource<>(watched(InformerEventSourceConfiguration.from(RoutingRule.class, Namespace.class)
                .withName("rules").withSecondaryToPrimaryMapper(toNamespace()).withOnUpdateFilter(BundleReconciler::specChanged))
                .build(), context);
        keys = new InformerEventSource<>(watched(InformerEventSourceConfiguration.from(VirtualKey.class, Namespace.class)
                .withName("keys").withSecondaryToPrimaryMapper(vk -> alsoShared(vk.getMetadata().getNamespace()))
                .withOnUpdateFilter(BundleReconciler::specChanged))
                .build(), context);
        budgets = new InformerEventSource<>(watched(InformerEventSourceConfiguration.from(Budget.class, Namespace.class)
                .withName("budgets").withSecondaryToPrimaryMapper(toNamespace()).withOnUpdateFilter(BundleReconciler::specChanged))
                .build(), context);
        mcpServers = new InformerEventSource<>(watched(InformerEventSourceConfiguration.from(McpServer.class, Namespace.class)
                .withName("mcp-servers").withSecondaryToPrimaryMapper(toNamespace()).withOnUpdateFilter(BundleReconciler::specChanged))
                .build(), context);
        secrets = new InformerEventSource<>(watched(InformerEventSourceConfiguration.from(Secret.class, Namespace.class)
                .withName("secrets").withSecondaryToPrimaryMapper(this::referencedSecretToNamespace)
                .withOnUpdateFilter((now, before) -> !Objects.equals(now.getData(), before.getData())
                        || !Objects.equals(now.getStringData(), before.getStringData())))
                .build(), context);
        configMaps = new InformerEventSource<>(watched(InformerEventSourceConfiguration.from(ConfigMap.class, Namespace.class)
                .withName("bundles").withLabelSelector(Names.MANAGED_BY_LABEL + "=" + Names.MANAGED_BY)
                .withSecondaryToPrimaryMapper(toNamespace()))
                .build(), context);
        if (sharedGateway == null) {
            return List.of(deployments, rules, keys, budgets, mcpServers, secrets, configMaps);
        }
        // a namespace's label deciding whether the shared gateway takes its keys: a change re-bundles the shared gateway
        sharingNamespaces = new InformerEventSource<>(InformerEventSourceConfiguration.from(Namespace.class,
                        Namespace.class).withName("shared-gateway-labels")
                .withSecondaryToPrimaryMapper(n -> Set.of(new ResourceID(sharedGateway)))
                .withOnAddFilter(BundleReconciler::sharesKeys)
                .withOnUpdateFilter((now, before) -> sharesKeys(now) != sharesKeys(before))
                .withOnDeleteFilter((n, unknown) -> sharesKeys(n))
                .build(), context);
        return List.of(deployments, rules, keys, budgets, mcpServers, secrets, configMaps, sharingNamespaces, sharedGatewayTrigger);
    }

    static boolean sharesKeys(Namespace namespace) {
        Map<String, String> labels = namespace.getMetadata().getLabels();
        return labels != null && ENABLED.equals(labels.get(SHARED_GATEWAY_LABEL));
    }

    /**
     * A namespace, and the shared gateway's when its bundle carries this namespace's keys. (A label
     * added later re-bundles the shared gateway through its own event.)
     */
    private Set<ResourceID> alsoShared(String namespace) {
        boolean sharing = sharedGateway != null && !sharedGateway.equals(namespace)
                && sharingNamespaces.get(new ResourceID(namespace)).map(BundleReconciler::sharesKeys).orElse(false);
        return sharing ? Set.of(new ResourceID(namespace), new ResourceID(sharedGateway)) : Set.of(new ResourceID(namespace));
    }

    private <R extends HasMetadata> InformerEventSourceConfiguration.Builder<R> watched(InformerEventSourceConfiguration.Builder<R> builder) {
        return namespaces.isEmpty() ? builder.withWatchAllNamespaces() : builder.withNamespaces(namespaces);
    }

    private static <R extends HasMetadata> SecondaryToPrimaryMapper<R> toNamespace() {
        return resource -> Set.of(new ResourceID(resource.getMetadata().getNamespace()));
    }

    /** Spec, labels or annotations changed; not our own {@code .status} writes. */
    private static boolean specChanged(CustomResource<?, ?> now, CustomResource<?, ?> before) {
        return !Objects.equals(now.getMetadata().getGeneration(), before.getMetadata().getGeneration());
    }

    /** A Secret matters when a resource of its namespace references it, or when it is our output. */
    private Set<ResourceID> referencedSecretToNamespace(Secret secret) {
        String ns = secret.getMetadata().getNamespace();
        String name = secret.getMetadata().getName();
        if (keys.list(ns, vk -> vk.getSpec() != null && vk.getSpec().secretRef != null && name.equals(vk.getSpec().secretRef.name))
                .findAny().isPresent()) {
            return alsoShared(ns);
        }
        boolean referenced = Names.CREDENTIALS_SECRET.equals(name)
                || deployments.list(ns, pd -> pd.getSpec() != null && pd.getSpec().credentials != null
                        && pd.getSpec().credentials.secretRef != null && name.equals(pd.getSpec().credentials.secretRef.name)).findAny().isPresent()
                || mcpServers.list(ns, mcp -> name.equals(mcpSecretName(mcp))).findAny().isPresent();
        return referenced ? Set.of(new ResourceID(ns)) : Set.of();
    }

    @Override
    public UpdateControl<Namespace> reconcile(Namespace namespace, Context<Namespace> context) {
        String ns = namespace.getMetadata().getName();
        if (!serves(ns) || namespace.getMetadata().getDeletionTimestamp() != null) {
            return UpdateControl.noUpdate();
        }
        List<ProviderDeployment> pds = deployments.list(ns, r -> true).toList();
        List<RoutingRule> rrs = rules.list(ns, r -> true).toList();
        List<VirtualKey> vks = keys.list(ns, r -> true).toList();
        List<Budget> buds = budgets.list(ns, r -> true).toList();
        List<McpServer> mcps = mcpServers.list(ns, r -> true).toList();
        List<VirtualKey> shared = ns.equals(sharedGateway) ? sharedKeys() : List.of();
        ConfigMap currentBundle = configMaps.get(new ResourceID(Names.BUNDLE_CONFIG_MAP, ns)).orElse(null);
        if (pds.isEmpty() && rrs.isEmpty() && vks.isEmpty() && buds.isEmpty() && mcps.isEmpty() && shared.isEmpty() && currentBundle == null) {
            return UpdateControl.noUpdate();   // nothing of ours here: write nothing into this namespace
        }
        KubernetesClient client = context.getClient();
        Map<String, Secret> secretsByName = new HashMap<>();
        secrets.list(ns, s -> true).forEach(s -> secretsByName.put(s.getMetadata().getName(), s));
        for (VirtualKey vk : vks) {
            Secret generated = VirtualKeySecrets.generateIfMissing(client, vk, secretsByName, tokens);
            if (generated != null) {
                secrets.handleRecentResourceCreate(ResourceID.fromResource(generated), generated);
                if (sharedGateway != null && !ns.equals(sharedGateway) && sharesKeys(namespace)) {
                    sharedGatewayTrigger.propagateEvent(new ResourceID(sharedGateway));   // a new token for the shared gateway
                }
                secretsByName.put(generated.getMetadata().getName(), generated);
                metrics.write("secret", "virtual-key-token");
                LOG.atInfo().addKeyValue("namespace", ns).addKeyValue("virtual_key", vk.getMetadata().getName())
                        .addKeyValue("secret", generated.getMetadata().getName()).log("generated a token Secret for a VirtualKey");
            }
        }
        shared = withoutCollisions(ns, shared, vks, secretsByName);
        List<VirtualKey> allKeys = shared.isEmpty() ? vks : java.util.stream.Stream.concat(vks.stream(), shared.stream()).toList();
        Bundle bundle = BundleBuilder.build(new BundleBuilder.Input(ns, pds, rrs, allKeys, buds, mcps,
                referencedValues(pds, vks, mcps, secretsByName)));
        for (VirtualKey vk : shared) {
            Verdict verdict = bundle.verdicts().get(ResourceKey.of(vk));
            if (verdict != null && !verdict.included()) {
                LOG.atWarn().addKeyValue("namespace", ns).addKeyValue("virtual_key", vk.getMetadata().getName())
                        .log("the shared gateway does not accept this VirtualKey: " + (verdict.invalid().isEmpty() ? verdict.unresolved() : verdict.invalid()));
            }
        }
        writeBundle(client, ns, bundle, currentBundle);
        writeCredentials(client, ns, bundle, secretsByName.get(Names.CREDENTIALS_SECRET));
        writeStatuses(client, bundle, pds, deployments);
        writeStatuses(client, bundle, rrs, rules);
        writeStatuses(client, bundle, vks, keys);
        writeStatuses(client, bundle, buds, budgets);
        writeStatuses(client, bundle, mcps, mcpServers);
        return UpdateControl.noUpdate();
    }

    /**
     * The VirtualKeys the shared gateway accepts besides its own namespace's: those of every served
     * namespace labelled {@value #SHARED_GATEWAY_LABEL}{@code =enabled}, named {@code <name>.<namespace>}
     * and carrying only their token's SHA-256 (a token never leaves its namespace). A key whose token
     * is missing or unusable is left out; its own namespace's status says why.
     */
    private List<VirtualKey> sharedKeys() {
        List<VirtualKey> shared = new java.util.ArrayList<>();
        // this informer's cache, not the primary one: its event is what triggered this reconciliation
        sharingNamespaces.list(n -> sharesKeys(n) && serves(n.getMetadata().getName()) && !n.getMetadata().getName().equals(sharedGateway))
                .sorted(java.util.Comparator.comparing(n -> n.getMetadata().getName()))
                .forEach(n -> {
                    String other = n.getMetadata().getName();
                    keys.list(other, vk -> vk.getSpec() != null).forEach(vk -> {
                        String hash = vk.getSpec().tokenSha256;
                        if (vk.getSpec().secretRef != null) {
                            Secret secret = secrets.get(new ResourceID(vk.getSpec().secretRef.name, other)).orElse(null);
                            String token = secret == null ? null : decode(secret).get(tokenKey(vk));
                            boolean usable = token != null && token.length() >= ResourceValidator.MIN_TOKEN_LENGTH
                                    && token.chars().allMatch(c -> c > 0x20 && c < 0x7f);   // as its own namespace checks it
                            hash = usable ? ResourceValidator.sha256Hex(token) : null;
                        }
                        if (hash != null) {
                            VirtualKey copy = new VirtualKey();
                            copy.setMetadata(new ObjectMetaBuilder().withName(vk.getMetadata().getName() + "." + other).withNamespace(other)
                                    .withGeneration(vk.getMetadata().getGeneration()).build());
                            copy.setSpec(Serialization.clone(vk.getSpec()));
                            copy.getSpec().secretRef = null;
                            copy.getSpec().tokenSha256 = hash;
                            shared.add(copy);
                        }
                    });
                });
        return shared;
    }

    /**
     * The shared keys that take nothing from the namespace's own: a copy named like a local key, or
     * with a local key's token, is left out (else, sorting first, it could displace the platform's own
     * key); so are copies that share a token among themselves. Each is logged.
     */
    private static List<VirtualKey> withoutCollisions(String ns, List<VirtualKey> shared, List<VirtualKey> local,
            Map<String, Secret> secretsByName) {
        if (shared.isEmpty()) {
            return shared;
        }
        Set<String> localNames = new java.util.HashSet<>();
        Set<String> localHashes = new java.util.HashSet<>();
        for (VirtualKey vk : local) {
            localNames.add(vk.getMetadata().getName());
            if (vk.getSpec() != null && vk.getSpec().tokenSha256 != null) {
                localHashes.add(vk.getSpec().tokenSha256);
            } else if (vk.getSpec() != null && vk.getSpec().secretRef != null && secretsByName.containsKey(vk.getSpec().secretRef.name)) {
                String token = decode(secretsByName.get(vk.getSpec().secretRef.name)).get(tokenKey(vk));
                if (token != null) {
                    localHashes.add(ResourceValidator.sha256Hex(token));
                }
            }
        }
        Map<String, Long> copiesByHash = shared.stream()
                .collect(java.util.stream.Collectors.groupingBy(vk -> vk.getSpec().tokenSha256, java.util.stream.Collectors.counting()));
        List<VirtualKey> kept = new java.util.ArrayList<>();
        for (VirtualKey vk : shared) {
            String why = localNames.contains(vk.getMetadata().getName()) ? "a VirtualKey of this namespace has the same name"
                    : localHashes.contains(vk.getSpec().tokenSha256) ? "a VirtualKey of this namespace has the same token"
                    : copiesByHash.get(vk.getSpec().tokenSha256) > 1 ? "another shared namespace's VirtualKey has the same token"
                    : null;
            if (why == null) {
                kept.add(vk);
            } else {
                LOG.atWarn().addKeyValue("namespace", ns).addKeyValue("virtual_key", vk.getMetadata().getName())
                        .log("the shared gateway does not accept this VirtualKey: " + why);
            }
        }
        return kept;
    }

    /** The decoded values of the Secrets the resources reference; no other Secret is read. */
    private static Map<String, Map<String, String>> referencedValues(List<ProviderDeployment> pds, List<VirtualKey> vks,
            List<McpServer> mcps, Map<String, Secret> secretsByName) {
        Map<String, Map<String, String>> values = new TreeMap<>();
        for (ProviderDeployment pd : pds) {
            if (pd.getSpec() != null && pd.getSpec().credentials != null && pd.getSpec().credentials.secretRef != null) {
                addSecret(pd.getSpec().credentials.secretRef.name, secretsByName, values);
            }
        }
        for (VirtualKey vk : vks) {
            if (vk.getSpec() != null && vk.getSpec().secretRef != null) {
                addSecret(vk.getSpec().secretRef.name, secretsByName, values);
            }
        }
        for (McpServer mcp : mcps) {
            addSecret(mcpSecretName(mcp), secretsByName, values);
        }
        return values;
    }

    /** The Secret an McpServer's {@code auth} names, or null. */
    private static String mcpSecretName(McpServer mcp) {
        return mcp.getSpec() != null && mcp.getSpec().auth != null && mcp.getSpec().auth.secretRef != null
                ? mcp.getSpec().auth.secretRef.name : null;
    }

    private static void addSecret(String name, Map<String, Secret> secretsByName, Map<String, Map<String, String>> values) {
        Secret secret = name == null ? null : secretsByName.get(name);
        if (secret != null) {
            values.put(name, decode(secret));
        }
    }

    static Map<String, String> decode(Secret secret) {
        Map<String, String> values = new LinkedHashMap<>();
        if (secret.getData() != null) {
            secret.getData().forEach((k, v) -> values.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
        }
        if (secret.getStringData() != null) {
            values.putAll(secret.getStringData());
        }
        return values;
    }

    private void writeBundle(KubernetesClient client, String ns, Bundle bundle, ConfigMap current) {
        if (current != null && bundle.sha256().equals(annotation(current, Names.BUNDLE_HASH_ANNOTATION))
                && current.getData() != null && bundle.yaml().equals(current.getData().get(Names.BUNDLE_KEY))) {
            return;
        }
        ConfigMap desired = new ConfigMapBuilder()
                .withMetadata(new ObjectMetaBuilder().withName(Names.BUNDLE_CONFIG_MAP).withNamespace(ns).withLabels(ownLabels())
                        .withAnnotations(Map.of(Names.BUNDLE_HASH_ANNOTATION, bundle.sha256())).build())
                .withData(Map.of(Names.BUNDLE_KEY, bundle.yaml()))
                .build();
        ConfigMap written = client.resource(desired).createOr(NonDeletingOperation::update);
        if (current == null) {
            configMaps.handleRecentResourceCreate(ResourceID.fromResource(written), written);
        } else {
            configMaps.handleRecentResourceUpdate(ResourceID.fromResource(written), written, current);
        }
        metrics.write("configmap", "bundle");
        LOG.atInfo().addKeyValue("namespace", ns).addKeyValue("sha256", bundle.sha256())
                .addKeyValue("accepted", bundle.verdicts().values().stream().filter(Verdict::included).count())
                .addKeyValue("rejected", bundle.verdicts().values().stream().filter(v -> !v.included()).count())
                .log("bundle written");
    }

    private void writeCredentials(KubernetesClient client, String ns, Bundle bundle, Secret current) {
        Map<String, String> data = new TreeMap<>();
        bundle.credentials().forEach((k, v) -> data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        if (current != null && Objects.equals(new TreeMap<>(Objects.requireNonNullElse(current.getData(), Map.of())), data)) {
            return;
        }
        Secret desired = new SecretBuilder()
                .withMetadata(new ObjectMetaBuilder().withName(Names.CREDENTIALS_SECRET).withNamespace(ns).withLabels(ownLabels()).build())
                .withType("Opaque").withData(data).build();
        Secret written = client.resource(desired).createOr(NonDeletingOperation::update);
        if (current == null) {
            secrets.handleRecentResourceCreate(ResourceID.fromResource(written), written);
        } else {
            secrets.handleRecentResourceUpdate(ResourceID.fromResource(written), written, current);
        }
        metrics.write("secret", "credentials");
        LOG.atInfo().addKeyValue("namespace", ns).addKeyValue("keys", data.keySet()).log("credentials Secret written");
    }

    private <R extends CustomResource<?, ? extends ResourceStatus>> void writeStatuses(KubernetesClient client, Bundle bundle,
            List<R> resources, InformerEventSource<R, Namespace> cache) {
        for (R resource : resources) {
            Verdict verdict = bundle.verdicts().getOrDefault(ResourceKey.of(resource), Verdict.ACCEPTED);
            ResourceStatus desired = Statuses.desired(verdict, resource.getMetadata().getGeneration(), resource.getStatus(), clock.instant());
            Condition ready = Statuses.find(desired, Statuses.READY);
            if (Statuses.same(resource.getStatus(), desired)) {
                LOG.atDebug().addKeyValue("resource", ResourceKey.of(resource)).addKeyValue("ready", ready.getStatus()).log("status unchanged");
                continue;
            }
            R written = patchStatus(client, resource, desired);
            cache.handleRecentResourceUpdate(ResourceID.fromResource(written), written, resource);
            metrics.write("status", resource.getKind());
            LOG.atDebug().addKeyValue("resource", ResourceKey.of(resource)).addKeyValue("ready", ready.getStatus())
                    .addKeyValue("resource_version", written.getMetadata().getResourceVersion()).log("status written");
            if (!verdict.included()) {
                LOG.atWarn().addKeyValue("namespace", resource.getMetadata().getNamespace()).addKeyValue("resource", ResourceKey.of(resource))
                        .addKeyValue("reason", ready.getReason())
                        .log("left out of the bundle: " + (verdict.invalid().isEmpty() ? verdict.unresolved() : verdict.invalid()));
            }
        }
    }

    /**
     * Writes the fields of {@code .status} this reconciler owns, {@code conditions} and
     * {@code observedGeneration}, with one JSON Patch on the status subresource: each is derived whole,
     * so it is replaced whole (a merge patch would merge the condition lists on some servers), while
     * fields other writers own (a spend summary) stay as they are. A resource with no status yet gets
     * one. Nothing outside {@code /status} is ever sent.
     */
    @SuppressWarnings("unchecked")
    private static <R extends CustomResource<?, ? extends ResourceStatus>> R patchStatus(KubernetesClient client, R resource,
            ResourceStatus status) {
        return client.resources((Class<R>) resource.getClass()).inNamespace(resource.getMetadata().getNamespace())
                .withName(resource.getMetadata().getName()).subresource("status")
                .patch(PatchContext.of(PatchType.JSON), ownedStatusPatch(resource.getStatus(), status));
    }

    /**
     * The JSON Patch that sets the owned status fields: under an existing {@code /status}, or as a new
     * one. The conditions list is shared with another writer (the spend loop's {@code BudgetExceeded}),
     * so each owned condition is replaced where it was read, after a {@code test} that the entry there is
     * still of its type, and a missing one is appended: the other writer's entries are never part of the
     * patch, so one written after this status was read is kept; a list that moved under it fails the patch
     * instead, and the reconciliation is retried on what the cache then holds.
     */
    static String ownedStatusPatch(ResourceStatus current, ResourceStatus status) {
        if (current == null) {
            return "[{\"op\":\"add\",\"path\":\"/status\",\"value\":" + Serialization.asJson(status) + "}]";
        }
        List<String> ops = new java.util.ArrayList<>();
        List<Condition> read = current.conditions == null ? List.of() : current.conditions;
        if (read.isEmpty()) {
            ops.add("{\"op\":\"add\",\"path\":\"/status/conditions\",\"value\":" + Serialization.asJson(owned(status)) + "}");
        } else {
            for (Condition condition : owned(status)) {
                int at = java.util.stream.IntStream.range(0, read.size()).filter(i -> condition.getType().equals(read.get(i).getType()))
                        .findFirst().orElse(-1);
                if (at < 0) {
                    ops.add("{\"op\":\"add\",\"path\":\"/status/conditions/-\",\"value\":" + Serialization.asJson(condition) + "}");
                } else {
                    String path = "/status/conditions/" + at;
                    ops.add("{\"op\":\"test\",\"path\":\"" + path + "/type\",\"value\":" + Serialization.asJson(condition.getType()) + "}");
                    ops.add("{\"op\":\"replace\",\"path\":\"" + path + "\",\"value\":" + Serialization.asJson(condition) + "}");
                }
            }
        }
        if (status.observedGeneration != null) {
            ops.add("{\"op\":\"add\",\"path\":\"/status/observedGeneration\",\"value\":" + status.observedGeneration + "}");
        }
        return "[" + String.join(",", ops) + "]";
    }

    /** The conditions of {@code status} this reconciler writes, in {@link Statuses#OWNED} order. */
    private static List<Condition> owned(ResourceStatus status) {
        return Statuses.OWNED.stream().map(type -> Statuses.find(status, type)).filter(Objects::nonNull).toList();
    }

    static Map<String, String> ownLabels() {
        return Map.of(Names.MANAGED_BY_LABEL, Names.MANAGED_BY, Names.PART_OF_LABEL, Names.PART_OF);
    }

    private static String annotation(HasMetadata resource, String name) {
        Map<String, String> annotations = resource.getMetadata().getAnnotations();
        return annotations == null ? null : annotations.get(name);
    }

    static String tokenKey(VirtualKey vk) {
        return vk.getSpec().secretRef.key != null ? vk.getSpec().secretRef.key : ResourceValidator.DEFAULT_TOKEN_KEY;
    }
}

package ai.finops.operator;

import ai.finops.crds.Budget;
import ai.finops.crds.ProviderDeployment;
import ai.finops.crds.RoutingRule;
import ai.finops.crds.VirtualKey;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.TimeUnit;

/**
 * The Fabric8 mock API server in CRUD mode with the four custom resources, the answer to JOSDK's
 * leader-election permission check, and every request it received kept for inspection.
 */
final class MockCluster implements AutoCloseable {
    /** The mock server logs every request at INFO through java.util.logging; kept as a field so the level sticks. */
    private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    final KubernetesMockServer server;
    final KubernetesClient client;
    private final List<RecordedRequest> requests = new ArrayList<>();

    MockCluster() {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        server = new KubernetesMockServer(new Context(), new MockWebServer(), responses, new KubernetesMixedDispatcher(responses), false);
        server.init();
        for (Class<? extends io.fabric8.kubernetes.client.CustomResource<?, ?>> type : List.of(VirtualKey.class, RoutingRule.class,
                ProviderDeployment.class, Budget.class, ai.finops.crds.McpServer.class)) {
            server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(type));
        }
        // JOSDK asks what it may do with Leases before it campaigns
        server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
                .andReturn(201, new SelfSubjectRulesReviewBuilder().withNewStatus().addNewResourceRule()
                        .withApiGroups("coordination.k8s.io").withResources("leases").withVerbs("get", "create", "update").endResourceRule()
                        .withIncomplete(false).endStatus().build())
                .always();
        client = server.createClient();
    }

    /** The user agent of the clients the operator under test uses, to tell its requests from the test's own. */
    static final String OPERATOR_USER_AGENT = "finops-operator-under-test";

    /** A client for an operator instance: its requests carry {@link #OPERATOR_USER_AGENT}. */
    KubernetesClient operatorClient() {
        return new KubernetesClientBuilder().withConfig(new ConfigBuilder().withMasterUrl(server.url("/")).withTrustCerts(true)
                .withNamespace("default").withUserAgent(OPERATOR_USER_AGENT).build()).build();
    }

    /** Every request the operator under test made so far. */
    List<RecordedRequest> operatorRequests() throws InterruptedException {
        return requests().stream().filter(r -> OPERATOR_USER_AGENT.equals(r.getHeader("User-Agent"))).toList();
    }

    MockCluster namespace(String name) {
        client.resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build()).create();
        return this;
    }

    /**
     * What {@code kubectl edit} does: one JSON Patch replacing {@code path} of the stored object with
     * {@code resource}'s value there. Unlike a GET and a PUT, it cannot lose a race with the operator's
     * status writes (409); unlike a merge patch, it replaces lists, on the mock as on a real server.
     */
    void edit(HasMetadata resource, String path) {
        com.fasterxml.jackson.databind.JsonNode tree = io.fabric8.kubernetes.client.utils.Serialization.jsonMapper().valueToTree(resource);
        com.fasterxml.jackson.databind.JsonNode value = tree.at(path);
        String patch = "[{\"op\":\"add\",\"path\":\"" + path + "\",\"value\":" + value + "}]";
        client.resource(resource).patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON), patch);
    }

    /** Every request received so far (in order). */
    synchronized List<RecordedRequest> requests() throws InterruptedException {
        RecordedRequest r;
        while ((r = server.takeRequest(1, TimeUnit.MILLISECONDS)) != null) {
            requests.add(r);
        }
        return List.copyOf(requests);
    }

    /** The requests that change something (POST, PUT, PATCH, DELETE), received since {@code from}. */
    List<RecordedRequest> writesSince(int from) throws InterruptedException {
        List<RecordedRequest> all = requests();
        return all.subList(Math.min(from, all.size()), all.size()).stream()
                .filter(r -> !"GET".equals(r.getMethod()))
                .filter(r -> !r.getPath().contains("selfsubjectrulesreviews") && !r.getPath().contains("/leases"))
                .toList();
    }

    @Override
    public void close() {
        client.close();
        server.destroy();
    }
}

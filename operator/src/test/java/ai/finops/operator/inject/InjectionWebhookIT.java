package ai.finops.operator.inject;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.crds.SecretKeyRef;
import ai.finops.testkit.TestCertificates;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.zjsonpatch.JsonPatch;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Base64;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The webhook's HTTPS endpoint called with real AdmissionReviews: the JSONPatch it answers, applied
 * to the pod as the API server would, gives exactly what {@code finops-operator inject} prints; an
 * injected pod and an opted-out pod get no patch; a pod it cannot inject is admitted with a warning.
 */
class InjectionWebhookIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path DIR = Path.of("src/test/resources/inject");

    InjectionWebhook webhook;
    HttpClient http;

    @BeforeEach
    void start(@TempDir Path tmp) throws Exception {
        start(tmp, SidecarSettings.defaults(), (namespace, mode) -> null);
    }

    /** A webhook on fresh certificates in {@code tmp}, and a client that trusts them. */
    void start(Path tmp, SidecarSettings settings, java.util.function.BiFunction<String, SidecarSettings.Mode, String> advice) throws Exception {
        if (webhook != null) {
            webhook.close();
        }
        TestCertificates.Certificate cert = TestCertificates.selfSigned("localhost", "127.0.0.1");
        Path certFile = cert.writeTo(tmp);
        webhook = new InjectionWebhook("127.0.0.1", 0, certFile, tmp.resolve("key.pem"), new SidecarInjector(settings),
                (namespace, name) -> "dev".equals(namespace) && "alice".equals(name) ? new SecretKeyRef("vk-alice", null) : null, advice);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("webhook", CertificateFactory.getInstance("X.509").generateCertificate(Files.newInputStream(certFile)));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        http = HttpClient.newBuilder().sslContext(ssl).build();
    }

    @AfterEach
    void stop() {
        webhook.close();
    }

    JsonNode review(JsonNode pod, String namespace) throws Exception {
        ObjectNode review = JSON.createObjectNode().put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
        ObjectNode request = review.putObject("request").put("uid", "705ab4f5-6393-11e8-b7cc-42010a800002").put("operation", "CREATE")
                .put("namespace", namespace);
        request.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
        request.set("object", pod);
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + webhook.port() + "/inject"))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(review.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode out = JSON.readTree(response.body());
        assertThat(out.path("kind").asText()).isEqualTo("AdmissionReview");
        assertThat(out.path("response").path("uid").asText()).isEqualTo("705ab4f5-6393-11e8-b7cc-42010a800002");
        assertThat(out.path("response").path("allowed").asBoolean()).isTrue();
        return out.path("response");
    }

    static JsonNode podJson(Path yaml) throws Exception {
        return Serialization.jsonMapper().valueToTree(Serialization.unmarshal(Files.readString(yaml), Pod.class));
    }

    static JsonNode apply(JsonNode pod, JsonNode response) throws Exception {
        assertThat(response.path("patchType").asText()).isEqualTo("JSONPatch");
        JsonNode patch = JSON.readTree(Base64.getDecoder().decode(response.path("patch").asText()));
        // read back as a Pod, as the API server stores it: a number in the patch (an int) then equals the model's (runAsUser, a long)
        return Serialization.jsonMapper().valueToTree(Serialization.jsonMapper().treeToValue(JsonPatch.apply(patch, pod), Pod.class));
    }

    @Test
    void thePatchAppliedToThePodIsWhatInjectPrints() throws Exception {
        JsonNode pod = podJson(DIR.resolve("dev-pod.yaml"));
        JsonNode patched = apply(pod, review(pod, "dev"));
        assertThat(patched).isEqualTo(podJson(DIR.resolve("dev-pod.out.yaml")));
        // reinvocation (reinvocationPolicy: IfNeeded) on the injected pod: nothing more
        assertThat(review(patched, "dev").has("patch")).isFalse();
    }

    @Test
    void optedOutAndUninjectablePodsAreAdmittedUnchanged() throws Exception {
        assertThat(review(podJson(DIR.resolve("opt-out.yaml")), "dev").has("patch")).isFalse();
        JsonNode unknownKey = podJson(DIR.resolve("dev-pod.yaml"));
        JsonNode response = review(unknownKey, "other-namespace");
        assertThat(response.has("patch")).isFalse();
        assertThat(response.path("allowed").asBoolean()).isTrue();
        assertThat(response.path("warnings").get(0).asText())
                .isEqualTo("finops: sidecar not injected: VirtualKey 'alice' not found, or it has no secretRef");
        // no shared gateway is configured here: a pod asking for via-gateway is told so, not given credentials
        JsonNode viaGateway = review(podJson(DIR.resolve("via-gateway.yaml")), "dev");
        assertThat(viaGateway.has("patch")).isFalse();
        assertThat(viaGateway.path("warnings").get(0).asText()).contains("via-gateway mode, but no shared gateway is configured");
    }

    @Test
    void aViaGatewayPodThatWillNotWorkAsItIsIsInjectedWithAWarning(@TempDir Path tmp) throws Exception {
        tmp = tmp.resolve("again");
        start(tmp, SidecarSettings.defaults().withMode(SidecarSettings.Mode.DIRECT, "http://finops-gateway.finops-system.svc:8080"),
                (namespace, mode) -> mode == SidecarSettings.Mode.VIA_GATEWAY ? "via-gateway: label namespace " + namespace : null);
        JsonNode viaGateway = review(podJson(DIR.resolve("via-gateway.yaml")), "dev");
        assertThat(apply(podJson(DIR.resolve("via-gateway.yaml")), viaGateway)).isEqualTo(podJson(DIR.resolve("via-gateway.out.yaml")));
        assertThat(viaGateway.path("warnings").get(0).asText()).isEqualTo("finops: via-gateway: label namespace dev");
        assertThat(review(podJson(DIR.resolve("dev-pod.yaml")), "dev").has("warnings")).as("direct pods need no label").isFalse();
    }

    @Test
    void aPodWithAnInitContainerGetsTheSidecarFirst() throws Exception {
        JsonNode pod = podJson(DIR.resolve("init-container.yaml"));
        JsonNode patched = apply(pod, review(pod, "dev"));
        assertThat(patched.path("spec").path("initContainers").get(0).path("name").asText()).isEqualTo("finops-gateway");
        assertThat(patched.path("spec").path("initContainers").get(1).path("name").asText()).isEqualTo("clone");
        assertThat(patched).isEqualTo(podJson(DIR.resolve("init-container.out.yaml")));
    }

}

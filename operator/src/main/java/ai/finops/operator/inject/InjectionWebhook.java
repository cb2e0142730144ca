package ai.finops.operator.inject;

import ai.finops.crds.SecretKeyRef;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.zjsonpatch.JsonDiff;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.function.BiFunction;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mutating admission webhook: {@code POST /inject} takes an {@code admission.k8s.io/v1}
 * AdmissionReview of a Pod and answers with a JSONPatch that injects the gateway sidecar, computed
 * by the same {@link SidecarInjector} as {@code finops-operator inject}. It always allows the pod: a
 * pod it cannot inject (no VirtualKey, opted out) is admitted unchanged with a warning, and
 * reinvocation finds an injected pod and changes nothing. Served over HTTPS with the certificate
 * and key given as PEM files (cert-manager's {@code tls.crt}/{@code tls.key}).
 */
public final class InjectionWebhook implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(InjectionWebhook.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpsServer server;
    private final SidecarInjector injector;
    private final BiFunction<String, String, SecretKeyRef> virtualKeys;
    private final BiFunction<String, SidecarSettings.Mode, String> advice;

    /** @param virtualKeys the Secret key of a VirtualKey's token, by namespace and VirtualKey name; null when unknown */
    public InjectionWebhook(String bind, int port, Path certificatePem, Path privateKeyPem, SidecarInjector injector,
            BiFunction<String, String, SecretKeyRef> virtualKeys) throws Exception {
        this(bind, port, certificatePem, privateKeyPem, injector, virtualKeys, (namespace, mode) -> null);
    }

    /**
     * @param advice a warning for a pod injected in a namespace with a mode, when the pod will not work
     *     as it is (a via-gateway pod whose namespace the shared gateway does not take keys from); else null
     */
    public InjectionWebhook(String bind, int port, Path certificatePem, Path privateKeyPem, SidecarInjector injector,
            BiFunction<String, String, SecretKeyRef> virtualKeys, BiFunction<String, SidecarSettings.Mode, String> advice) throws Exception {
        this.injector = injector;
        this.virtualKeys = virtualKeys;
        this.advice = advice;
        server = HttpsServer.create(new InetSocketAddress(bind, port), 64);
        server.setHttpsConfigurator(new HttpsConfigurator(sslContext(certificatePem, privateKeyPem)));
        server.createContext("/inject", this::inject);
        server.createContext("/healthz", ex -> respond(ex, 200, "text/plain", "ok\n".getBytes(StandardCharsets.UTF_8)));
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void inject(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!"POST".equals(exchange.getRequestMethod())) {
                respond(exchange, 405, "text/plain", "POST an AdmissionReview\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            JsonNode review = JSON.readTree(exchange.getRequestBody());
            JsonNode request = review.path("request");
            ObjectNode response = JSON.createObjectNode().put("uid", request.path("uid").asText()).put("allowed", true);
            try {
                java.util.List<String> warnings = new java.util.ArrayList<>();
                String patch = patch(request, warnings);
                if (patch != null) {
                    response.put("patchType", "JSONPatch").put("patch", Base64.getEncoder().encodeToString(patch.getBytes(StandardCharsets.UTF_8)));
                }
                warnings.forEach(w -> response.withArray("warnings").add("finops: " + w));
            } catch (NotInjected e) {
                response.putArray("warnings").add("finops: sidecar not injected: " + e.getMessage());
            } catch (RuntimeException e) {
                // never block a pod: admit it unchanged and say why
                LOG.atWarn().addKeyValue("uid", request.path("uid").asText()).setCause(e).log("injection failed; the pod is admitted unchanged");
                response.putArray("warnings").add("finops: sidecar not injected: " + e.getMessage());
            }
            ObjectNode out = JSON.createObjectNode().put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
            out.set("response", response);
            respond(exchange, 200, "application/json", JSON.writeValueAsBytes(out));
        }
    }

    /** The JSONPatch for a Pod admission request, or null when nothing changes; {@code warnings} gains what the user should know. */
    String patch(JsonNode request, java.util.List<String> warnings) throws IOException {
        JsonNode object = request.path("object");
        if (!"Pod".equals(object.path("kind").asText("Pod")) || object.isMissingNode()) {
            return null;
        }
        Pod pod = Serialization.unmarshal(new ByteArrayInputStream(JSON.writeValueAsBytes(object)), Pod.class);
        JsonNode before = Serialization.jsonMapper().valueToTree(pod);
        if (pod.getMetadata().getAnnotations() == null) {
            pod.getMetadata().setAnnotations(new LinkedHashMap<>());
        }
        String namespace = request.path("namespace").asText(pod.getMetadata().getNamespace());
        SidecarInjector.Outcome outcome = injector.inject(pod.getSpec(), pod.getMetadata().getLabels(), pod.getMetadata().getAnnotations(),
                name -> virtualKeys.apply(namespace, name));
        LOG.atInfo().addKeyValue("namespace", namespace).addKeyValue("pod", pod.getMetadata().getName() != null ? pod.getMetadata().getName()
                : pod.getMetadata().getGenerateName()).log(outcome.reason());
        if (outcome.problem()) {
            throw new NotInjected(outcome.reason());
        }
        if (!outcome.injected()) {
            return null;
        }
        String warning = advice.apply(namespace, outcome.mode());
        if (warning != null) {
            warnings.add(warning);
        }
        JsonNode after = Serialization.jsonMapper().valueToTree(pod);
        ArrayNode patch = (ArrayNode) JsonDiff.asJson(before, after);
        return patch.isEmpty() ? null : patch.toString();
    }

    /** The pod asked for the sidecar and cannot have it: admitted unchanged, with the reason as a warning. */
    private static final class NotInjected extends RuntimeException {
        NotInjected(String reason) {
            super(reason, null, false, false);
        }
    }

    private static void respond(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("content-type", contentType);
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    static SSLContext sslContext(Path certificatePem, Path privateKeyPem) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(new javax.net.ssl.KeyManager[] {new ReloadingKeyManager(certificatePem, privateKeyPem)}, null, null);
        return context;
    }

    /** A key store with the PEM certificate chain and its PKCS#8 EC or RSA key. */
    static KeyStore keyStore(Path certificatePem, Path privateKeyPem) throws Exception {
        Certificate[] chain;
        try (var in = Files.newInputStream(certificatePem)) {
            chain = CertificateFactory.getInstance("X.509").generateCertificates(in).toArray(Certificate[]::new);
        }
        String pem = Files.readString(privateKeyPem).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        byte[] der = Base64.getDecoder().decode(pem);
        PrivateKey key;
        try {
            key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (java.security.spec.InvalidKeySpecException e) {
            key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("webhook", key, new char[0], chain);
        return store;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

package ai.finops.operator;

import ai.finops.crds.VirtualKey;
import ai.finops.crds.validation.ResourceValidator;
import ai.finops.operator.bundle.Names;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The Secret a VirtualKey names but nobody created: the operator generates it with a random token,
 * owned by the VirtualKey (deleted with it), and never touches it again, so the user can read the
 * token with {@code kubectl get secret} and rotate it by editing the Secret. A Secret that exists is
 * never modified, even when it lacks the key: that is reported on the VirtualKey's status.
 */
final class VirtualKeySecrets {
    private static final SecureRandom RANDOM = new SecureRandom();

    private VirtualKeySecrets() {}

    /** A new token: {@code vk-} and 256 random bits, URL-safe. */
    static String newToken() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return "vk-" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** Creates the VirtualKey's Secret when it names one that does not exist; returns it, or null when nothing was created. */
    static Secret generateIfMissing(KubernetesClient client, VirtualKey vk, Map<String, Secret> existing, Supplier<String> tokens) {
        if (vk.getSpec() == null || vk.getSpec().secretRef == null || vk.getSpec().tokenSha256 != null) {
            return null;
        }
        String name = vk.getSpec().secretRef.name;
        if (name == null || ResourceValidator.checkName(name, false) != null || existing.containsKey(name)) {
            return null;
        }
        Map<String, String> labels = new HashMap<>(BundleReconciler.ownLabels());
        labels.put(Names.VIRTUAL_KEY_LABEL, vk.getMetadata().getName());
        Secret secret = new SecretBuilder()
                .withMetadata(new ObjectMetaBuilder().withName(name).withNamespace(vk.getMetadata().getNamespace()).withLabels(labels)
                        .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(vk.getApiVersion()).withKind(vk.getKind())
                                .withName(vk.getMetadata().getName()).withUid(vk.getMetadata().getUid())
                                .withController(true).withBlockOwnerDeletion(false).build())
                        .build())
                .withType("Opaque")
                .withData(Map.of(BundleReconciler.tokenKey(vk),
                        Base64.getEncoder().encodeToString(tokens.get().getBytes(StandardCharsets.UTF_8))))
                .build();
        try {
            return client.resource(secret).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
                return null;   // created meanwhile (by the user, or seen late by the cache): never overwrite it
            }
            throw e;
        }
    }
}

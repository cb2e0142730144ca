package ai.finops.operator.inject;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.ByteArrayInputStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook's TLS without cert-manager: the leader keeps a Secret ({@code kubernetes.io/tls}) with
 * a self-signed CA ({@code ca.crt}) and a serving certificate for the webhook Service's DNS names
 * ({@code tls.crt}, {@code tls.key}), issues them again {@link #RENEW_BEFORE} before they expire, and
 * keeps the MutatingWebhookConfiguration's {@code caBundle} equal to the CA. The webhook server
 * reloads the mounted files as kubelet updates them.
 */
public final class WebhookCertificates {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookCertificates.class);
    static final Duration VALIDITY = Duration.ofDays(365);
    static final Duration RENEW_BEFORE = Duration.ofDays(30);

    /** Where the certificate lives and whom it serves. */
    public record Target(String namespace, String secretName, String serviceName, String webhookConfiguration) {}

    private final KubernetesClient client;
    private final Target target;
    private final Clock clock;

    public WebhookCertificates(KubernetesClient client, Target target, Clock clock) {
        this.client = client;
        this.target = target;
        this.clock = clock;
    }

    /** Issues or renews the certificate when needed and keeps the caBundle in step; returns true when the Secret was written. */
    public boolean reconcile() throws Exception {
        Secret secret = client.secrets().inNamespace(target.namespace()).withName(target.secretName()).get();
        boolean issue = secret == null || secret.getData() == null || !secret.getData().containsKey("tls.crt")
                || !secret.getData().containsKey("ca.crt") || expiresSoon(secret.getData().get("tls.crt"));
        if (issue) {
            secret = client.resource(issue()).createOr(NonDeletingOperation::update);
            LOG.atInfo().addKeyValue("secret", target.secretName()).log("issued the webhook's CA and serving certificate");
        }
        String caBundle = secret.getData().get("ca.crt");   // base64 of the PEM, as caBundle wants it
        MutatingWebhookConfiguration config = client.admissionRegistration().v1().mutatingWebhookConfigurations()
                .withName(target.webhookConfiguration()).get();
        if (config != null) {
            List<String> ops = new ArrayList<>();
            List<MutatingWebhook> webhooks = config.getWebhooks();
            for (int i = 0; i < webhooks.size(); i++) {
                if (!caBundle.equals(webhooks.get(i).getClientConfig().getCaBundle())) {
                    ops.add("{\"op\":\"add\",\"path\":\"/webhooks/" + i + "/clientConfig/caBundle\",\"value\":\"" + caBundle + "\"}");
                }
            }
            if (!ops.isEmpty()) {
                client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(target.webhookConfiguration())
                        .patch(PatchContext.of(PatchType.JSON), "[" + String.join(",", ops) + "]");
                LOG.atInfo().addKeyValue("webhook_configuration", target.webhookConfiguration()).log("caBundle updated");
            }
        }
        return issue;
    }

    private boolean expiresSoon(String base64Pem) throws Exception {
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Base64.getDecoder().decode(base64Pem)));
        return cert.getNotAfter().toInstant().isBefore(clock.instant().plus(RENEW_BEFORE));
    }

    private Secret issue() throws Exception {
        Instant now = clock.instant();
        KeyPair caKeys = keys();
        X500Name caName = new X500Name("CN=finops-webhook-ca");
        JcaX509v3CertificateBuilder ca = new JcaX509v3CertificateBuilder(caName, serial(), Date.from(now.minus(Duration.ofMinutes(5))),
                Date.from(now.plus(VALIDITY.multipliedBy(2))), caName, caKeys.getPublic());
        ca.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        ca.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        X509Certificate caCert = convert(ca.build(signer(caKeys)));

        KeyPair keys = keys();
        String service = target.serviceName() + "." + target.namespace() + ".svc";
        JcaX509v3CertificateBuilder leaf = new JcaX509v3CertificateBuilder(caName, serial(), Date.from(now.minus(Duration.ofMinutes(5))),
                Date.from(now.plus(VALIDITY)), new X500Name("CN=" + service), keys.getPublic());
        leaf.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, target.serviceName()),
                new GeneralName(GeneralName.dNSName, target.serviceName() + "." + target.namespace()),
                new GeneralName(GeneralName.dNSName, service),
                new GeneralName(GeneralName.dNSName, service + ".cluster.local")}));
        leaf.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        X509Certificate cert = convert(leaf.build(signer(caKeys)));

        return new SecretBuilder().withNewMetadata().withName(target.secretName()).withNamespace(target.namespace())
                .withLabels(Map.of("app.kubernetes.io/managed-by", "finops-operator")).endMetadata()
                .withType("kubernetes.io/tls")
                .withData(Map.of("tls.crt", base64(pem(cert)), "tls.key", base64(pkcs8Pem(keys)), "ca.crt", base64(pem(caCert))))
                .build();
    }

    private static KeyPair keys() throws Exception {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        return gen.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(64, new SecureRandom());
    }

    private static ContentSigner signer(KeyPair keys) throws Exception {
        return new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate());
    }

    private static X509Certificate convert(X509CertificateHolder holder) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(holder);
    }

    private static String pem(Object object) throws Exception {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
        return out.toString();
    }

    private static String pkcs8Pem(KeyPair keys) {
        return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(keys.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
    }

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }
}

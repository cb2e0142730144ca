package ai.finops.operator;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.operator.inject.InjectionWebhook;
import ai.finops.operator.inject.SidecarInjector;
import ai.finops.operator.inject.SidecarSettings;
import ai.finops.operator.inject.WebhookCertificates;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The webhook's certificate without cert-manager: issued, put in the caBundle, renewed before expiry, served. */
class WebhookCertificatesIT {
    static final WebhookCertificates.Target TARGET = new WebhookCertificates.Target("finops-system", "finops-webhook-tls", "finops-webhook",
            "finops-webhook");

    static X509Certificate cert(String base64Pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(Base64.getDecoder().decode(base64Pem)));
    }

    @Test
    void issuedIntoASecretTrustedThroughTheCaBundleAndRenewedBeforeExpiry(@TempDir Path tmp) throws Exception {
        try (MockCluster cluster = new MockCluster().namespace("finops-system")) {
            var client = cluster.client;
            client.resource(new MutatingWebhookConfigurationBuilder().withNewMetadata().withName("finops-webhook").endMetadata()
                    .addNewWebhook().withName("namespace.inject.finops.ai").withNewClientConfig().withNewService().withName("finops-webhook")
                    .withNamespace("finops-system").withPath("/inject").endService().endClientConfig().endWebhook()
                    .addNewWebhook().withName("pod.inject.finops.ai").withNewClientConfig().withNewService().withName("finops-webhook")
                    .withNamespace("finops-system").withPath("/inject").endService().endClientConfig().endWebhook().build()).create();
            Instant now = Instant.now();
            WebhookCertificates manager = new WebhookCertificates(client, TARGET, Clock.fixed(now, ZoneOffset.UTC));
            assertThat(manager.reconcile()).isTrue();
            Secret secret = client.secrets().inNamespace("finops-system").withName("finops-webhook-tls").get();
            assertThat(secret.getType()).isEqualTo("kubernetes.io/tls");
            X509Certificate serving = cert(secret.getData().get("tls.crt"));
            X509Certificate ca = cert(secret.getData().get("ca.crt"));
            serving.verify(ca.getPublicKey());
            assertThat(serving.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList())
                    .contains("finops-webhook.finops-system.svc", "finops-webhook.finops-system.svc.cluster.local");
            MutatingWebhookConfiguration config = client.admissionRegistration().v1().mutatingWebhookConfigurations().withName("finops-webhook").get();
            assertThat(config.getWebhooks()).allSatisfy(w -> assertThat(w.getClientConfig().getCaBundle()).isEqualTo(secret.getData().get("ca.crt")));

            // nothing to do while the certificate is fresh
            assertThat(manager.reconcile()).isFalse();
            // 340 days on, within 30 days of expiry: issued again, caBundle follows
            WebhookCertificates later = new WebhookCertificates(client, TARGET, Clock.fixed(now.plus(Duration.ofDays(340)), ZoneOffset.UTC));
            assertThat(later.reconcile()).isTrue();
            Secret renewed = client.secrets().inNamespace("finops-system").withName("finops-webhook-tls").get();
            assertThat(renewed.getData().get("tls.crt")).isNotEqualTo(secret.getData().get("tls.crt"));
            assertThat(client.admissionRegistration().v1().mutatingWebhookConfigurations().withName("finops-webhook").get().getWebhooks())
                    .allSatisfy(w -> assertThat(w.getClientConfig().getCaBundle()).isEqualTo(renewed.getData().get("ca.crt")));

            // the webhook serves with the files of the first issue, trusted through its CA (a renewed one is valid from 340 days on)
            Path cert = Files.write(tmp.resolve("tls.crt"), Base64.getDecoder().decode(secret.getData().get("tls.crt")));
            Path key = Files.write(tmp.resolve("tls.key"), Base64.getDecoder().decode(secret.getData().get("tls.key")));
            try (InjectionWebhook webhook = new InjectionWebhook("127.0.0.1", 0, cert, key, new SidecarInjector(SidecarSettings.defaults()),
                    (ns, name) -> null)) {
                KeyStore trust = KeyStore.getInstance("PKCS12");
                trust.load(null, null);
                trust.setCertificateEntry("ca", cert(secret.getData().get("ca.crt")));
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trust);
                SSLContext ssl = SSLContext.getInstance("TLS");
                ssl.init(null, tmf.getTrustManagers(), null);
                // the certificate names the Service, not 127.0.0.1: the handshake checks the chain against caBundle's CA
                try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) ssl.getSocketFactory().createSocket("127.0.0.1", webhook.port())) {
                    socket.startHandshake();
                    assertThat(socket.getSession().getPeerCertificates()[0]).isEqualTo(cert(secret.getData().get("tls.crt")));
                }
            }
        }
    }
}

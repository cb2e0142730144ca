package ai.finops.gateway.upstream;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;

/**
 * Client TLS contexts for upstreams: hostname verification always on; the JVM's trust store, or
 * the certificates of a deployment's {@code tls.caPem}. Cached by trust material, so a reload that
 * changes nothing keeps the same context and with it the pooled connections.
 */
public final class TlsContexts {
    private static final String DEFAULT = "";
    private final Map<String, SslContext> cache = new ConcurrentHashMap<>();

    public SslContext forCa(String caPem) {
        String key = caPem == null || caPem.isBlank() ? DEFAULT : caPem;
        return cache.computeIfAbsent(key, TlsContexts::build);
    }

    private static SslContext build(String caPem) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient()
                    .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                    .endpointIdentificationAlgorithm("HTTPS");
            if (!caPem.isEmpty()) {
                b.trustManager(certificates(caPem));
            }
            return b.build();
        } catch (SSLException | CertificateException e) {
            throw new IllegalArgumentException("cannot build a TLS context: " + e.getMessage(), e);
        }
    }

    static X509Certificate[] certificates(String pem) throws CertificateException {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        return factory.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))).stream()
                .map(X509Certificate.class::cast)
                .toArray(X509Certificate[]::new);
    }
}

package ai.finops.testkit;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Self-signed certificates, and certificates they issue, with subject alternative names, for TLS tests on loopback. */
public final class TestCertificates {
    private TestCertificates() {}

    /** A certificate and its PKCS#8 private key, both PEM. */
    public record Certificate(String certificatePem, String privateKeyPem) {
        /** Writes {@code cert.pem} and {@code key.pem} into {@code dir}; returns the certificate's path. */
        public Path writeTo(Path dir) throws IOException {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("key.pem"), privateKeyPem);
            return Files.writeString(dir.resolve("cert.pem"), certificatePem);
        }
    }

    /** A self-signed (CA) certificate valid for each DNS name or IP address given. */
    public static Certificate selfSigned(String... namesAndIps) {
        return issue(null, namesAndIps);
    }

    /**
     * A certificate for each DNS name or IP address given, issued by {@code ca} (a {@link #selfSigned}
     * one): what a server rotating to a new certificate of the same CA presents.
     */
    public static Certificate signedBy(Certificate ca, String... namesAndIps) {
        return issue(ca, namesAndIps);
    }

    private static Certificate issue(Certificate ca, String... namesAndIps) {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair pair = gen.generateKeyPair();
            X500Name subject = new X500Name("CN=" + namesAndIps[0]);
            X500Name issuer = ca == null ? subject : new X500Name(certificate(ca).getSubjectX500Principal().getName());
            PrivateKey signer = ca == null ? pair.getPrivate()
                    : KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der(ca.privateKeyPem())));
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, new BigInteger(64, new SecureRandom()),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(30))), subject, pair.getPublic());
            List<GeneralName> names = new ArrayList<>();
            for (String n : namesAndIps) {
                boolean ip = n.matches("[0-9.]+") || n.contains(":");
                names.add(ip ? new GeneralName(GeneralName.iPAddress, InetAddress.getByName(n).getHostAddress())
                        : new GeneralName(GeneralName.dNSName, n));
            }
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca == null));
            X509Certificate cert = new JcaX509CertificateConverter()
                    .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
            return new Certificate(pem("CERTIFICATE", cert.getEncoded()), pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        } catch (Exception e) {
            throw new IllegalStateException("cannot make a test certificate: " + e.getMessage(), e);
        }
    }

    private static X509Certificate certificate(Certificate c) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(c.certificatePem().getBytes(StandardCharsets.US_ASCII)));
    }

    private static byte[] der(String pem) {
        return Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}

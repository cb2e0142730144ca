package ai.finops.gateway.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A serving certificate chain and its private key, read from PEM files ({@code tls.crt} and
 * {@code tls.key} of a cert-manager Secret) and checked before use: both readable, the key PKCS#8,
 * and the key the one the certificate was issued for. A pair that fails is refused with a message
 * naming the file and the problem, so that neither the validate command nor a reload ever hands
 * the server a pair it would only fail on at the first handshake.
 *
 * @param key   the private key
 * @param chain the serving certificate first, then any intermediates
 */
public record CertificatePair(PrivateKey key, X509Certificate[] chain) {
    private static final Pattern PKCS8 = Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");
    /** The signature proving that a key belongs to a certificate, by the certificate's key algorithm. */
    private static final Map<String, String> PROOF = Map.of("EC", "SHA256withECDSA", "RSA", "SHA256withRSA",
            "Ed25519", "Ed25519", "EdDSA", "Ed25519");

    /** Reads and checks the pair; an {@link IllegalArgumentException} says which file is wrong and how. */
    public static CertificatePair read(Path certFile, Path keyFile) {
        X509Certificate[] chain = certificates(certFile, text(certFile));
        PrivateKey key = privateKey(keyFile, text(keyFile), chain[0].getPublicKey().getAlgorithm());
        if (!belongTogether(key, chain[0])) {
            throw new IllegalArgumentException(keyFile + " is not the private key of the certificate in " + certFile);
        }
        return new CertificatePair(key, chain);
    }

    private static String text(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + " does not exist");
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null || e.getMessage().equals(file.toString()) ? "" : " " + e.getMessage()));
        }
    }

    private static X509Certificate[] certificates(Path file, String pem) {
        try {
            X509Certificate[] chain = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))).stream()
                    .map(X509Certificate.class::cast).toArray(X509Certificate[]::new);
            if (chain.length == 0) {
                throw new IllegalArgumentException(file + " holds no PEM certificate");
            }
            return chain;
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(file + " holds no PEM certificate: " + e.getMessage());
        }
    }

    private static PrivateKey privateKey(Path file, String pem, String algorithm) {
        Matcher m = PKCS8.matcher(pem);
        if (!m.find()) {
            throw new IllegalArgumentException(file + " holds no PKCS#8 private key (-----BEGIN PRIVATE KEY-----; "
                    + "cert-manager writes one with privateKey.encoding: PKCS8)");
        }
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(m.group(1))));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException(file + " holds no " + algorithm + " private key, as the certificate's is: " + e.getMessage());
        }
    }

    private static boolean belongTogether(PrivateKey key, X509Certificate certificate) {
        String algorithm = PROOF.get(key.getAlgorithm());
        if (algorithm == null) {
            return true;    // a key type we cannot test: the handshake will tell
        }
        try {
            byte[] probe = "finops-gateway".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}

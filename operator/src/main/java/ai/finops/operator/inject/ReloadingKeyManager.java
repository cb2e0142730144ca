package ai.finops.operator.inject;

import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook's certificate and key read from mounted PEM files, and read again when kubelet swaps
 * them (a renewal by the operator or by cert-manager), so the server never needs a restart. Until the
 * files exist (the Secret is created after the pod starts) handshakes fail; the API server then
 * applies the webhook's failure policy.
 */
final class ReloadingKeyManager extends X509ExtendedKeyManager {
    private static final Logger LOG = LoggerFactory.getLogger(ReloadingKeyManager.class);
    private static final long CHECK_NANOS = 2_000_000_000L;

    private final Path certificate;
    private final Path key;
    private volatile X509ExtendedKeyManager delegate;
    private volatile FileTime loadedCertificateTime;
    private volatile FileTime loadedKeyTime;
    private volatile long lastCheck;

    ReloadingKeyManager(Path certificate, Path key) {
        this.certificate = certificate;
        this.key = key;
        reloadIfChanged();
    }

    private X509ExtendedKeyManager current() {
        long now = System.nanoTime();
        if (now - lastCheck > CHECK_NANOS) {
            lastCheck = now;
            reloadIfChanged();
        }
        return delegate;
    }

    private synchronized void reloadIfChanged() {
        try {
            if (!Files.exists(certificate) || !Files.exists(key)) {
                return;
            }
            FileTime certTime = Files.getLastModifiedTime(certificate);
            FileTime keyTime = Files.getLastModifiedTime(key);
            if (delegate != null && certTime.equals(loadedCertificateTime) && keyTime.equals(loadedKeyTime)) {
                return;
            }
            KeyStore store = InjectionWebhook.keyStore(certificate, key);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, new char[0]);
            delegate = (X509ExtendedKeyManager) kmf.getKeyManagers()[0];
            loadedCertificateTime = certTime;
            loadedKeyTime = keyTime;
            LOG.atInfo().addKeyValue("certificate", certificate).log("webhook certificate loaded");
        } catch (Exception e) {
            LOG.atWarn().addKeyValue("certificate", certificate).setCause(e).log("cannot load the webhook certificate; keeping the previous one");
        }
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        X509ExtendedKeyManager d = current();
        return d == null ? null : d.getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        X509ExtendedKeyManager d = current();
        return d == null ? null : d.chooseClientAlias(keyType, issuers, socket);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        X509ExtendedKeyManager d = current();
        return d == null ? null : d.getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        X509ExtendedKeyManager d = current();
        return d == null ? null : d.chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        X509ExtendedKeyManager d = current();
        return d == null ? null : d.chooseEngineServerAlias(keyType, issuers, engine);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        X509ExtendedKeyManager d = current();
        return d == null ? null : d.chooseEngineClientAlias(keyType, issuers, engine);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        X509ExtendedKeyManager d = delegate;
        return d == null ? null : d.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        X509ExtendedKeyManager d = delegate;
        return d == null ? null : d.getPrivateKey(alias);
    }
}

package ai.finops.gateway.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's own serving certificate, for its API port (and, with {@code tls.operations}, its
 * operations port). Each new connection takes the context current when it is accepted, so a
 * renewed pair (cert-manager rewriting the mounted Secret) serves the next connection while open
 * ones keep theirs: nothing is dropped. A pair that does not load is logged and the previous one
 * kept, as the operator's webhook does with its certificate.
 */
public final class ServerTls {
    private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);

    private final Path certFile;
    private final Path keyFile;
    private volatile SslContext context;
    private byte[] loaded;

    /** Loads the pair; an {@link IllegalArgumentException} names the file and the problem when it cannot serve. */
    public ServerTls(Path certFile, Path keyFile) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.loaded = contents();
        CertificatePair pair = CertificatePair.read(certFile, keyFile);
        this.context = build(pair);
        LOG.atInfo().addKeyValue("certificate", certFile).addKeyValue("provider", provider())
                .addKeyValue("not_after", pair.chain()[0].getNotAfter().toInstant()).log("serving TLS");
    }

    /** The folders holding the pair: the ones to watch for a renewal. */
    public java.util.List<Path> folders() {
        return java.util.stream.Stream.of(certFile, keyFile).map(f -> f.toAbsolutePath().getParent()).distinct().toList();
    }

    /** A handler for a connection just accepted, with the pair current now. */
    public SslHandler newHandler(ByteBufAllocator alloc) {
        return context.newHandler(alloc);
    }

    /** Loads the files again when their content changed; a pair that fails is logged, and the one serving stays. */
    public synchronized void reloadIfChanged() {
        byte[] files;
        try {
            files = contents();
        } catch (IllegalArgumentException e) {
            LOG.atError().addKeyValue("certificate", certFile).addKeyValue("error", e.getMessage())
                    .log("TLS certificate rejected; still serving the previous one");
            return;
        }
        if (Arrays.equals(files, loaded)) {
            return;
        }
        loaded = files;     // a rejected pair is reported once, not at every poll
        try {
            CertificatePair pair = CertificatePair.read(certFile, keyFile);
            context = build(pair);
            LOG.atInfo().addKeyValue("certificate", certFile).addKeyValue("not_after", pair.chain()[0].getNotAfter().toInstant())
                    .log("TLS certificate reloaded; new connections get it");
        } catch (IllegalArgumentException e) {
            LOG.atError().addKeyValue("certificate", certFile).addKeyValue("error", e.getMessage())
                    .log("TLS certificate rejected; still serving the previous one");
        }
    }

    private byte[] contents() {
        try {
            byte[] cert = Files.readAllBytes(certFile);
            byte[] key = Files.readAllBytes(keyFile);
            byte[] both = Arrays.copyOf(cert, cert.length + key.length);
            System.arraycopy(key, 0, both, cert.length, key.length);
            return both;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + certFile + " or " + keyFile + ": " + e.getMessage());
        }
    }

    private static SslProvider provider() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** HTTP/1.1 only, said by ALPN too, so a client offering h2 settles on http/1.1. */
    private static SslContext build(CertificatePair pair) {
        try {
            return SslContextBuilder.forServer(pair.key(), pair.chain())
                    .sslProvider(provider())
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_1_1))
                    .build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot serve the certificate: " + e.getMessage(), e);
        }
    }
}

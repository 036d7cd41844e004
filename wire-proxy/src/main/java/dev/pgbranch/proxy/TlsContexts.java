package dev.pgbranch.proxy;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Builds the server {@link SslContext} of the proxy: from the configured PEM certificate chain and
 * PKCS#8 key, or from a self-signed P-256 certificate generated in memory at start (enough for
 * {@code sslmode=require}; {@code verify-full} needs a configured certificate). TLS 1.2 and 1.3 only.
 *
 * <p>Stateless; thread-safe.
 */
final class TlsContexts {

    private TlsContexts() {
    }

    static SslContext server(ProxyConfig config) throws IOException {
        try {
            SslContextBuilder builder;
            if (config.tlsCertificate() != null) {
                builder = SslContextBuilder.forServer(config.tlsCertificate().toFile(), config.tlsPrivateKey().toFile());
            } else {
                KeyPair pair = newKeyPair();
                builder = SslContextBuilder.forServer(pair.getPrivate(), selfSigned(pair, "pgbranch-proxy"));
            }
            return builder.sslProvider(SslProvider.JDK).protocols("TLSv1.3", "TLSv1.2").build();
        } catch (GeneralSecurityException | OperatorCreationException | IllegalArgumentException e) {
            throw new IOException("cannot set up TLS for the proxy: " + e.getMessage(), e);
        }
    }

    static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    /** A one-year self-signed certificate for {@code commonName}, also valid for localhost and 127.0.0.1. */
    static X509Certificate selfSigned(KeyPair pair, String commonName)
            throws GeneralSecurityException, OperatorCreationException, IOException {
        X500Name name = new X500Name("CN=" + commonName);
        Instant now = Instant.now();
        X509v3CertificateBuilder cert = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new SecureRandom()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(365))), name, pair.getPublic());
        cert.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        return new JcaX509CertificateConverter().getCertificate(
                cert.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
    }
}

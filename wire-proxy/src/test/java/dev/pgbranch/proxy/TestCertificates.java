package dev.pgbranch.proxy;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Writes a test CA and a server certificate it signed (localhost, *.pgbranch.test, 127.0.0.1) as PEM files. */
final class TestCertificates {

    final Path caCertificate;
    final Path serverCertificate;
    final Path serverKey;

    TestCertificates(Path dir) throws Exception {
        KeyPair caKeys = TlsContexts.newKeyPair();
        X500Name caName = new X500Name("CN=pgbranch test CA");
        Instant now = Instant.now();
        var ca = new JcaX509v3CertificateBuilder(caName, BigInteger.ONE, Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(2))), caName, caKeys.getPublic());
        ca.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        X509Certificate caCert = new JcaX509CertificateConverter()
                .getCertificate(ca.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate())));

        KeyPair serverKeys = TlsContexts.newKeyPair();
        var server = new JcaX509v3CertificateBuilder(caName, new BigInteger(64, new SecureRandom()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))),
                new X500Name("CN=localhost"), serverKeys.getPublic());
        server.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.dNSName, "*.pgbranch.test"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        X509Certificate serverCert = new JcaX509CertificateConverter()
                .getCertificate(server.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate())));

        caCertificate = dir.resolve("ca.pem");
        serverCertificate = dir.resolve("server.pem");
        serverKey = dir.resolve("server.key");
        pem(caCertificate, caCert);
        pem(serverCertificate, serverCert);
        pem(serverKey, new JcaPKCS8Generator(serverKeys.getPrivate(), null).generate());
    }

    private static void pem(Path file, Object o) throws IOException {
        try (Writer w = Files.newBufferedWriter(file); JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(o);
        }
    }
}

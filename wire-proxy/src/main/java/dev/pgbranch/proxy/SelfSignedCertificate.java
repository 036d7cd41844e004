package dev.pgbranch.proxy;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;

/**
 * Writes a self-signed certificate (P-256, one year, valid for localhost and 127.0.0.1) and its
 * PKCS#8 key as PEM files, for a server that must present one certificate from two places: the
 * proxy's TLS termination and the computes' own TLS on handed-off branch ports. Both files are
 * created 0600 and written to temporary names first, so a crash leaves either both or neither.
 *
 * <p>Stateless; thread-safe.
 */
public final class SelfSignedCertificate {

    private SelfSignedCertificate() {
    }

    /** Creates {@code certificate} and {@code key}; fails if either exists. */
    public static void write(Path certificate, Path key, String commonName) throws IOException {
        if (Files.exists(certificate) || Files.exists(key)) {
            throw new IOException("refusing to overwrite " + certificate + " or " + key);
        }
        try {
            KeyPair pair = TlsContexts.newKeyPair();
            Path keyTmp = pem(key, new JcaPKCS8Generator(pair.getPrivate(), null).generate());
            Path certTmp = pem(certificate, TlsContexts.selfSigned(pair, commonName));
            Files.move(keyTmp, key, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.move(certTmp, certificate, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot generate a self-signed certificate: " + e.getMessage(), e);
        }
    }

    private static Path pem(Path target, Object value) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
             JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(value);
        }
        try (var channel = java.nio.channels.FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        return tmp;
    }
}

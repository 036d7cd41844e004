package dev.pgbranch.pageserver.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad proxy options of {@code pgbranch server} are refused before anything starts. */
class ServerCommandTest {

    @TempDir
    Path dir;

    private String refused(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        assertEquals(CliException.USAGE, code, err.toString());
        assertFalse(Files.exists(dir.resolve("data")), "nothing was created");
        return err.toString();
    }

    @Test
    void badProxyPortIdleTimeoutAndHalfATlsPairAreUsageErrors() throws Exception {
        String data = dir.resolve("data").toString();
        assertTrue(refused("server", "--data-dir", data, "--proxy-port", "70000").contains("--proxy-port"));
        assertTrue(refused("server", "--data-dir", data, "--idle-timeout", "soon").contains("cannot read duration 'soon'"));
        assertTrue(refused("server", "--data-dir", data, "--idle-timeout", "0s").contains("must be positive"));
        Path cert = Files.writeString(dir.resolve("cert.pem"), "not really");
        assertTrue(refused("server", "--data-dir", data, "--tls-cert", cert.toString()).contains("go together"));
        assertTrue(refused("server", "--data-dir", data, "--tls-cert", cert.toString(), "--tls-key",
                dir.resolve("missing.pem").toString()).contains("cannot read"));
    }
}

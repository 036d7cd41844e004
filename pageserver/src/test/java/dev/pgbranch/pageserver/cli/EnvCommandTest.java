package dev.pgbranch.pageserver.cli;

import dev.pgbranch.pageserver.testing.ServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.pgbranch.pageserver.testing.Sql.psql;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pgbranch env} the way an app developer uses it: the launcher writes the branch's URL into
 * the app's {@code .env} (created 0600, then updated in place next to the app's other settings),
 * and psql connects with exactly what the file says.
 */
@Tag("integration")
class EnvCommandTest {

    private ServerProcess server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void envWritesAUrlThatPsqlConnectsWithAndLeavesTheAppsOtherLinesAlone() throws Exception {
        server = new ServerProcess("EnvCommandTest");
        server.start();
        Path app = Files.createTempDirectory("pgbranch-env-app");
        Path env = app.resolve(".env");
        try {
            // A new file, for its owner alone; the global option before the subcommand, as users type it.
            String said = launcher("--data-dir", server.dataDirectory().toString(), "env", "development",
                    "--file", env.toString());
            assertTrue(said.contains("created"), said);
            assertFalse(said.contains(password(url(env))), "the password is not printed: " + said);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(env)));
            assertEquals("CREATE TABLE", psql(url(env), "CREATE TABLE env_probe(x int)"));

            // An app's own file: only DATABASE_URL changes, and it now points at the new branch.
            server.cliOk("branch", "create", "dev/alex", "--parent", "development");
            String others = "# my app\nSECRET_KEY=abc\nDATABASE_URL=postgresql://stale\nREDIS_URL=redis://x\n";
            Files.writeString(env, others);
            launcher("env", "dev/alex", "--file", env.toString(), "--data-dir", server.dataDirectory().toString());
            List<String> lines = Files.readAllLines(env);
            assertEquals(List.of("# my app", "SECRET_KEY=abc", "REDIS_URL=redis://x"),
                    lines.stream().filter(l -> !l.startsWith("DATABASE_URL=")).toList());
            String branchPort = server.cliJson("branch", "show", "dev/alex").path("port").asText();
            assertEquals(branchPort, Integer.toString(URI.create(url(env)).getPort()));
            assertEquals("0", psql(url(env), "SELECT count(*) FROM env_probe"), "dev/alex has its parent's table");
        } finally {
            Files.deleteIfExists(env);
            Files.deleteIfExists(app);
        }
    }

    private static String url(Path env) throws Exception {
        return Files.readAllLines(env).stream().filter(l -> l.startsWith("DATABASE_URL=")).findFirst()
                .orElseThrow().substring("DATABASE_URL=".length());
    }

    private static String password(String url) {
        return URI.create(url).getUserInfo().split(":", 2)[1];
    }

    /** ./pgbranch with the given arguments (on this JVM's classpath); its stdout, failing unless it exits 0. */
    private static String launcher(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of("..", "pgbranch").toAbsolutePath().normalize().toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("PGBRANCH_CLASSPATH", System.getProperty("java.class.path"));
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(2, TimeUnit.MINUTES));
        assertEquals(0, process.exitValue(), String.join(" ", args) + ": " + out);
        return out;
    }
}

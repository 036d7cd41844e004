package dev.pgbranch.pageserver;

import dev.pgbranch.pageserver.testing.ServerProcess;
import dev.pgbranch.pageserver.testing.Sql;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * A compute's postmaster killed by a signal, as a user meets it through its branch port: once the
 * server has noticed the exit, the next connection gets a fresh compute with every committed row,
 * never an 08006 or a reset (the port handed to the dead compute's socket is taken back).
 */
@Tag("integration")
class ComputeCrashTest {

    @Test
    void theFirstConnectionAfterTheComputeIsKilledWithSigkillStartsItAgain() throws Exception {
        try (ServerProcess server = new ServerProcess("ComputeCrashTest")) {
            server.start();
            try (Connection c = server.connect("development"); Statement sql = c.createStatement()) {
                sql.execute("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");
            }
            String uri = server.cliOk("connect", "development").strip();
            for (int round = 0; round < 3; round++) {
                long pid = server.cliJson("branch", "show", "development").path("computePid").asLong();
                server.rememberComputePids();
                ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow();
                // A backend busy in a query outlives its postmaster (it checks for its death only when it waits).
                java.util.concurrent.CompletableFuture<Void> busy = java.util.concurrent.CompletableFuture.runAsync(() -> {
                    try (Connection c = jdbc(uri); Statement sql = c.createStatement()) {
                        sql.executeQuery("SELECT count(*) FROM generate_series(1, 2000000000)");
                    } catch (java.sql.SQLException expected) {
                        // its connection goes with the compute
                    }
                });
                Thread.sleep(1000);
                postmaster.destroyForcibly(); // kill -9 of the postmaster we started
                // Once the server has noticed (it watches the process), the next client gets a new compute.
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
                while (server.cliJson("branch", "show", "development").path("computeState").asText().equals("running")
                        && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                try (Connection c = jdbc(uri); Statement sql = c.createStatement()) {
                    assertEquals(1000, Sql.queryLong(sql, "SELECT count(*) FROM t"), "round " + round);
                }
                assertNotEquals(pid, server.cliJson("branch", "show", "development").path("computePid").asLong());
                busy.get(1, java.util.concurrent.TimeUnit.MINUTES);
            }
        }
    }

    private static Connection jdbc(String uri) throws java.sql.SQLException {
        java.net.URI parsed = java.net.URI.create(uri);
        String[] user = parsed.getUserInfo().split(":", 2);
        return java.sql.DriverManager.getConnection("jdbc:postgresql://" + parsed.getHost() + ":" + parsed.getPort()
                + parsed.getPath(), user[0], user[1]);
    }
}

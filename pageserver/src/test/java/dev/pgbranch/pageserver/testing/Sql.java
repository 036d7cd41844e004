package dev.pgbranch.pageserver.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgbranch.pageserver.compute.PostgresInstallation;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

/** One-value queries over JDBC and psql, for integration tests (each asserts a row came back). */
public final class Sql {

    private Sql() {
    }

    /** The first column of the first row as a long. */
    public static long queryLong(Statement sql, String query) throws SQLException {
        try (ResultSet rs = sql.executeQuery(query)) {
            assertTrue(rs.next(), "no row: " + query);
            return rs.getLong(1);
        }
    }

    /** The first column of the first row as text. */
    public static String queryString(Statement sql, String query) throws SQLException {
        try (ResultSet rs = sql.executeQuery(query)) {
            assertTrue(rs.next(), "no row: " + query);
            return rs.getString(1);
        }
    }

    /** Runs {@code query} with the real psql against {@code uri}; its unaligned output, stripped. */
    public static String psql(String uri, String query) throws Exception {
        String tool = PostgresInstallation.detect().tool("psql").toString();
        ProcessBuilder builder = new ProcessBuilder(tool, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", query, uri)
                .redirectErrorStream(true);
        builder.environment().put("PGCONNECT_TIMEOUT", "90");
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), "psql: " + out);
        return out;
    }
}

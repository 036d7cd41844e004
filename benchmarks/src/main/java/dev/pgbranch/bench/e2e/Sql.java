package dev.pgbranch.bench.e2e;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The few SQL round trips the driver makes with pgjdbc, each on its own connection so that a
 * measured step includes connecting exactly when a user's would. {@link SQLException}s become
 * {@link BenchException}s naming the step.
 *
 * <p>Thread-safety: stateless.
 */
final class Sql {

    private Sql() {
    }

    /** Runs {@code statements} in autocommit mode on a fresh connection. */
    static void execute(String step, Endpoint endpoint, String... statements) {
        try (Connection c = endpoint.connect(); Statement s = c.createStatement()) {
            for (String statement : statements) {
                s.execute(statement);
            }
        } catch (SQLException e) {
            throw new BenchException(step + " failed on " + endpoint + ": " + e.getMessage(), e);
        }
    }

    /** The first column of the first row of {@code query}, as text. */
    static String queryText(String step, Endpoint endpoint, String query) {
        try (Connection c = endpoint.connect()) {
            return queryText(c, query);
        } catch (SQLException e) {
            throw new BenchException(step + " failed on " + endpoint + ": " + e.getMessage(), e);
        }
    }

    static String queryText(Connection c, String query) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(query)) {
            if (!rs.next()) {
                throw new SQLException("no row from " + query);
            }
            return rs.getString(1);
        }
    }

    /**
     * Connects and runs {@code SELECT 1}, checking the answer: what "the database answers
     * queries" means in every time-to-first-query figure.
     */
    static void selectOne(Connection c) throws SQLException {
        if (!"1".equals(queryText(c, "SELECT 1"))) {
            throw new SQLException("SELECT 1 did not return 1");
        }
    }

    /** Single-quoted SQL literal. */
    static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    /** Double-quoted SQL identifier. */
    static String identifier(String value) {
        return "\"" + value.replace("\"", "\"\"") + "\"";
    }
}

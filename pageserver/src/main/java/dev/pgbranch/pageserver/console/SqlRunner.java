package dev.pgbranch.pageserver.console;

import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the SQL editor's scripts on a branch, server side, as the branch's Postgres user
 * ({@link BranchConnector}), with limits: rows kept per result, a statement timeout set through
 * a bound parameter of {@code set_config}, a cap on statements and on the characters kept per
 * cell. The statements are the user's own text, sent unchanged; nothing from the request is
 * spliced into any SQL the server writes itself, except that {@code explain} prefixes each
 * statement with {@code EXPLAIN (ANALYZE, BUFFERS)} and rolls the transaction back.
 *
 * <p>One fresh connection per request (session settings do not carry over between runs).
 * Thread-safe.
 */
final class SqlRunner {

    static final int DEFAULT_ROWS = 500;
    static final int MAX_ROWS = 10_000;
    static final int DEFAULT_TIMEOUT_SECONDS = 30;
    static final int MAX_TIMEOUT_SECONDS = 300;
    static final int MAX_STATEMENTS = 100;
    static final int MAX_CELL_CHARS = 10_000;
    private static final String EXPLAIN = "EXPLAIN (ANALYZE, BUFFERS) ";

    private final BranchConnector connector;

    SqlRunner(BranchConnector connector) {
        this.connector = connector;
    }

    SqlResult run(String project, String branch, SqlRequest request) {
        if (request.sql() == null || request.sql().isBlank()) {
            throw badRequest("field 'sql' is required: the statements to run");
        }
        int maxRows = bounded("maxRows", request.maxRows(), DEFAULT_ROWS, MAX_ROWS);
        int timeout = bounded("timeoutSeconds", request.timeoutSeconds(), DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS);
        List<SqlScript.Statement> statements = SqlScript.split(request.sql());
        if (statements.isEmpty()) {
            throw badRequest("the script holds no statement (only comments or blanks)");
        }
        if (statements.size() > MAX_STATEMENTS) {
            throw badRequest("the script holds " + statements.size() + " statements; at most " + MAX_STATEMENTS
                    + " run in one request");
        }
        boolean explain = Boolean.TRUE.equals(request.explain());
        String database = request.database() == null || request.database().isBlank() ? "postgres" : request.database();
        List<SqlResult.StatementResult> results = new ArrayList<>();
        try (Connection connection = connector.open(project, branch, database, request.at())) {
            try (PreparedStatement set = connection.prepareStatement("SELECT set_config('statement_timeout', ?, false)")) {
                set.setString(1, timeout + "s");
                set.execute();
            }
            boolean failed = false;
            for (SqlScript.Statement statement : statements) {
                if (failed) {
                    results.add(new SqlResult.StatementResult(statement.sql(), statement.offset(),
                            SqlResult.Status.SKIPPED, List.of(), List.of(), false, -1, null, null, 0));
                    continue;
                }
                SqlResult.StatementResult result = explain ? explain(connection, statement)
                        : execute(connection, statement, maxRows);
                failed = result.status() == SqlResult.Status.ERROR;
                results.add(result);
            }
        } catch (SQLException e) {
            throw new ConsoleException(ConsoleException.Code.CONNECT_FAILED, "the session on " + branch + " failed: "
                    + e.getMessage(), e.getSQLState(), e);
        }
        return new SqlResult(branch, database, request.at(), request.at() != null, maxRows, timeout, results);
    }

    private static SqlResult.StatementResult execute(Connection connection, SqlScript.Statement statement, int maxRows) {
        long started = System.nanoTime();
        try (Statement st = connection.createStatement()) {
            st.setMaxRows(maxRows + 1); // one more than kept, to know whether there were more
            boolean rows = st.execute(statement.sql());
            if (!rows) {
                return new SqlResult.StatementResult(statement.sql(), statement.offset(), SqlResult.Status.UPDATE,
                        List.of(), List.of(), false, st.getUpdateCount(), null, null, millisSince(started));
            }
            List<SqlResult.Column> columns = new ArrayList<>();
            List<List<String>> kept = new ArrayList<>();
            boolean truncated = false;
            try (ResultSet rs = st.getResultSet()) {
                ResultSetMetaData meta = rs.getMetaData();
                for (int c = 1; c <= meta.getColumnCount(); c++) {
                    columns.add(new SqlResult.Column(meta.getColumnLabel(c), meta.getColumnTypeName(c)));
                }
                while (rs.next()) {
                    if (kept.size() == maxRows) {
                        truncated = true;
                        break;
                    }
                    List<String> row = new ArrayList<>(columns.size());
                    for (int c = 1; c <= columns.size(); c++) {
                        String value = rs.getString(c);
                        row.add(value != null && value.length() > MAX_CELL_CHARS
                                ? value.substring(0, MAX_CELL_CHARS) + "…" : value);
                    }
                    kept.add(row);
                }
            }
            return new SqlResult.StatementResult(statement.sql(), statement.offset(), SqlResult.Status.ROWS, columns, kept,
                    truncated, -1, null, null, millisSince(started));
        } catch (SQLException e) {
            return failure(statement, e, 0, started);
        }
    }

    private static SqlResult.StatementResult explain(Connection connection, SqlScript.Statement statement)
            throws SQLException {
        long started = System.nanoTime();
        connection.setAutoCommit(false);
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery(EXPLAIN + statement.sql())) {
            StringBuilder plan = new StringBuilder();
            while (rs.next()) {
                plan.append(rs.getString(1)).append('\n');
            }
            return new SqlResult.StatementResult(statement.sql(), statement.offset(), SqlResult.Status.PLAN, List.of(),
                    List.of(), false, -1, plan.toString(), null, millisSince(started));
        } catch (SQLException e) {
            return failure(statement, e, EXPLAIN.length(), started);
        } finally {
            connection.rollback(); // ANALYZE ran the statement: its effects must not stay
            connection.setAutoCommit(true);
        }
    }

    /** The statement's error; Postgres's 1-based position in what was sent becomes an offset in the script. */
    private static SqlResult.StatementResult failure(SqlScript.Statement statement, SQLException e, int prefix,
                                                     long started) {
        String detail = null;
        String hint = null;
        Integer position = null;
        String message = e.getMessage();
        if (e instanceof PSQLException p && p.getServerErrorMessage() != null) {
            ServerErrorMessage server = p.getServerErrorMessage();
            message = server.getMessage();
            detail = server.getDetail();
            hint = server.getHint();
            int at = server.getPosition() - 1 - prefix;
            position = server.getPosition() > 0 && at >= 0 ? statement.offset() + at : null;
        }
        return new SqlResult.StatementResult(statement.sql(), statement.offset(), SqlResult.Status.ERROR, List.of(),
                List.of(), false, -1, null, new SqlResult.SqlError(e.getSQLState(), message, detail, hint, position),
                millisSince(started));
    }

    private static int bounded(String field, Integer value, int defaultValue, int max) {
        if (value == null) {
            return defaultValue;
        }
        if (value < 1 || value > max) {
            throw badRequest("field '" + field + "' must be between 1 and " + max + " (got " + value + ")");
        }
        return value;
    }

    private static long millisSince(long started) {
        return (System.nanoTime() - started) / 1_000_000;
    }

    private static ConsoleException badRequest(String message) {
        return new ConsoleException(ConsoleException.Code.BAD_REQUEST, message);
    }
}

package dev.pgbranch.pageserver.console;

import java.util.List;

/**
 * The answer of {@code POST .../sql}: one entry per statement, in order. Statements after a
 * failed one are {@link Status#SKIPPED} (like psql with {@code ON_ERROR_STOP}); each statement
 * ran in its own transaction (autocommit), except under {@code explain}, which rolls back.
 *
 * @param readOnly true for time travel
 */
record SqlResult(String branch, String database, String at, boolean readOnly, int maxRows, int timeoutSeconds,
                 List<StatementResult> statements) {

    enum Status { ROWS, UPDATE, PLAN, ERROR, SKIPPED }

    /**
     * @param offset where the statement starts in the script sent
     * @param rows cell values as Postgres prints them (null for SQL NULL), at most maxRows
     * @param truncated more rows existed than were kept
     * @param updateCount rows changed, or -1 for statements that change none (DDL)
     */
    record StatementResult(String sql, int offset, Status status, List<Column> columns, List<List<String>> rows,
                           boolean truncated, long updateCount, String plan, SqlError error, long durationMs) {
    }

    record Column(String name, String type) {
    }

    /**
     * @param position 0-based offset of the error in the whole script (null when Postgres gave none)
     */
    record SqlError(String sqlState, String message, String detail, String hint, Integer position) {
    }
}

package dev.pgbranch.pageserver.console;

/**
 * What the SQL editor sends to {@code POST /v1/projects/{p}/branches/{b}/sql} (unknown fields are
 * refused). Null fields take their defaults.
 *
 * @param sql one or more statements separated by semicolons ({@link SqlScript})
 * @param database the database to connect to (default {@code postgres})
 * @param maxRows rows kept per result, 1..{@link SqlRunner#MAX_ROWS} (default {@link SqlRunner#DEFAULT_ROWS})
 * @param timeoutSeconds statement timeout, 1..{@link SqlRunner#MAX_TIMEOUT_SECONDS} (default 30)
 * @param explain run each statement under {@code EXPLAIN (ANALYZE, BUFFERS)} in a transaction
 *        that is rolled back, and answer the plans
 * @param at read-only time travel: an LSN or ISO-8601 time; null for the live branch
 */
record SqlRequest(String sql, String database, Integer maxRows, Integer timeoutSeconds, Boolean explain, String at) {
}

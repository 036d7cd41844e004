package dev.pgbranch.pageserver.schema;

import java.util.Objects;

/**
 * One statement of a {@link Migration} and where it must run. Immutable, thread-safe.
 *
 * @param sql   the statement, without a trailing semicolon
 * @param phase whether it runs before, inside or after the migration's transaction
 */
public record MigrationStatement(String sql, Phase phase) {

    /**
     * Postgres DDL is transactional except for a few statements: {@code ALTER TYPE ... ADD VALUE}
     * may run in a transaction but the new label cannot be used until it commits (so it runs
     * first, on its own), and {@code CREATE INDEX CONCURRENTLY} cannot run in one at all (so it
     * runs after the transaction commits).
     */
    public enum Phase { BEFORE_TRANSACTION, IN_TRANSACTION, AFTER_TRANSACTION }

    public MigrationStatement {
        Objects.requireNonNull(sql, "sql");
        Objects.requireNonNull(phase, "phase");
    }
}

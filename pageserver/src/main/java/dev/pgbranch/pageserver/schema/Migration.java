package dev.pgbranch.pageserver.schema;

import java.util.List;

/**
 * An ordered list of DDL statements that turns one schema into another, grouped by
 * {@link MigrationStatement.Phase}. {@link #toSql()} renders a script that psql can run as is.
 *
 * <p>Immutable, thread-safe.
 */
public final class Migration {

    private final List<MigrationStatement> statements;

    Migration(List<MigrationStatement> statements) {
        this.statements = List.copyOf(statements);
    }

    public List<MigrationStatement> statements() {
        return statements;
    }

    public boolean isEmpty() {
        return statements.isEmpty();
    }

    /** Statements of one phase, in order. */
    public List<String> sql(MigrationStatement.Phase phase) {
        return statements.stream().filter(s -> s.phase() == phase).map(MigrationStatement::sql).toList();
    }

    /**
     * The migration as a psql script: statements that must run outside a transaction first, then
     * one {@code BEGIN ... COMMIT} block (function bodies are not checked while it runs, because
     * a body may refer to a table created later in the same script), then the statements that
     * must run after it.
     */
    public String toSql() {
        if (statements.isEmpty()) {
            return "-- no schema changes\n";
        }
        StringBuilder sb = new StringBuilder();
        List<String> before = sql(MigrationStatement.Phase.BEFORE_TRANSACTION);
        List<String> in = sql(MigrationStatement.Phase.IN_TRANSACTION);
        List<String> after = sql(MigrationStatement.Phase.AFTER_TRANSACTION);
        if (!before.isEmpty()) {
            sb.append("-- outside the transaction: a new enum label cannot be used before it commits\n");
            before.forEach(s -> sb.append(s).append(";\n"));
        }
        if (!in.isEmpty()) {
            sb.append("BEGIN;\nSET LOCAL check_function_bodies = off;\n");
            in.forEach(s -> sb.append(s).append(";\n"));
            sb.append("COMMIT;\n");
        }
        if (!after.isEmpty()) {
            sb.append("-- after the transaction: cannot run inside one\n");
            after.forEach(s -> sb.append(s).append(";\n"));
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return toSql();
    }
}

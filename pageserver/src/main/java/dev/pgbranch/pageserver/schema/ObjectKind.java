package dev.pgbranch.pageserver.schema;

/**
 * The kinds of catalog object the schema diff models. The declaration order is the tie-breaker
 * used when the dependency graph leaves two creations unordered (types before tables, tables
 * before their constraints, ...); real dependencies from {@code pg_depend} always win.
 *
 * <p>Immutable, thread-safe.
 */
public enum ObjectKind {
    SCHEMA("SCHEMA"),
    EXTENSION("EXTENSION"),
    ENUM_TYPE("TYPE"),
    COMPOSITE_TYPE("TYPE"),
    DOMAIN("DOMAIN"),
    SEQUENCE("SEQUENCE"),
    FUNCTION("FUNCTION"),
    PROCEDURE("PROCEDURE"),
    TABLE("TABLE"),
    COLUMN("COLUMN"),
    CONSTRAINT("CONSTRAINT"),
    INDEX("INDEX"),
    VIEW("VIEW"),
    MATERIALIZED_VIEW("MATERIALIZED VIEW"),
    TRIGGER("TRIGGER");

    private final String sqlKeyword;

    ObjectKind(String sqlKeyword) {
        this.sqlKeyword = sqlKeyword;
    }

    /** The keyword naming this kind in {@code DROP}/{@code COMMENT ON}/{@code ALTER ... OWNER}. */
    String sqlKeyword() {
        return sqlKeyword;
    }

    /** Lower-case, space-separated name used in reports, e.g. {@code materialized view}. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
    }
}

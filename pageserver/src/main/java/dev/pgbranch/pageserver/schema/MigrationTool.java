package dev.pgbranch.pageserver.schema;

import java.util.List;

/**
 * The migration tools whose history tables promote and rebase carry, with what identifies one
 * applied migration in each (its key columns). A table is recognised by its name, in any user
 * schema, and only when it has the key columns: a user table that is merely called
 * {@code migrations} is left alone.
 *
 * <p>{@code renumbered} names a column that counts migrations per database (Flyway's
 * {@code installed_rank}): a carried row gets the parent's next number, since the parent may
 * have used the branch's numbers for its own migrations meanwhile. Columns filled from a
 * sequence (Django's {@code id}) are likewise left to the parent's sequence.
 */
public enum MigrationTool {
    DJANGO("django_migrations", List.of("app", "name"), null),
    ALEMBIC("alembic_version", List.of("version_num"), null),
    PRISMA("_prisma_migrations", List.of("migration_name"), null),
    FLYWAY("flyway_schema_history", List.of("version", "script", "checksum"), "installed_rank"),
    /** Rails ({@code version} varchar) and golang-migrate ({@code version} bigint, {@code dirty}). */
    SCHEMA_MIGRATIONS("schema_migrations", List.of("version"), null),
    KNEX("knex_migrations", List.of("name"), null),
    DRIZZLE("__drizzle_migrations", List.of("hash"), null),
    GOOSE("goose_db_version", List.of("version_id"), null),
    SEQUELIZE("SequelizeMeta", List.of("name"), null),
    TYPEORM("migrations", List.of("timestamp", "name"), null),
    LIQUIBASE("databasechangelog", List.of("id", "author", "filename"), null),
    /** A table the project names: keyed by its primary key, or by its whole row. */
    CONFIGURED(null, List.of(), null);

    private final String table;
    private final List<String> keyColumns;
    private final String renumbered;

    MigrationTool(String table, List<String> keyColumns, String renumbered) {
        this.table = table;
        this.keyColumns = keyColumns;
        this.renumbered = renumbered;
    }

    /** The table's name as the tool creates it (case-sensitive), or null for {@link #CONFIGURED}. */
    public String table() {
        return table;
    }

    List<String> keyColumns() {
        return keyColumns;
    }

    /** The per-database counter column a carried row is renumbered in, or null. */
    String renumbered() {
        return renumbered;
    }

    /** The tool whose table this is, or null. */
    static MigrationTool byTable(String name) {
        for (MigrationTool t : values()) {
            if (name.equals(t.table)) {
                return t;
            }
        }
        return null;
    }
}

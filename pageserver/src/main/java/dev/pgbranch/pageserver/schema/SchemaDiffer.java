package dev.pgbranch.pageserver.schema;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Entry point of schema diff: introspects the databases behind two (or three) connection
 * sources and compares them object by object.
 *
 * <p>Covered object kinds: schemas, extensions, enum and composite types, domains (base type,
 * default, NOT NULL, CHECK constraints), sequences (including
 * serial ownership), tables (persistence, storage options), columns (type, collation, default,
 * nullability, identity, stored generated expression), constraints (primary key, unique,
 * foreign key, check, exclusion), indexes (full definition: method, columns, expressions,
 * predicate), views and materialized views (definition, options), functions and procedures,
 * triggers (definition, enabled state); comments and ownership of all of these; privileges
 * (GRANT/REVOKE) on schemas, tables, views, materialized views, sequences, functions and
 * procedures.
 *
 * <p>Not covered (invisible to the diff): column-level and type privileges, default privileges
 * (a target with {@code ALTER DEFAULT PRIVILEGES} gives new objects other grants than the
 * built-in default the migration assumes; promote's verification then refuses), row level
 * security policies, partitioned tables and partitions, inheritance children,
 * range/base types, collations, aggregates, operators and operator classes, casts, rules other
 * than a view's, statistics objects, publications/subscriptions, foreign tables and servers,
 * event triggers, tablespaces, identity sequence options, column order, per-column storage and
 * statistics targets, table access methods, and objects owned by extensions (only the
 * extension itself and its version are compared). Renames are not detected: a renamed column
 * is a removed and an added one, and its migration would lose the column's data.
 *
 * <p>Stateless and thread-safe; each call opens (and closes) one connection per side.
 */
public final class SchemaDiffer {

    private static final List<String> NOT_COVERED = List.of(
            "column-level and type privileges", "default privileges (ALTER DEFAULT PRIVILEGES)",
            "row level security policies",
            "partitioned tables and partitions", "inheritance children", "range and base types",
            "collations", "aggregates", "operators and operator classes", "casts", "rules other than a view's",
            "statistics objects", "publications and subscriptions", "foreign tables and servers", "event triggers",
            "tablespaces", "identity sequence options", "column order", "column storage and statistics targets",
            "table access methods", "renames (seen as a drop and an add)", "objects owned by extensions");

    private SchemaDiffer() {
    }

    /** The object kinds the diff models (comments and ownership are compared for each where Postgres has them). */
    public static Set<ObjectKind> coveredKinds() {
        return EnumSet.allOf(ObjectKind.class);
    }

    /** What the diff does not see, in words, for reports and API documentation. */
    public static List<String> notCovered() {
        return NOT_COVERED;
    }

    /** Two-way diff: what turns {@code target} into {@code source}. */
    public static SchemaDiff compare(ConnectionSource source, ConnectionSource target) {
        return compare(source, target, null);
    }

    /**
     * Three-way diff when {@code base} is not null: also separates changes made on the source
     * (branch) since the base from those made on the target (parent), and reports conflicts.
     */
    public static SchemaDiff compare(ConnectionSource source, ConnectionSource target, ConnectionSource base) {
        return compare(source, target, base, HistoryTables.KNOWN);
    }

    /** As {@link #compare(ConnectionSource, ConnectionSource, ConnectionSource)}, with the project's own history tables. */
    public static SchemaDiff compare(ConnectionSource source, ConnectionSource target, ConnectionSource base,
                                     HistoryTables historyTables) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(historyTables, "historyTables");
        Side s = read(source, historyTables);
        Side t = read(target, historyTables);
        Side b = base == null ? null : read(base, historyTables);
        HistoryDiff history = HistoryDiff.compare(s.history(), t.history(), b == null ? null : b.history());
        return new SchemaDiff(source.label(), s.schema(), target.label(), t.schema(), base == null ? null : base.label(),
                b == null ? null : b.schema(), history);
    }

    /** One side as read: its schema and its migration-history rows. */
    private record Side(SchemaSnapshot schema, Map<HistoryTables.QualifiedName, HistoryRows> history) {
    }

    static SchemaSnapshot snapshot(ConnectionSource side) {
        return read(side, HistoryTables.KNOWN).schema();
    }

    private static Side read(ConnectionSource side, HistoryTables historyTables) {
        try (Connection c = side.open()) {
            SchemaSnapshot schema = CatalogReader.read(c);
            return new Side(schema, HistoryReader.read(c, historyTables));
        } catch (SQLException e) {
            throw new SchemaException(SchemaException.Code.INTROSPECTION_FAILED,
                    "cannot read the schema of " + side.label() + ": " + e.getMessage(), e.getSQLState(), e);
        }
    }
}

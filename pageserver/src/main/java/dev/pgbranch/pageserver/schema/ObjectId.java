package dev.pgbranch.pageserver.schema;

import java.util.List;
import java.util.Objects;

/**
 * The stable identity of a catalog object: its kind plus its qualified name path, which is what
 * survives across two databases (OIDs do not). Paths by kind:
 * <pre>
 *   SCHEMA, EXTENSION                      [name]
 *   TABLE, VIEW, SEQUENCE, TYPE, INDEX ... [schema, name]
 *   COLUMN, CONSTRAINT, TRIGGER            [schema, table, name]
 *   FUNCTION, PROCEDURE                    [schema, name, argument types]   e.g. "integer, text"
 * </pre>
 * Index names are schema-scoped in Postgres, so an index is {@code [schema, name]} like a table.
 * A routine's identity holds its input argument types only (not their names), as Postgres's
 * overload resolution does, so renaming a parameter is a change, not a drop and an add.
 *
 * <p>Immutable, thread-safe. Ordered by kind, then path, for deterministic output.
 */
public record ObjectId(ObjectKind kind, List<String> path) implements Comparable<ObjectId> {

    public ObjectId {
        Objects.requireNonNull(kind, "kind");
        path = List.copyOf(path);
        if (path.isEmpty()) {
            throw new IllegalArgumentException("empty path for " + kind);
        }
    }

    static ObjectId of(ObjectKind kind, String... path) {
        return new ObjectId(kind, List.of(path));
    }

    /** Last element: the object's own (unqualified) name; for functions, the name without arguments. */
    String name() {
        return isRoutine() ? path.get(1) : path.get(path.size() - 1);
    }

    String schema() {
        return path.get(0);
    }

    boolean isRoutine() {
        return kind == ObjectKind.FUNCTION || kind == ObjectKind.PROCEDURE;
    }

    /** The name as it is written in SQL, e.g. {@code "public"."users"} or {@code "s"."f"(integer)}. */
    String sqlName() {
        return switch (kind) {
            case SCHEMA, EXTENSION -> Sql.ident(path.get(0));
            case FUNCTION, PROCEDURE -> Sql.ident(path.get(0)) + "." + Sql.ident(path.get(1)) + "(" + path.get(2) + ")";
            case COLUMN, CONSTRAINT, TRIGGER -> Sql.ident(path.get(2));
            default -> Sql.ident(path.get(0)) + "." + Sql.ident(path.get(1));
        };
    }

    /** The owning relation's SQL name for columns, constraints and triggers. */
    String sqlTable() {
        return Sql.ident(path.get(0)) + "." + Sql.ident(path.get(1));
    }

    /** Human-readable qualified name, e.g. {@code public.users.email} or {@code public.f(integer)}. */
    public String displayName() {
        return isRoutine() ? path.get(0) + "." + path.get(1) + "(" + path.get(2) + ")" : String.join(".", path);
    }

    @Override
    public int compareTo(ObjectId o) {
        int c = kind.compareTo(o.kind);
        for (int i = 0; c == 0 && i < Math.min(path.size(), o.path.size()); i++) {
            c = path.get(i).compareTo(o.path.get(i));
        }
        return c != 0 ? c : Integer.compare(path.size(), o.path.size());
    }

    @Override
    public String toString() {
        return kind.label() + " " + displayName();
    }
}

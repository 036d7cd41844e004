package dev.pgbranch.pageserver.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Which tables hold migration history: every {@link MigrationTool}'s table, plus the tables a
 * project names ({@code schema.table}, or {@code table} for {@code public}). Parsed at the edge;
 * immutable, thread-safe.
 */
public record HistoryTables(List<QualifiedName> configured) {

    /** A table name as {@code schema.table}; both parts as stored in the catalog (case-sensitive). */
    public record QualifiedName(String schema, String table) implements Comparable<QualifiedName> {

        private static final java.util.Comparator<QualifiedName> ORDER =
                java.util.Comparator.comparing(QualifiedName::schema).thenComparing(QualifiedName::table);

        @Override
        public int compareTo(QualifiedName o) {
            return ORDER.compare(this, o);
        }

        @Override
        public String toString() {
            return Sql.ident(schema) + "." + Sql.ident(table);
        }
    }

    private static final Pattern NAME = Pattern.compile("[^.\\s\"]{1,63}");

    /** Only the tools' own tables. */
    public static final HistoryTables KNOWN = new HistoryTables(List.of());

    public HistoryTables {
        configured = List.copyOf(configured);
    }

    /**
     * Parses names such as {@code app.schema_log} or {@code deploy_history}.
     *
     * @throws SchemaException BAD_REQUEST for a name that is not {@code [schema.]table}
     */
    public static HistoryTables of(List<String> names) {
        List<QualifiedName> out = new ArrayList<>();
        for (String n : names == null ? List.<String>of() : names) {
            String[] parts = n.strip().split("\\.", -1);
            if (parts.length > 2 || !java.util.Arrays.stream(parts).allMatch(p -> NAME.matcher(p).matches())) {
                throw new SchemaException(SchemaException.Code.BAD_REQUEST, "migration history table '" + n
                        + "' is not [schema.]table (names without dots, quotes or spaces, at most 63 characters)");
            }
            out.add(parts.length == 2 ? new QualifiedName(parts[0], parts[1]) : new QualifiedName("public", parts[0]));
        }
        return new HistoryTables(out);
    }
}

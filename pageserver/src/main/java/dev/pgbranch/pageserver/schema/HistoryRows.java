package dev.pgbranch.pageserver.schema;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One migration-history table of one database: its shape and its rows, in the order the tool
 * applied them (by the sequence-filled or counter column, else by key).
 *
 * <p>Rows are keyed by the tool's key columns; a row's value is every column the parent would
 * not fill itself (sequence-filled and renumbered columns left out), as Postgres's text output,
 * null kept. Two rows with one key (a tool recording a migration twice) count once: the first.
 *
 * <p>Immutable, thread-safe.
 */
record HistoryRows(HistoryTables.QualifiedName name, MigrationTool tool, List<Column> columns, List<String> key,
                   Map<List<String>, Map<String, String>> rows) {

    /** A column: its type as {@code format_type} prints it, and whether the database fills it itself. */
    record Column(String name, String type, boolean generated) {
    }

    HistoryRows {
        columns = List.copyOf(columns);
        key = List.copyOf(key);
        rows = Collections.unmodifiableMap(new LinkedHashMap<>(rows));
    }

    /** Columns a carried row is written with (the others are filled by the parent). */
    List<Column> carried() {
        return columns.stream().filter(c -> !c.generated() && !c.name().equals(tool.renumbered())).toList();
    }

    Column column(String name) {
        return columns.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
    }

    /** The key of a row from its values. */
    List<String> keyOf(Map<String, String> row) {
        List<String> out = new ArrayList<>(key.size());
        for (String k : key) {
            out.add(row.get(k));
        }
        return Collections.unmodifiableList(out);
    }

    /** Key columns and values as {@code col=value} text for reports. */
    String describe(List<String> keyValues) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < key.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(key.get(i)).append('=').append(Objects.toString(keyValues.get(i), "NULL"));
        }
        return sb.toString();
    }
}

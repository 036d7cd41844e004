package dev.pgbranch.pageserver.schema;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Finds the migration-history tables of one database ({@link MigrationTool}, the
 * {@link HistoryTables} a request names, and every table the project marked with
 * {@code COMMENT ON TABLE t IS 'pgbranch:migration-history'}, a setting that travels with the
 * schema to every branch) and reads their rows. The tables are small (one
 * row per migration), so they are read whole.
 *
 * <p>Uses the caller's connection and transaction as they are (promote re-reads inside its own
 * transaction); every name in the SQL is schema-qualified. Stateless, thread-safe.
 */
final class HistoryReader {

    /** The table comment that makes any table a migration-history table. */
    static final String MARKER = "pgbranch:migration-history";

    private HistoryReader() {
    }

    /** Every history table on {@code c}, by qualified name in name order. */
    static Map<HistoryTables.QualifiedName, HistoryRows> read(Connection c, HistoryTables configured) throws SQLException {
        List<String> names = new ArrayList<>();
        for (MigrationTool t : MigrationTool.values()) {
            if (t.table() != null) {
                names.add(t.table());
            }
        }
        configured.configured().forEach(q -> names.add(q.table()));
        Map<HistoryTables.QualifiedName, HistoryRows> out = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname, r.relname, r.oid,"
                + " pg_catalog.obj_description(r.oid, 'pg_class') IS NOT DISTINCT FROM '" + MARKER + "'"
                + " FROM pg_catalog.pg_class r"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace WHERE r.relkind IN ('r', 'p')"
                + " AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\\_%'"
                + " AND (r.relname = ANY (?) OR pg_catalog.obj_description(r.oid, 'pg_class') = '" + MARKER + "')")) {
            Array array = c.createArrayOf("text", names.toArray());
            ps.setArray(1, array);
            List<Object[]> found = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.add(new Object[] {new HistoryTables.QualifiedName(rs.getString(1), rs.getString(2)), rs.getLong(3),
                            rs.getBoolean(4)});
                }
            }
            for (Object[] f : found) {
                HistoryTables.QualifiedName name = (HistoryTables.QualifiedName) f[0];
                boolean named = configured.configured().contains(name) || (Boolean) f[2];
                if (!named && MigrationTool.byTable(name.table()) == null) {
                    continue; // a configured table's name in another schema
                }
                HistoryRows rows = readTable(c, name, (Long) f[1], named);
                if (rows != null) {
                    out.put(name, rows);
                }
            }
        }
        return out;
    }

    /** The table's rows, or null when it is not a history table after all (the tool's key columns are missing). */
    private static HistoryRows readTable(Connection c, HistoryTables.QualifiedName name, long oid, boolean configured)
            throws SQLException {
        List<HistoryRows.Column> columns = columns(c, oid);
        MigrationTool tool = configured ? MigrationTool.CONFIGURED : MigrationTool.byTable(name.table());
        List<String> present = columns.stream().map(HistoryRows.Column::name).toList();
        List<String> key;
        if (tool == MigrationTool.CONFIGURED) {
            List<String> pk = primaryKey(c, oid);
            boolean pkGenerated = columns.stream().anyMatch(col -> pk.contains(col.name()) && col.generated());
            key = pk.isEmpty() || pkGenerated
                    ? columns.stream().filter(col -> !col.generated()).map(HistoryRows.Column::name).toList() : pk;
        } else {
            key = tool.keyColumns();
            if (!present.containsAll(key)) {
                return null;
            }
        }
        if (key.isEmpty()) {
            return null;
        }
        HistoryRows shape = new HistoryRows(name, tool, columns, key, Map.of());
        List<HistoryRows.Column> carried = shape.carried();
        String order = columns.stream().filter(HistoryRows.Column::generated).map(col -> Sql.ident(col.name())).findFirst()
                .orElse(tool.renumbered() != null && present.contains(tool.renumbered()) ? Sql.ident(tool.renumbered())
                        : String.join(", ", key.stream().map(Sql::ident).toList()));
        StringBuilder sql = new StringBuilder("SELECT ");
        for (int i = 0; i < carried.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append(Sql.ident(carried.get(i).name())).append("::text");
        }
        sql.append(" FROM ").append(name).append(" ORDER BY ").append(order);
        Map<List<String>, Map<String, String>> rows = new LinkedHashMap<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql.toString())) {
            while (rs.next()) {
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 0; i < carried.size(); i++) {
                    row.put(carried.get(i).name(), rs.getString(i + 1));
                }
                rows.putIfAbsent(shape.keyOf(row), row);
            }
        }
        return new HistoryRows(name, tool, columns, key, rows);
    }

    private static List<HistoryRows.Column> columns(Connection c, long oid) throws SQLException {
        List<HistoryRows.Column> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),"
                + " a.attidentity <> '' OR a.attgenerated <> ''"
                + " OR coalesce(pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false)"
                + " FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                + " WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new HistoryRows.Column(rs.getString(1), rs.getString(2), rs.getBoolean(3)));
                }
            }
        }
        return out;
    }

    private static List<String> primaryKey(Connection c, long oid) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname FROM pg_catalog.pg_index i"
                + " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n)"
                + " JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
                + " WHERE i.indrelid = ? AND i.indisprimary ORDER BY k.n")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }
}

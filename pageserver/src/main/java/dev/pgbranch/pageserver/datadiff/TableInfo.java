package dev.pgbranch.pageserver.datadiff;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One ordinary table of a database as the data diff needs it: where its main fork lives
 * ({@code pg_relation_filepath}, e.g. {@code base/16384/16390}), its columns and its key (the
 * primary key's columns; empty: rows are compared whole).
 *
 * @param name     {@code schema.table}, quoted where needed
 * @param filePath the main fork's path under the data directory
 */
public record TableInfo(String name, String filePath, List<Column> columns, List<String> key) {

    /** A column, its type as {@code format_type} prints it, and whether Postgres computes it (generated). */
    public record Column(String name, String type, boolean generated, boolean identityAlways) {
    }

    public TableInfo {
        columns = List.copyOf(columns);
        key = List.copyOf(key);
    }

    public boolean hasKey() {
        return !key.isEmpty();
    }

    /**
     * The database's ordinary tables (user schemas, not temporary), or only {@code only} (a
     * {@code [schema.]table} name) when not null.
     */
    public static Map<String, TableInfo> read(Connection c, String only) throws SQLException {
        Map<String, TableInfo> out = new TreeMap<>();
        String sql = "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), pg_relation_filepath(c.oid)"
                + " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE c.relkind = 'r' AND c.relpersistence <> 't'"
                + " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
                + (only == null ? "" : " AND c.oid = to_regclass(?)")
                + " ORDER BY 2";
        List<Object[]> found = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (only != null) {
                ps.setString(1, only);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.add(new Object[] {rs.getLong(1), rs.getString(2), rs.getString(3)});
                }
            }
        }
        for (Object[] f : found) {
            long oid = (Long) f[0];
            out.put((String) f[1], new TableInfo((String) f[1], (String) f[2], columns(c, oid), key(c, oid)));
        }
        return out;
    }

    private static List<Column> columns(Connection c, long oid) throws SQLException {
        List<Column> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT attname, format_type(atttypid, atttypmod),"
                + " attgenerated <> '', attidentity = 'a' FROM pg_catalog.pg_attribute"
                + " WHERE attrelid = ? AND attnum > 0 AND NOT attisdropped ORDER BY attnum")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Column(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getBoolean(4)));
                }
            }
        }
        return out;
    }

    private static List<String> key(Connection c, long oid) throws SQLException {
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

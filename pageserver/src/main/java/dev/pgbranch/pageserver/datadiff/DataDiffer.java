package dev.pgbranch.pageserver.datadiff;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Compares one table's rows between a source and a target (and their base), reading on every
 * side only the rows in the table's {@link Scope}. See the package comment for why that is exact.
 *
 * <p>Columns compared are those both sides have (by name, the source's type); a column on one
 * side only is named in the notes. The key is the primary key when both sides have the same one,
 * else the whole row.
 *
 * <p>Stateless, thread-safe; uses the callers' connections.
 */
public final class DataDiffer {

    private DataDiffer() {
    }

    /** One side of the comparison: an open connection and the table as it is there (null: absent). */
    public record Side(String label, Connection connection, TableInfo table) {
    }

    /**
     * Compares {@code source} with {@code target}, three-way when {@code base} is not null.
     *
     * @throws DataDiffException READ_FAILED when a side cannot be read
     */
    public static TableDataDiff compare(String table, Side source, Side target, Side base, Scope scope) {
        Objects.requireNonNull(source.table() != null ? source.table() : target.table(), "table on neither side");
        List<String> notes = new ArrayList<>();
        TableInfo s = source.table();
        TableInfo t = target.table();
        TableInfo shape = s != null ? s : t;
        List<TableInfo.Column> columns = new ArrayList<>();
        for (TableInfo.Column c : shape.columns()) {
            if (s == null || t == null || t.columns().stream().anyMatch(o -> o.name().equals(c.name()))) {
                columns.add(c);
            } else {
                notes.add("column " + c.name() + " only on " + source.label() + ": not compared");
            }
        }
        if (s != null && t != null) {
            for (TableInfo.Column c : t.columns()) {
                if (s.columns().stream().noneMatch(o -> o.name().equals(c.name()))) {
                    notes.add("column " + c.name() + " only on " + target.label() + ": not compared");
                }
            }
        }
        List<String> key = shape.key();
        if (s != null && t != null && !s.key().equals(t.key())) {
            notes.add("the primary keys differ (" + s.key() + " on " + source.label() + ", " + t.key() + " on "
                    + target.label() + "): rows compared whole");
            key = List.of();
        }
        if (!columns.stream().map(TableInfo.Column::name).toList().containsAll(key)) {
            key = List.of();
        }
        List<String> names = columns.stream().map(TableInfo.Column::name).toList();
        long blocks = scope.isFull() ? -1 : scope.blocks().getLongCardinality();
        try (RowScanner.Cursor sc = open(source, table, key, names, scope);
             RowScanner.Cursor tc = open(target, table, key, names, scope);
             RowScanner.Cursor bc = base == null ? null : open(base, table, key, names, scope)) {
            return diff(table, columns, key, sc, tc, bc, blocks, scope.fullReason(), notes);
        } catch (SQLException e) {
            throw new DataDiffException(DataDiffException.Code.READ_FAILED, "cannot read " + table + ": " + e.getMessage(),
                    e.getSQLState(), e);
        }
    }

    private static RowScanner.Cursor open(Side side, String table, List<String> key, List<String> columns, Scope scope) {
        if (side.table() == null) {
            return RowScanner.empty();
        }
        try {
            return RowScanner.open(side.connection(), table, key, columns, scope);
        } catch (SQLException e) {
            throw new DataDiffException(DataDiffException.Code.READ_FAILED, "cannot read " + table + " on " + side.label()
                    + ": " + e.getMessage(), e.getSQLState(), e);
        }
    }

    /** Merges the sides' cursors in key order; keeps only the differences. */
    private static TableDataDiff diff(String table, List<TableInfo.Column> columns, List<String> key,
                                      RowScanner.Cursor source, RowScanner.Cursor target, RowScanner.Cursor base,
                                      long blocks, String fullReason, List<String> notes) throws SQLException {
        List<TableDataDiff.RowChange> changes = new ArrayList<>();
        List<TableDataDiff.RowChange> onSource = new ArrayList<>();
        List<TableDataDiff.RowChange> onTarget = new ArrayList<>();
        List<TableDataDiff.RowChange> conflicts = new ArrayList<>();
        List<TableDataDiff.RowChange> toApply = new ArrayList<>();
        while (true) {
            List<String> k = min(min(source.peekKey(), target.peekKey()), base == null ? null : base.peekKey());
            if (k == null) {
                break;
            }
            List<String> sv = k.equals(source.peekKey()) ? source.take() : null;
            List<String> tv = k.equals(target.peekKey()) ? target.take() : null;
            List<String> bv = base != null && k.equals(base.peekKey()) ? base.take() : null;
            TableDataDiff.RowChange twoWay = change(k, tv, sv);
            if (twoWay != null) {
                changes.add(twoWay);
            }
            if (base == null) {
                if (twoWay != null) {
                    toApply.add(twoWay);
                }
                continue;
            }
            TableDataDiff.RowChange mine = change(k, bv, sv);
            TableDataDiff.RowChange theirs = change(k, bv, tv);
            if (mine != null) {
                onSource.add(mine);
            }
            if (theirs != null) {
                onTarget.add(theirs);
            }
            if (mine != null && twoWay != null) {
                if (theirs == null) {
                    toApply.add(twoWay);
                } else {
                    conflicts.add(twoWay);
                }
            }
        }
        return new TableDataDiff(table, columns, key, changes, onSource, onTarget, conflicts, toApply, blocks, fullReason,
                notes);
    }

    private static List<String> min(List<String> a, List<String> b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return RowScanner.KEY_ORDER.compare(a, b) <= 0 ? a : b;
    }

    private static TableDataDiff.RowChange change(List<String> key, List<String> before, List<String> after) {
        if (Objects.equals(before, after)) {
            return null;
        }
        TableDataDiff.Type type = before == null ? TableDataDiff.Type.ADDED
                : after == null ? TableDataDiff.Type.REMOVED : TableDataDiff.Type.CHANGED;
        return new TableDataDiff.RowChange(type, key, before, after);
    }
}

package dev.pgbranch.pageserver.datadiff;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One table's rows compared: target → source (and, with a base, what each side changed since
 * it), by key; plus how the rows were found (the blocks read, or a full read and why).
 *
 * <p>Immutable, thread-safe.
 *
 * @param columns    the columns compared (on both sides); {@code notes} names those left out
 * @param key        the key columns; empty: rows compared whole (then there are no "changed" rows)
 * @param changes    target → source, every difference
 * @param onSource   base → source (empty without a base)
 * @param onTarget   base → target (empty without a base)
 * @param conflicts  keys both sides changed since the base, differently
 * @param toApply    what the SQL writes into the target: with a base, the source's own changes the
 *                   target lacks (conflicts left out); without, every difference
 * @param blocksRead blocks read on each side, -1 for a full read
 * @param fullReason why the whole table was read, or null
 */
public record TableDataDiff(String table, List<TableInfo.Column> columns, List<String> key, List<RowChange> changes,
                            List<RowChange> onSource, List<RowChange> onTarget, List<RowChange> conflicts,
                            List<RowChange> toApply, long blocksRead, String fullReason, List<String> notes) {

    /** One row's difference; {@code before} is null for an added row, {@code after} for a removed one. */
    public record RowChange(Type type, List<String> key, List<String> before, List<String> after) {
    }

    public enum Type {
        ADDED, REMOVED, CHANGED
    }

    public TableDataDiff {
        columns = List.copyOf(columns);
        key = List.copyOf(key);
        changes = List.copyOf(changes);
        onSource = List.copyOf(onSource);
        onTarget = List.copyOf(onTarget);
        conflicts = List.copyOf(conflicts);
        toApply = List.copyOf(toApply);
        notes = List.copyOf(notes);
    }

    long count(List<RowChange> list, Type type) {
        return list.stream().filter(c -> c.type() == type).count();
    }

    /** Key as {@code col=value, ...} (whole-row tables: the row's values). */
    public String describe(RowChange c) {
        StringBuilder sb = new StringBuilder();
        if (key.isEmpty()) {
            List<String> row = c.after() != null ? c.after() : c.before();
            for (int i = 0; i < columns.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(columns.get(i).name()).append('=').append(Objects.toString(row.get(i), "NULL"));
            }
            return sb.toString();
        }
        for (int i = 0; i < key.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(key.get(i)).append('=').append(Objects.toString(c.key().get(i), "NULL"));
        }
        return sb.toString();
    }

    /** The statements that apply {@link #toApply()} to the target, in order: deletes, updates, inserts. */
    public List<String> statements() {
        List<String> deletes = new ArrayList<>();
        List<String> updates = new ArrayList<>();
        List<String> inserts = new ArrayList<>();
        for (RowChange c : toApply) {
            switch (c.type()) {
                case REMOVED -> deletes.add(delete(c));
                case CHANGED -> updates.add(update(c));
                case ADDED -> inserts.add(insert(c));
            }
        }
        List<String> out = new ArrayList<>(deletes);
        out.addAll(updates);
        out.addAll(inserts);
        return out;
    }

    private String insert(RowChange c) {
        List<String> names = new ArrayList<>();
        List<String> values = new ArrayList<>();
        boolean overriding = false;
        for (int i = 0; i < columns.size(); i++) {
            TableInfo.Column col = columns.get(i);
            if (col.generated()) {
                continue;
            }
            overriding |= col.identityAlways();
            names.add(SqlText.ident(col.name()));
            values.add(SqlText.typed(c.after().get(i), col.type()));
        }
        return "INSERT INTO " + table + " (" + String.join(", ", names) + ")" + (overriding ? " OVERRIDING SYSTEM VALUE" : "")
                + " VALUES (" + String.join(", ", values) + ")";
    }

    private String update(RowChange c) {
        List<String> sets = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            TableInfo.Column col = columns.get(i);
            if (!col.generated() && !key.contains(col.name()) && !Objects.equals(c.before().get(i), c.after().get(i))) {
                sets.add(SqlText.ident(col.name()) + " = " + SqlText.typed(c.after().get(i), col.type()));
            }
        }
        return "UPDATE " + table + " SET " + String.join(", ", sets) + " WHERE " + whereKey(c.key());
    }

    private String delete(RowChange c) {
        if (key.isEmpty()) {
            // One of possibly several equal rows: by ctid, so duplicates go one at a time.
            List<String> terms = new ArrayList<>();
            for (int i = 0; i < columns.size(); i++) {
                TableInfo.Column col = columns.get(i);
                terms.add(SqlText.ident(col.name()) + " IS NOT DISTINCT FROM " + SqlText.typed(c.before().get(i), col.type()));
            }
            return "DELETE FROM " + table + " WHERE ctid = (SELECT ctid FROM " + table + " WHERE " + String.join(" AND ", terms)
                    + " LIMIT 1)";
        }
        return "DELETE FROM " + table + " WHERE " + whereKey(c.key());
    }

    private String whereKey(List<String> keyValues) {
        List<String> terms = new ArrayList<>();
        for (int i = 0; i < key.size(); i++) {
            String name = key.get(i);
            TableInfo.Column col = columns.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            terms.add(SqlText.ident(name) + " = " + SqlText.typed(keyValues.get(i), col.type()));
        }
        return String.join(" AND ", terms);
    }
}

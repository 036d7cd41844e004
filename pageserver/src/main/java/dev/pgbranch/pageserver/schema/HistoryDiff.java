package dev.pgbranch.pageserver.schema;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The migration-history rows of one database compared across branch (source), parent (target)
 * and, when known, the base (the parent at the branch point): the section of a diff that
 * promote and rebase carry as data, in the same transaction as the schema changes.
 *
 * <p>Three-way, row by row (by the tool's key): a row the branch added, removed or changed since
 * the base is carried unless the parent already has the same; rows the parent gained meanwhile
 * stay; a row both changed differently is a conflict. Tables not on the branch carry nothing (a
 * dropped history table is a schema change). Two-way (no base), every difference counts as the
 * branch's.
 *
 * <p>Immutable, thread-safe.
 */
public final class HistoryDiff {

    /** What happened to one row. {@code before}/{@code after} are null for an added/removed row. */
    public record RowChange(Change.Type type, List<String> key, Map<String, String> before, Map<String, String> after) {
    }

    /** A row both sides changed since the base, differently; {@code forced} is what force writes (the branch's row). */
    public record RowConflict(List<String> key, RowChange onBranch, RowChange onParent, RowChange forced) {
    }

    /**
     * One table's rows compared.
     *
     * @param changes        target → source, every difference (what the SQL format writes)
     * @param branchChanges  base → source (empty without a base)
     * @param parentChanges  base → target (empty without a base)
     * @param toCarry        what promote writes into the target: the branch's changes the target lacks
     * @param targetHasTable whether the table exists on the target yet (else the schema promote creates it)
     */
    public record TableDiff(HistoryTables.QualifiedName table, MigrationTool tool, List<RowChange> changes,
                            List<RowChange> branchChanges, List<RowChange> parentChanges, List<RowConflict> conflicts,
                            List<RowChange> toCarry, boolean targetHasTable, HistoryRows source) {

        public TableDiff {
            changes = List.copyOf(changes);
            branchChanges = List.copyOf(branchChanges);
            parentChanges = List.copyOf(parentChanges);
            conflicts = List.copyOf(conflicts);
            toCarry = List.copyOf(toCarry);
        }

        /** Key columns and values of a row as {@code col=value, ...}. */
        public String describe(List<String> key) {
            return source.describe(key);
        }
    }

    private final boolean threeWay;
    private final List<TableDiff> tables;

    private HistoryDiff(boolean threeWay, List<TableDiff> tables) {
        this.threeWay = threeWay;
        this.tables = List.copyOf(tables);
    }

    static HistoryDiff compare(Map<HistoryTables.QualifiedName, HistoryRows> source,
                               Map<HistoryTables.QualifiedName, HistoryRows> target,
                               Map<HistoryTables.QualifiedName, HistoryRows> base) {
        List<TableDiff> out = new ArrayList<>();
        for (var e : source.entrySet()) {
            HistoryRows s = e.getValue();
            HistoryRows t = target.get(e.getKey());
            HistoryRows b = base == null ? null : base.get(e.getKey());
            TableDiff d = compareTable(s, t, b, base != null);
            if (!d.changes().isEmpty() || !d.branchChanges().isEmpty() || !d.parentChanges().isEmpty()) {
                out.add(d);
            }
        }
        return new HistoryDiff(base != null, out);
    }

    private static TableDiff compareTable(HistoryRows s, HistoryRows t, HistoryRows b, boolean threeWay) {
        Map<List<String>, Map<String, String>> sr = s.rows();
        Map<List<String>, Map<String, String>> tr = t == null ? Map.of() : t.rows();
        Map<List<String>, Map<String, String>> br = b == null ? Map.of() : b.rows();
        Set<List<String>> keys = new LinkedHashSet<>();
        keys.addAll(br.keySet());
        keys.addAll(tr.keySet());
        keys.addAll(sr.keySet());
        List<RowChange> changes = new ArrayList<>();
        List<RowChange> onBranch = new ArrayList<>();
        List<RowChange> onParent = new ArrayList<>();
        List<RowConflict> conflicts = new ArrayList<>();
        List<RowChange> toCarry = new ArrayList<>();
        for (List<String> k : keys) {
            Map<String, String> sv = sr.get(k);
            Map<String, String> tv = tr.get(k);
            RowChange twoWay = change(k, tv, sv);
            if (twoWay != null) {
                changes.add(twoWay);
            }
            if (!threeWay) {
                if (twoWay != null) {
                    toCarry.add(twoWay);
                }
                continue;
            }
            Map<String, String> bv = br.get(k);
            RowChange branch = change(k, bv, sv);
            RowChange parent = change(k, bv, tv);
            if (branch != null) {
                onBranch.add(branch);
            }
            if (parent != null) {
                onParent.add(parent);
            }
            if (branch != null && twoWay != null) {
                if (parent == null) {
                    toCarry.add(twoWay);
                } else {
                    conflicts.add(new RowConflict(k, branch, parent, twoWay));
                }
            }
        }
        return new TableDiff(s.name(), s.tool(), changes, onBranch, onParent, conflicts, toCarry, t != null, s);
    }

    private static RowChange change(List<String> key, Map<String, String> before, Map<String, String> after) {
        if (sameRow(before, after)) {
            return null;
        }
        Change.Type type = before == null ? Change.Type.ADDED : after == null ? Change.Type.REMOVED : Change.Type.CHANGED;
        return new RowChange(type, key, before, after);
    }

    /**
     * Rows are equal when every column either has is equal, a column one side lacks counting as
     * null: a column the branch added to the history table does not make its old rows differ.
     */
    static boolean sameRow(Map<String, String> a, Map<String, String> b) {
        if (a == null || b == null) {
            return a == b;
        }
        Set<String> columns = new LinkedHashSet<>(a.keySet());
        columns.addAll(b.keySet());
        for (String c : columns) {
            if (!Objects.equals(a.get(c), b.get(c))) {
                return false;
            }
        }
        return true;
    }

    public boolean threeWay() {
        return threeWay;
    }

    /** Tables with any difference, by name. */
    public List<TableDiff> tables() {
        return tables;
    }

    public boolean isEmpty() {
        return tables.stream().allMatch(t -> t.changes().isEmpty());
    }


    public List<RowConflict> conflicts() {
        return tables.stream().flatMap(t -> t.conflicts().stream()).toList();
    }

    /**
     * The statements that write {@link TableDiff#toCarry()} into the target, table by table;
     * with {@code force}, conflicting rows too, as the branch has them.
     */
    List<String> carryStatements(boolean force) {
        List<String> out = new ArrayList<>();
        for (TableDiff t : tables) {
            for (RowChange c : carried(t, force)) {
                out.add(statement(t.source(), c));
            }
        }
        return out;
    }

    /** The rows promote writes into one table. */
    static List<RowChange> carried(TableDiff t, boolean force) {
        List<RowChange> out = new ArrayList<>(t.toCarry());
        if (force) {
            t.conflicts().forEach(c -> out.add(c.forced()));
        }
        return out;
    }

    /**
     * What is still not carried after a promote wrote the rows: every carried row must now be
     * on the target as on the source (a removed one gone). Empty when all landed.
     */
    List<String> notCarried(Map<HistoryTables.QualifiedName, HistoryRows> targetAfter, boolean force) {
        List<String> out = new ArrayList<>();
        for (TableDiff t : tables) {
            HistoryRows now = targetAfter.get(t.table());
            for (RowChange c : carried(t, force)) {
                Map<String, String> actual = now == null ? null : now.rows().get(c.key());
                if (!sameRow(actual, c.after())) {
                    out.add(t.table() + "(" + t.describe(c.key()) + ")");
                }
            }
        }
        return out;
    }

    /** The statements that make the target's history rows equal to the source's (the SQL format). */
    List<String> equalizeStatements() {
        List<String> out = new ArrayList<>();
        for (TableDiff t : tables) {
            for (RowChange c : t.changes()) {
                out.add(statement(t.source(), c));
            }
        }
        return out;
    }

    /**
     * One row's statement. Values are typed literals ({@code 'v'::type}) with the source's column
     * types; sequence-filled columns are left to the target's sequence and a renumbered column
     * gets the target's next number, so the carried row never takes a number the target used.
     */
    private static String statement(HistoryRows shape, RowChange c) {
        return switch (c.type()) {
            case ADDED -> {
                List<HistoryRows.Column> cols = shape.carried();
                List<String> names = new ArrayList<>();
                List<String> values = new ArrayList<>();
                for (HistoryRows.Column col : cols) {
                    names.add(Sql.ident(col.name()));
                    values.add(typed(c.after().get(col.name()), col));
                }
                String renumbered = shape.tool().renumbered();
                if (renumbered != null && shape.column(renumbered) != null) {
                    names.add(Sql.ident(renumbered));
                    values.add("(SELECT coalesce(max(" + Sql.ident(renumbered) + "), 0) + 1 FROM " + shape.name() + ")");
                }
                yield "INSERT INTO " + shape.name() + " (" + String.join(", ", names) + ") VALUES ("
                        + String.join(", ", values) + ")";
            }
            case REMOVED -> "DELETE FROM " + shape.name() + " WHERE " + where(shape, c.key());
            case CHANGED -> {
                List<String> sets = new ArrayList<>();
                for (HistoryRows.Column col : shape.carried()) {
                    if (!shape.key().contains(col.name())
                            && !Objects.equals(c.before().get(col.name()), c.after().get(col.name()))) {
                        sets.add(Sql.ident(col.name()) + " = " + typed(c.after().get(col.name()), col));
                    }
                }
                yield "UPDATE " + shape.name() + " SET " + String.join(", ", sets) + " WHERE " + where(shape, c.key());
            }
        };
    }

    private static String where(HistoryRows shape, List<String> key) {
        List<String> terms = new ArrayList<>();
        for (int i = 0; i < shape.key().size(); i++) {
            HistoryRows.Column col = shape.column(shape.key().get(i));
            terms.add(Sql.ident(col.name()) + " IS NOT DISTINCT FROM " + typed(key.get(i), col));
        }
        return String.join(" AND ", terms);
    }

    private static String typed(String value, HistoryRows.Column col) {
        return value == null ? "NULL" : Sql.literal(value) + "::" + col.type();
    }

    /** Conflicting rows, for messages: {@code table(col=value, ...)}. */
    String describeConflicts() {
        Set<String> out = new TreeSet<>();
        for (TableDiff t : tables) {
            t.conflicts().forEach(c -> out.add(t.table() + "(" + t.describe(c.key()) + ")"));
        }
        return String.join(", ", out);
    }
}

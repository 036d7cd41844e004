package dev.pgbranch.pageserver.schema;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The result of comparing a source schema (usually a branch) with a target (usually its parent),
 * and optionally with their common base (the parent at the branch point).
 *
 * <ul>
 *   <li>{@link #changes()}: what differs, target → source, object by object;</li>
 *   <li>{@link #migration()}: the SQL that turns the target into the source;</li>
 *   <li>with a base, {@link #branchChanges()} (base → source), {@link #parentChanges()}
 *       (base → target) and {@link #conflicts()} (the same object changed on both, differently);</li>
 *   <li>{@link #history()}: the rows of migration-history tables, as their own section (data
 *       that promote carries with the schema).</li>
 * </ul>
 *
 * <p>Immutable, thread-safe; the migration is planned on first use.
 */
public final class SchemaDiff {

    private final String sourceLabel;
    private final String targetLabel;
    private final String baseLabel;
    final SchemaSnapshot source;
    final SchemaSnapshot target;
    final SchemaSnapshot base;
    private final List<Change> changes;
    private final List<Change> branchChanges;
    private final List<Change> parentChanges;
    private final List<Conflict> conflicts;
    private final HistoryDiff history;
    private volatile Migration migration;

    SchemaDiff(String sourceLabel, SchemaSnapshot source, String targetLabel, SchemaSnapshot target,
               String baseLabel, SchemaSnapshot base, HistoryDiff history) {
        this.history = history;
        this.sourceLabel = sourceLabel;
        this.targetLabel = targetLabel;
        this.baseLabel = baseLabel;
        this.source = source;
        this.target = target;
        this.base = base;
        this.changes = Change.between(target, source);
        if (base != null) {
            this.branchChanges = Change.between(base, source);
            this.parentChanges = Change.between(base, target);
            List<Conflict> found = new ArrayList<>(findConflicts(branchChanges, parentChanges, source, target, false));
            found.addAll(findConflicts(parentChanges, branchChanges, target, source, true));
            found.sort(java.util.Comparator.comparing(Conflict::id));
            this.conflicts = List.copyOf(found);
        } else {
            this.branchChanges = List.of();
            this.parentChanges = List.of();
            this.conflicts = List.of();
        }
    }

    /**
     * Same object changed on both sides to different results; also a change on one side to
     * something (a column, an index ...) whose table the other side dropped. Called once per
     * direction; {@code swapped} means "branch" and "parent" trade places, and then only the
     * dropped-table case is looked for (same-object conflicts were found by the first call).
     */
    private static List<Conflict> findConflicts(List<Change> onBranch, List<Change> onParent,
                                                SchemaSnapshot source, SchemaSnapshot target, boolean swapped) {
        Map<ObjectId, Change> parentById = new HashMap<>();
        onParent.forEach(c -> parentById.put(c.id(), c));
        List<Conflict> out = new ArrayList<>();
        for (Change b : onBranch) {
            Change p = parentById.get(b.id());
            if (p != null) {
                if (swapped) {
                    continue;
                }
                DbObject s = source.get(b.id());
                DbObject t = target.get(b.id());
                boolean converged = s == null ? t == null : s.sameAs(t);
                if (!converged) {
                    out.add(new Conflict(b.id(), b, p));
                }
                continue;
            }
            DbObject s = source.get(b.id());
            if (s != null && s.parent() != null && s.id().kind() != ObjectKind.SEQUENCE) {
                Change parentOfObject = parentById.get(s.parent());
                if (parentOfObject != null && parentOfObject.type() == Change.Type.REMOVED && source.get(s.parent()) != null) {
                    out.add(swapped ? new Conflict(b.id(), parentOfObject, b) : new Conflict(b.id(), b, parentOfObject));
                }
            }
        }
        return List.copyOf(out);
    }

    public String sourceLabel() {
        return sourceLabel;
    }

    public String targetLabel() {
        return targetLabel;
    }

    /** Label of the base, or null for a two-way diff. */
    public String baseLabel() {
        return baseLabel;
    }

    public boolean hasBase() {
        return base != null;
    }

    /** Differences target → source, sorted by kind then name. */
    public List<Change> changes() {
        return changes;
    }

    /** True when the two schemas are equal in everything the model covers, migration history included. */
    public boolean isEmpty() {
        return changes.isEmpty() && history.isEmpty();
    }

    /** The migration-history section: rows of the tools' history tables, compared like the schema. */
    public HistoryDiff history() {
        return history;
    }

    /** Base → source; empty without a base. */
    public List<Change> branchChanges() {
        return branchChanges;
    }

    /** Base → target; empty without a base. */
    public List<Change> parentChanges() {
        return parentChanges;
    }

    /** Objects changed on both sides to different results; empty without a base. */
    public List<Conflict> conflicts() {
        return conflicts;
    }

    /** The DDL that turns the target into the source (all differences, not only the branch's). */
    public Migration migration() {
        Migration m = migration;
        if (m == null) {
            m = MigrationPlanner.plan(target, source, false);
            migration = m;
        }
        return m;
    }

    /** Renders the diff in {@code format}; see {@link DiffFormat}. */
    public String render(DiffFormat format) {
        return switch (format) {
            case SIDE_BY_SIDE -> DiffRenderer.sideBySide(this);
            case UNIFIED -> DiffRenderer.unified(this);
            case JSON -> DiffRenderer.json(this);
            case SQL -> migration().toSql() + DiffRenderer.historySql(history.equalizeStatements());
        };
    }

    @Override
    public String toString() {
        return render(DiffFormat.UNIFIED);
    }
}

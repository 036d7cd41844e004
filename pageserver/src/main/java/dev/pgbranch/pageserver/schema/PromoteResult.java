package dev.pgbranch.pageserver.schema;

import java.util.List;

/**
 * What a promote did (or, for a dry run, would do). Immutable, thread-safe.
 *
 * @param diff       the diff the promote was planned from (branch = source, parent = target)
 * @param promoted   the changes carried to the parent: the branch's own changes with a base,
 *                   every difference without one
 * @param migration  the statements planned, in order
 * @param applied    true when the statements ran and committed on the parent
 * @param overridden conflicts that {@code force} overrode (the branch's version won)
 * @param historyRowsCarried migration-history rows written into the parent (or, dry run, to be written)
 */
public record PromoteResult(SchemaDiff diff, List<Change> promoted, Migration migration, boolean applied,
                            List<Conflict> overridden, int historyRowsCarried) {

    public PromoteResult {
        promoted = List.copyOf(promoted);
        overridden = List.copyOf(overridden);
    }

    /**
     * JSON for the API: {@code {"branch", "parent", "base", "applied", "promoted": [change],
     * "overriddenConflicts": [conflict], "migration": [{"sql", "phase"}], "sql": script, "history": [table], "historyRowsCarried": n}}, with
     * change and conflict shaped as in {@link DiffFormat#JSON}.
     */
    public String toJson() {
        return DiffRenderer.promoteJson(this);
    }
}

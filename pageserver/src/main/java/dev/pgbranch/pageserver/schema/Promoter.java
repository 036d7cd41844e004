package dev.pgbranch.pageserver.schema;

import dev.pgbranch.pageserver.schema.MigrationStatement.Phase;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.time.Duration;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Promote: carries a branch's schema changes to its parent.
 *
 * <p>With a base (the parent at the branch point), only what changed on the branch since then
 * is applied; the parent's own later changes are kept. Without one, the parent is made equal
 * to the branch. Steps:
 * <ol>
 *   <li>diff branch, parent (and base); refuse on a protected parent or on conflicts unless
 *       {@code force} (then the branch's version of a conflicting object wins);</li>
 *   <li>plan the migration from the parent's current schema to the wanted one;</li>
 *   <li>unless a dry run: run the statements that must precede a transaction
 *       ({@code ALTER TYPE ... ADD VALUE}), then all others in one transaction, then re-read the
 *       parent's catalog <em>inside that transaction</em> and commit only if it equals the wanted
 *       schema; then run {@code CREATE INDEX CONCURRENTLY} (when asked for) and verify again.</li>
 * </ol>
 * The rows of migration-history tables ({@link HistoryDiff}) the branch added, removed or changed
 * are written in that same transaction, after the DDL (which may create the table), and checked
 * before the commit: the parent's migration tool then finds nothing to apply.
 *
 * <p>Crash behaviour: a failure or crash inside the transaction leaves the parent unchanged,
 * except for enum labels added before it (harmless: unused labels). A failure in the
 * after-transaction phase leaves an invalid index that the error names.
 *
 * <p>Stateless and thread-safe; concurrent promotes into one parent are serialized by Postgres
 * locks, and the in-transaction verification catches a schema changed underneath.
 */
public final class Promoter {

    private static final Logger LOG = System.getLogger(Promoter.class.getName());

    /**
     * @param dryRun            plan and report only
     * @param force             promote despite conflicts or a protected parent
     * @param parentProtected   whether the parent branch is protected (the catalog knows)
     * @param concurrentIndexes create indexes on existing tables with {@code CONCURRENTLY},
     *                          after the transaction, so writers on the parent are not blocked
     * @param lockTimeout       how long one statement may wait for a lock on the parent (a
     *                          long transaction holding a table) before the promote fails with
     *                          SQLSTATE 55P03 and rolls back, instead of queueing every other
     *                          session behind its own lock request
     * @param historyTables     the migration-history tables to carry besides the tools' own
     */
    public record Options(boolean dryRun, boolean force, boolean parentProtected, boolean concurrentIndexes,
                          Duration lockTimeout, HistoryTables historyTables) {

        /** Default lock timeout: long enough for a busy OLTP parent, short enough to notice. */
        public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(30);

        public Options {
            Objects.requireNonNull(lockTimeout, "lockTimeout");
            Objects.requireNonNull(historyTables, "historyTables");
            if (lockTimeout.isNegative() || lockTimeout.isZero()) {
                throw new SchemaException(SchemaException.Code.BAD_REQUEST, "lock timeout must be positive: " + lockTimeout);
            }
        }

        public Options(boolean dryRun, boolean force, boolean parentProtected, boolean concurrentIndexes) {
            this(dryRun, force, parentProtected, concurrentIndexes, DEFAULT_LOCK_TIMEOUT, HistoryTables.KNOWN);
        }

        public Options(boolean dryRun, boolean force, boolean parentProtected, boolean concurrentIndexes,
                       Duration lockTimeout) {
            this(dryRun, force, parentProtected, concurrentIndexes, lockTimeout, HistoryTables.KNOWN);
        }

        /** These options with the project's own migration-history tables. */
        public Options withHistoryTables(HistoryTables tables) {
            return new Options(dryRun, force, parentProtected, concurrentIndexes, lockTimeout, tables);
        }

        /** Dry run off, no force, unprotected parent, indexes inside the transaction. */
        public static Options defaults() {
            return new Options(false, false, false, false);
        }
    }

    private Promoter() {
    }

    /**
     * Promotes {@code branch}'s schema changes into {@code parent}.
     *
     * @param base the parent as it was at the branch point, or null for a two-way promote
     * @throws SchemaException PROTECTED, CONFLICT, APPLY_FAILED (rolled back), VERIFY_FAILED or
     *                         INTROSPECTION_FAILED
     */
    public static PromoteResult promote(ConnectionSource branch, ConnectionSource parent, ConnectionSource base, Options options) {
        Objects.requireNonNull(options, "options");
        SchemaDiff diff = SchemaDiffer.compare(branch, parent, base, options.historyTables());
        if (options.parentProtected() && !options.force()) {
            throw new SchemaException(SchemaException.Code.PROTECTED,
                    "branch " + parent.label() + " is protected: promote with force to change its schema");
        }
        if (!diff.conflicts().isEmpty() && !options.force()) {
            throw new SchemaException(SchemaException.Code.CONFLICT, diff.conflicts().size() + " conflicting change(s) between "
                    + branch.label() + " and " + parent.label() + ": "
                    + diff.conflicts().stream().map(Conflict::toString).collect(Collectors.joining("; ")));
        }
        if (!diff.history().conflicts().isEmpty() && !options.force()) {
            throw new SchemaException(SchemaException.Code.CONFLICT, diff.history().conflicts().size()
                    + " migration-history row(s) changed differently on " + branch.label() + " and " + parent.label()
                    + ": " + diff.history().describeConflicts());
        }
        List<Change> promoted = diff.hasBase() ? diff.branchChanges() : diff.changes();
        SchemaSnapshot wanted = diff.hasBase() ? merge(diff.target, diff.source, promoted) : diff.source;
        Migration migration = MigrationPlanner.plan(diff.target, wanted, options.concurrentIndexes());
        List<String> history = diff.history().carryStatements(options.force());
        List<Conflict> overridden = options.force() ? diff.conflicts() : List.of();
        if (options.dryRun() || (migration.isEmpty() && history.isEmpty())) {
            return new PromoteResult(diff, promoted, migration, false, overridden, history.size());
        }
        apply(parent, migration, wanted, options.lockTimeout(), new Rows(diff.history(), history, options));
        return new PromoteResult(diff, promoted, migration, true, overridden, history.size());
    }

    /** The history rows to write in the transaction, and how to check them. */
    private record Rows(HistoryDiff diff, List<String> statements, Options options) {
    }

    /** The parent's schema with every object the branch changed replaced by the branch's version. */
    static SchemaSnapshot merge(SchemaSnapshot parent, SchemaSnapshot branch, List<Change> branchChanges) {
        Map<ObjectId, DbObject> objects = new TreeMap<>(parent.objects());
        Set<ObjectId> fromBranch = new HashSet<>();
        for (Change c : branchChanges) {
            fromBranch.add(c.id());
            DbObject b = branch.get(c.id());
            if (b == null) {
                objects.remove(c.id());
            } else {
                objects.put(c.id(), b);
            }
        }
        Map<ObjectId, Set<ObjectId>> edges = new HashMap<>();
        for (ObjectId id : objects.keySet()) {
            SchemaSnapshot origin = fromBranch.contains(id) ? branch : parent;
            Set<ObjectId> deps = new HashSet<>();
            for (ObjectId dep : origin.dependenciesOf(id)) {
                if (objects.containsKey(dep)) {
                    deps.add(dep);
                }
            }
            edges.put(id, deps);
        }
        return new SchemaSnapshot(new TreeMap<>(objects), edges, parent.currentUser());
    }

    private static void apply(ConnectionSource parent, Migration migration, SchemaSnapshot wanted, Duration lockTimeout,
                              Rows rows) {
        try (Connection c = parent.open()) {
            c.setAutoCommit(true);
            try (Statement s = c.createStatement()) {
                s.execute("SET lock_timeout = " + Math.max(1, lockTimeout.toMillis()));
            }
            int n = 0;
            for (String sql : migration.sql(Phase.BEFORE_TRANSACTION)) {
                execute(c, sql, ++n, "before the transaction; nothing else was applied");
            }
            List<String> inTx = migration.sql(Phase.IN_TRANSACTION);
            List<String> after = migration.sql(Phase.AFTER_TRANSACTION);
            if (!inTx.isEmpty() || !rows.statements().isEmpty()) {
                c.setAutoCommit(false);
                try {
                    try (Statement s = c.createStatement()) {
                        s.execute("SET LOCAL check_function_bodies = off");
                    }
                    for (String sql : inTx) {
                        execute(c, sql, ++n, "rolled back");
                    }
                    for (String sql : rows.statements()) {
                        execute(c, sql, ++n, "migration history row; rolled back");
                    }
                    List<Change> left = remaining(CatalogReader.read(c), wanted, !after.isEmpty());
                    if (!left.isEmpty()) {
                        throw new SchemaException(SchemaException.Code.VERIFY_FAILED,
                                "after the migration " + parent.label() + " still differs from the promoted schema, rolled back: " + left);
                    }
                    List<String> missing = rows.diff().notCarried(HistoryReader.read(c, rows.options().historyTables()),
                            rows.options().force());
                    if (!missing.isEmpty()) {
                        throw new SchemaException(SchemaException.Code.VERIFY_FAILED, "after the migration "
                                + parent.label() + " lacks migration-history rows of the branch, rolled back: " + missing);
                    }
                    c.commit();
                } catch (SQLException | RuntimeException e) {
                    rollbackQuietly(c);
                    throw e;
                } finally {
                    c.setAutoCommit(true);
                }
            }
            for (String sql : after) {
                execute(c, sql, ++n, "the transaction had committed; this and later statements did not complete");
            }
            if (!after.isEmpty()) {
                List<Change> left = remaining(CatalogReader.read(c), wanted, false);
                if (!left.isEmpty()) {
                    throw new SchemaException(SchemaException.Code.VERIFY_FAILED,
                            "after the concurrent index builds " + parent.label() + " still differs: " + left);
                }
            }
        } catch (SQLException e) {
            throw new SchemaException(SchemaException.Code.APPLY_FAILED,
                    "promote into " + parent.label() + " failed: " + e.getMessage(), e.getSQLState(), e);
        }
    }

    /** Differences between what the parent has and what was wanted; concurrent indexes may still be missing. */
    private static List<Change> remaining(SchemaSnapshot actual, SchemaSnapshot wanted, boolean indexesPending) {
        return Change.between(actual, wanted).stream()
                .filter(ch -> !(indexesPending && ch.id().kind() == ObjectKind.INDEX && ch.type() == Change.Type.ADDED))
                .toList();
    }

    private static void execute(Connection c, String sql, int number, String consequence) {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new SchemaException(SchemaException.Code.APPLY_FAILED,
                    "statement " + number + " failed (" + consequence + "): " + sql + ": " + e.getMessage(), e.getSQLState(), e);
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            LOG.log(Level.WARNING, "rollback failed (the server discards the transaction when the connection closes)", e);
        }
    }
}

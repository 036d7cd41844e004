package dev.pgbranch.pageserver.review;

import dev.pgbranch.pageserver.branch.BranchException;
import dev.pgbranch.pageserver.branch.BranchService;
import dev.pgbranch.pageserver.branch.ConnectionInfo;
import dev.pgbranch.pageserver.catalog.Branch;
import dev.pgbranch.pageserver.catalog.BranchName;
import dev.pgbranch.pageserver.catalog.Catalog;
import dev.pgbranch.pageserver.catalog.CatalogState;
import dev.pgbranch.pageserver.catalog.Project;
import dev.pgbranch.pageserver.compute.ComputeManager;
import dev.pgbranch.pageserver.schema.Change;
import dev.pgbranch.pageserver.schema.ConnectionSource;
import dev.pgbranch.pageserver.schema.ObjectId;
import dev.pgbranch.pageserver.schema.Promoter;
import dev.pgbranch.pageserver.schema.PromoteResult;
import dev.pgbranch.pageserver.schema.SchemaDiff;
import dev.pgbranch.pageserver.schema.SchemaDiffer;
import dev.pgbranch.pageserver.schema.SchemaException;
import dev.pgbranch.storage.Ancestor;
import dev.pgbranch.storage.Lsn;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.TimelineId;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Schema diff and promote between branches of a running server.
 *
 * <p>Sides are reached like any client reaches them: each branch's compute is woken through the
 * branch service and connected to with its connection details (the proxy's branch port). The
 * three-way base, used whenever a branch is compared with (or promoted into) its parent, is the
 * parent as it was when the branch's current timeline was taken: the branch's ancestor timeline
 * at the branch's {@code parentLsn}, served by a {@link BaseCompute} on a temporary timeline that
 * is stopped and deleted when the request ends, pass or fail.
 *
 * <p>Finding the base: walking the branch's timeline ancestry, restores of the branch add links
 * into its own earlier timelines at LSNs at or after {@code parentLsn}; the first link at exactly
 * {@code parentLsn} is the branch point (a reset of the branch records a new {@code parentLsn}
 * and a new ancestor, so the walk finds the new branch point). If the parent was reset or
 * restored since, that ancestor is the parent's earlier, retired timeline: the store keeps it
 * while the branch descends from it, and it is used as the base (the report says so).
 *
 * <p>Databases: every database that accepts connections and is not a template, compared by name;
 * one present on one side only is reported, not compared, and blocks a promote of all databases.
 *
 * <p>Thread-safety: safe for concurrent use. Requests that need the base of the same branch are
 * serialized (one base compute per branch at a time); others run in parallel.
 */
public final class SchemaReview {

    private static final System.Logger LOG = System.getLogger(SchemaReview.class.getName());

    /** Ancestry deeper than this is a corrupt store, not restores: stop walking. */
    private static final int MAX_ANCESTRY = 1024;

    private final BranchService branches;
    private final Catalog catalog;
    private final PageStore store;
    private final ComputeManager computes;
    private final Map<String, ReentrantLock> baseLocks = new ConcurrentHashMap<>();
    private volatile DataChanges dataChanges = DataChanges.NONE;

    public SchemaReview(BranchService branches, Catalog catalog, PageStore store, ComputeManager computes) {
        this.branches = branches;
        this.catalog = catalog;
        this.store = store;
        this.computes = computes;
    }

    /** What a promote may do: see {@link Promoter.Options}. */
    public record PromoteOptions(boolean dryRun, boolean force, boolean concurrentIndexes) {
    }

    /**
     * Diffs {@code branch} against {@code against} (null: its parent, three-way with the base),
     * in {@code database} (null: every database).
     *
     * @throws ReviewException with the code the API answers with
     */
    public DiffReport diff(String project, String branch, String against, String database) {
        long started = System.nanoTime();
        Map<String, Long> timings = Collections.synchronizedMap(new LinkedHashMap<>()); // the base starts on another thread
        Branch source = branch(project, branch);
        BranchName targetName;
        if (against == null || against.isBlank()) {
            if (source.parent() == null) {
                throw new ReviewException(ReviewException.Code.BAD_REQUEST, "branch '" + source.name()
                        + "' is the root branch and has no parent: name the branch to compare with (against / --against)");
            }
            targetName = source.parent();
        } else {
            targetName = branch(project, against).name();
        }
        if (targetName.equals(source.name())) {
            throw new ReviewException(ReviewException.Code.BAD_REQUEST, "cannot diff branch '" + source.name()
                    + "' against itself");
        }
        boolean threeWay = targetName.equals(source.parent());
        List<String> notes = new ArrayList<>();
        Optional<Ancestor> basePoint = threeWay ? Optional.of(basePoint(project, source, notes)) : Optional.empty();
        if (!threeWay) {
            notes.add("two-way diff: " + targetName + " is not the parent of " + source.name()
                    + ", so changes on either side are not told apart");
        }
        return withSides(project, source, targetName, basePoint, timings, (branchSide, targetSide, baseSide) -> {
            long introspection = System.nanoTime();
            Databases dbs = Databases.select(branchSide, targetSide, baseSide, database);
            List<DiffReport.DatabaseDiff> diffs = new ArrayList<>();
            for (String db : dbs.common()) {
                ConnectionSource base = baseSide == null || !dbs.onBase().contains(db) ? null : baseSide.database(db);
                if (baseSide != null && base == null) {
                    notes.add("database " + db + " did not exist at the branch point: compared two-way");
                }
                diffs.add(new DiffReport.DatabaseDiff(db, compare(branchSide.database(db), targetSide.database(db), base)));
            }
            timings.put("introspection", millisSince(introspection));
            timings.put("total", millisSince(started));
            return new DiffReport(source.name().value(), targetName.value(), baseSide == null ? null : baseSide.label(),
                    diffs, dbs.onlyOnBranch(), dbs.onlyOnTarget(), notes, timings);
        });
    }

    /**
     * Promotes {@code branch}'s schema changes since its branch point into its parent, in
     * {@code database} (null: every database, all checked for conflicts before any is changed).
     *
     * @throws ReviewException PROTECTED, CONFLICT, APPLY_FAILED, VERIFY_FAILED, ...
     */
    public PromoteReport promote(String project, String branch, String database, PromoteOptions options) {
        long started = System.nanoTime();
        Map<String, Long> timings = Collections.synchronizedMap(new LinkedHashMap<>()); // the base starts on another thread
        Branch source = branch(project, branch);
        if (source.parent() == null) {
            throw new ReviewException(ReviewException.Code.BAD_REQUEST, "branch '" + source.name()
                    + "' is the root branch: it has no parent to promote into");
        }
        Branch parent = branch(project, source.parent().value());
        boolean force = options.force();
        List<String> notes = new ArrayList<>();
        boolean refuseProtected = parent.protectedBranch() && !force;
        if (refuseProtected && !options.dryRun()) {
            // Refused before any compute is started: cheap and clear.
            throw new ReviewException(ReviewException.Code.PROTECTED, "branch '" + parent.name()
                    + "' is protected: promote with --force (\"force\": true) to change its schema");
        }
        if (refuseProtected) {
            notes.add("branch '" + parent.name() + "' is protected: the promote itself needs --force");
        }
        // A dry run shows what would be applied even to a protected parent (the note says it would be refused).
        boolean checkProtected = parent.protectedBranch() && !options.dryRun();
        Ancestor basePoint = basePoint(project, source, notes);
        return withSides(project, source, parent.name(), Optional.of(basePoint), timings, (branchSide, parentSide, baseSide) -> {
            long introspection = System.nanoTime();
            Databases dbs = Databases.select(branchSide, parentSide, baseSide, database);
            dbs.checkPromotable(source.name().value(), parent.name().value());
            Promoter.Options dry = new Promoter.Options(true, force, checkProtected, options.concurrentIndexes());
            Promoter.Options real = new Promoter.Options(options.dryRun(), force, checkProtected, options.concurrentIndexes());
            if (!options.dryRun() && dbs.common().size() > 1) {
                // Refuse on a conflict in any database before changing any of them.
                for (String db : dbs.common()) {
                    promoteOne(db, branchSide, parentSide, baseSide, dbs, dry, List.of());
                }
            }
            List<PromoteReport.DatabasePromote> results = new ArrayList<>();
            List<String> done = new ArrayList<>();
            for (String db : dbs.common()) {
                PromoteResult r = promoteOne(db, branchSide, parentSide, baseSide, dbs, real, done);
                results.add(new PromoteReport.DatabasePromote(db, r));
                if (r.applied()) {
                    done.add(db);
                }
            }
            boolean verified = false;
            if (!options.dryRun()) {
                verify(branchSide, parentSide, results);
                verified = true;
            }
            timings.put("introspectionAndApply", millisSince(introspection));
            timings.put("total", millisSince(started));
            if (!done.isEmpty()) {
                LOG.log(Level.INFO, "promoted schema changes of {0}/{1} into {2} (databases {3})", project,
                        source.name(), parent.name(), done);
            }
            return new PromoteReport(source.name().value(), parent.name().value(), baseSide.label(), options.dryRun(),
                    verified, results, notes, timings);
        });
    }

    /**
     * Rebases {@code branch} onto its parent's head: a new timeline at the parent's head, the
     * branch's own schema changes (the three-way diff's "changed on the branch") and its
     * migration-history rows replayed on it through a temporary compute, then the branch
     * repointed at it, the replaced state kept as a backup branch. All or nothing: a conflict (in
     * any database) or a failed statement changes nothing, and the temporary timeline is deleted.
     * A dry run plans the replay against the parent and changes nothing.
     *
     * <p>Data changes on the branch are not carried: they are listed (by the data diff, when one
     * is attached) and stay in the backup branch; so do schema changes made on the branch while
     * the rebase runs.
     *
     * @throws ReviewException PROTECTED, CONFLICT, APPLY_FAILED, VERIFY_FAILED, ...
     */
    public RebaseReport rebase(String project, String branch, boolean dryRun) {
        long started = System.nanoTime();
        Map<String, Long> timings = Collections.synchronizedMap(new LinkedHashMap<>());
        Branch source = branch(project, branch);
        if (source.parent() == null) {
            throw new ReviewException(ReviewException.Code.BAD_REQUEST, "branch '" + source.name()
                    + "' is the root branch: it has no parent to rebase onto");
        }
        if (source.protectedBranch() && !dryRun) {
            throw new ReviewException(ReviewException.Code.PROTECTED, "branch '" + source.name()
                    + "' is protected and cannot be rebased; run 'pgbranch branch unprotect " + source.name() + "' first");
        }
        BranchName parentName = source.parent();
        List<String> notes = new ArrayList<>();
        Ancestor basePoint = basePoint(project, source, notes);
        return withSides(project, source, parentName, Optional.of(basePoint), timings, (branchSide, parentSide, baseSide) -> {
            Databases dbs = Databases.select(branchSide, parentSide, baseSide, null);
            dbs.checkPromotable(source.name().value(), parentName.value());
            Promoter.Options plan = new Promoter.Options(true, false, false, false);
            List<RebaseReport.DataChange> data = dataChanges.of(project, source, branchSide, baseSide, dbs.common(), notes);
            if (dryRun) {
                List<PromoteReport.DatabasePromote> results = new ArrayList<>();
                for (String db : dbs.common()) {
                    results.add(new PromoteReport.DatabasePromote(db,
                            promoteOne(db, branchSide, parentSide, baseSide, dbs, plan, List.of())));
                }
                timings.put("total", millisSince(started));
                return new RebaseReport(source.name().value(), parentName.value(), baseSide.label(), true, null, null,
                        results, withoutHistory(data, results), notes, timings);
            }
            long fork = System.nanoTime();
            Ancestor head;
            try {
                head = branches.parentHead(project, source.name().value());
            } catch (BranchException e) {
                throw ReviewException.of(e);
            }
            BaseCompute candidate = BaseCompute.start(store, computes, rebaseKey(project, source.name()), head);
            timings.put("candidateCompute", millisSince(fork));
            boolean handedOver = false;
            try {
                Endpoint onto = new Endpoint(parentName.value() + "@" + Lsn.format(head.lsn()) + " (rebase)", "127.0.0.1",
                        candidate.port(), branchSide.user(), branchSide.password());
                Databases ontoDbs = Databases.select(branchSide, onto, baseSide, null);
                ontoDbs.checkPromotable(source.name().value(), parentName.value());
                for (String db : ontoDbs.common()) { // conflicts in any database refuse before any is changed
                    promoteOne(db, branchSide, onto, baseSide, ontoDbs, plan, List.of());
                }
                long replay = System.nanoTime();
                List<PromoteReport.DatabasePromote> results = new ArrayList<>();
                Promoter.Options real = new Promoter.Options(false, false, false, false);
                for (String db : ontoDbs.common()) {
                    results.add(new PromoteReport.DatabasePromote(db,
                            promoteOne(db, branchSide, onto, baseSide, ontoDbs, real, List.of())));
                }
                verify(branchSide, onto, results);
                timings.put("replay", millisSince(replay));
                TimelineId timeline = candidate.release();
                handedOver = true;
                String backup;
                try {
                    backup = branches.rebase(project, source.name().value(), source.timeline(), timeline, head.lsn());
                } catch (BranchException e) {
                    throw ReviewException.of(e);
                }
                timings.put("total", millisSince(started));
                return new RebaseReport(source.name().value(), parentName.value(), baseSide.label(), false,
                        Lsn.format(head.lsn()), backup, results, withoutHistory(data, results), notes, timings);
            } finally {
                if (!handedOver) {
                    candidate.close();
                }
            }
        });
    }

    /** Lists, for a rebase, the tables whose rows the branch changed since the branch point. */
    @FunctionalInterface
    interface DataChanges {
        /** No listing: no data diff attached. */
        DataChanges NONE = (project, branch, branchSide, base, databases, notes) -> List.of();

        List<RebaseReport.DataChange> of(String project, Branch branch, Endpoint branchSide, Endpoint base,
                                         List<String> databases, List<String> notes);
    }

    /** Attaches the data diff that lists what a rebase does not carry. */
    void dataChanges(DataChanges changes) {
        this.dataChanges = changes;
    }

    /** Migration-history tables are carried by the rebase: not among the data it leaves behind. */
    private static List<RebaseReport.DataChange> withoutHistory(List<RebaseReport.DataChange> data,
                                                                List<PromoteReport.DatabasePromote> results) {
        Set<String> carried = new HashSet<>();
        for (PromoteReport.DatabasePromote r : results) {
            r.result().diff().history().tables().forEach(t -> carried.add(r.database() + "\0" + t.table()));
        }
        return data.stream().filter(d -> !carried.contains(d.database() + "\0" + d.table())).toList();
    }

    private static String rebaseKey(String project, BranchName branch) {
        return project + "." + branch.value().replace('/', '+') + "#rebase";
    }

    // ------------------------------------------------------------------------------------------

    /** The work done once every side is reachable. */
    private interface SideWork<T> {
        T run(Endpoint branch, Endpoint target, Endpoint base);
    }

    /**
     * Wakes the branch and the target, starts the base compute in parallel when asked for, runs
     * {@code work}, and stops the base compute and deletes its timeline whatever happens.
     */
    private <T> T withSides(String project, Branch source, BranchName targetName, Optional<Ancestor> basePoint,
                            Map<String, Long> timings, SideWork<T> work) {
        ReentrantLock lock = null;
        if (basePoint.isPresent()) {
            lock = baseLocks.computeIfAbsent(baseKey(project, source.name()), k -> new ReentrantLock());
            lock.lock();
        }
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<BaseCompute> baseFuture = basePoint.map(at -> executor.submit(() -> {
                long start = System.nanoTime();
                BaseCompute base = BaseCompute.start(store, computes, baseKey(project, source.name()), at);
                timings.put("baseCompute", millisSince(start));
                return base;
            })).orElse(null);
            BaseCompute base = null;
            try {
                long wake = System.nanoTime();
                Endpoint branchSide = endpoint(project, source.name().value(), source.name().value());
                Endpoint targetSide = endpoint(project, targetName.value(), targetName.value());
                timings.put("wake", millisSince(wake));
                Endpoint baseSide = null;
                if (baseFuture != null) {
                    base = await(baseFuture);
                    baseFuture = null;
                    Ancestor at = basePoint.get();
                    baseSide = new Endpoint(targetName.value() + "@" + Lsn.format(at.lsn()), "127.0.0.1", base.port(),
                            branchSide.user(), branchSide.password());
                }
                return work.run(branchSide, targetSide, baseSide);
            } finally {
                if (baseFuture != null) {
                    // Failed before the base was awaited: it may still come up, and must go again.
                    try {
                        base = await(baseFuture);
                    } catch (ReviewException e) {
                        base = null; // it cleaned up after itself
                    }
                }
                if (base != null) {
                    long stop = System.nanoTime();
                    base.close();
                    timings.put("baseComputeStop", millisSince(stop));
                    // The base held the parent's retired timeline (if any) alive: let it go now.
                    branches.collectGarbage();
                }
            }
        } finally {
            if (lock != null) {
                lock.unlock();
            }
        }
    }

    private static BaseCompute await(Future<BaseCompute> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ReviewException r) {
                throw r;
            }
            throw new ReviewException(ReviewException.Code.INTERNAL, "the base compute failed: " + e.getCause(), null,
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReviewException(ReviewException.Code.INTERNAL, "interrupted while starting the base compute");
        }
    }

    /** The compute key of a branch's base: '#' is not allowed in branch names, so no branch has it. */
    private static String baseKey(String project, BranchName branch) {
        return project + "." + branch.value().replace('/', '+') + "#base";
    }

    /** Wakes the branch's compute and returns how to reach it as a client does. */
    Endpoint endpoint(String project, String name, String label) {
        try {
            branches.startCompute(project, name);
            ConnectionInfo c = branches.connection(project, name);
            return new Endpoint(label, c.host(), c.port(), c.user(), c.password());
        } catch (BranchException e) {
            throw ReviewException.of(e);
        }
    }

    /** Where the branch's current timeline was taken from its parent; see the class comment. */
    Ancestor basePoint(String project, Branch branch, List<String> notes) {
        long parentLsn = branch.parentLsn();
        TimelineId current = branch.timeline();
        try {
            for (int hops = 0; hops < MAX_ANCESTRY; hops++) {
                Optional<Ancestor> link = store.ancestor(current);
                if (link.isEmpty() || Long.compareUnsigned(link.get().lsn(), parentLsn) < 0) {
                    break;
                }
                if (link.get().lsn() == parentLsn) {
                    describeBase(project, branch, link.get(), notes);
                    return link.get();
                }
                current = link.get().timeline();
            }
        } catch (RuntimeException e) {
            throw baseUnavailable(branch, e.getMessage());
        }
        throw baseUnavailable(branch, "no ancestor of its timeline " + branch.timeline() + " is at that LSN");
    }

    private void describeBase(String project, Branch branch, Ancestor base, List<String> notes) {
        CatalogState state = catalog.state();
        Optional<Branch> parent = state.project(project).flatMap(p -> p.branch(branch.parent()));
        if (parent.isPresent() && !parent.get().timeline().equals(base.timeline())) {
            notes.add(branch.parent() + " was reset or restored after " + branch.name() + " was taken: the base is "
                    + branch.parent() + "'s earlier history at " + Lsn.format(base.lsn()) + " (timeline " + base.timeline()
                    + (state.retiredTimelines().contains(base.timeline()) ? ", retired" : "") + ")");
        }
    }

    private static ReviewException baseUnavailable(Branch branch, String why) {
        return new ReviewException(ReviewException.Code.BASE_UNAVAILABLE, "the history of '" + branch.parent()
                + "' at " + Lsn.format(branch.parentLsn()) + ", where '" + branch.name() + "' was taken, cannot be read ("
                + why + "); compare two-way by naming another branch, or reset '" + branch.name() + "' from its parent");
    }

    Branch branch(String project, String name) {
        BranchName parsed;
        try {
            parsed = BranchName.of(name);
        } catch (IllegalArgumentException e) {
            throw new ReviewException(ReviewException.Code.BAD_REQUEST, e.getMessage());
        }
        Project p = catalog.state().project(project).orElseThrow(() -> new ReviewException(
                ReviewException.Code.NOT_FOUND, "project '" + project + "' does not exist"));
        return p.branch(parsed).orElseThrow(() -> new ReviewException(ReviewException.Code.NOT_FOUND,
                "branch '" + parsed + "' does not exist in project '" + project + "'"));
    }

    private static SchemaDiff compare(ConnectionSource source, ConnectionSource target, ConnectionSource base) {
        try {
            return SchemaDiffer.compare(source, target, base);
        } catch (SchemaException e) {
            throw ReviewException.of(e);
        }
    }

    private static PromoteResult promoteOne(String db, Endpoint branch, Endpoint parent, Endpoint base, Databases dbs,
                                            Promoter.Options options, List<String> alreadyPromoted) {
        ConnectionSource baseSource = dbs.onBase().contains(db) ? base.database(db) : null;
        try {
            return Promoter.promote(branch.database(db), parent.database(db), baseSource, options);
        } catch (SchemaException e) {
            ReviewException r = ReviewException.of(e);
            String prefix = "database " + db + ": ";
            String suffix = alreadyPromoted.isEmpty() ? "" : " (databases already promoted and kept: "
                    + String.join(", ", alreadyPromoted) + ")";
            throw new ReviewException(r.code(), prefix + r.getMessage() + suffix, r.sqlState(), e);
        }
    }

    /**
     * After the promote: every object promoted (or found already promoted) must now be the same
     * on the branch and the parent; other differences, such as the parent's own later changes,
     * may remain.
     */
    private static void verify(Endpoint branch, Endpoint parent, List<PromoteReport.DatabasePromote> results) {
        for (PromoteReport.DatabasePromote d : results) {
            Set<ObjectId> promoted = new HashSet<>();
            d.result().promoted().forEach(c -> promoted.add(c.id()));
            SchemaDiff after = compare(branch.database(d.database()), parent.database(d.database()), null);
            List<Change> left = after.changes().stream().filter(c -> promoted.contains(c.id())).toList();
            if (!left.isEmpty()) {
                throw new ReviewException(ReviewException.Code.VERIFY_FAILED, "database " + d.database()
                        + ": after the promote " + parent.label() + " still differs from " + branch.label() + " in " + left);
            }
        }
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }

    /** Which databases take part, by name. */
    private record Databases(List<String> common, List<String> onlyOnBranch, List<String> onlyOnTarget,
                             Set<String> onBase) {

        static Databases select(Endpoint branch, Endpoint target, Endpoint base, String database) {
            Set<String> onBranch = new TreeSet<>(branch.databases());
            Set<String> onTarget = new TreeSet<>(target.databases());
            Set<String> onBase = base == null ? Set.of() : new TreeSet<>(base.databases());
            if (database != null) {
                for (Endpoint side : new Endpoint[] {branch, target}) {
                    if (!(side == branch ? onBranch : onTarget).contains(database)) {
                        throw new ReviewException(ReviewException.Code.NOT_FOUND, "database '" + database
                                + "' does not exist on branch '" + side.label() + "'");
                    }
                }
                return new Databases(List.of(database), List.of(), List.of(), onBase);
            }
            List<String> common = onBranch.stream().filter(onTarget::contains).toList();
            return new Databases(common, onBranch.stream().filter(d -> !onTarget.contains(d)).toList(),
                    onTarget.stream().filter(d -> !onBranch.contains(d)).toList(), onBase);
        }

        /**
         * A database created or dropped on the branch cannot be promoted (CREATE/DROP DATABASE
         * are not part of a schema migration): refuse rather than promote the others silently.
         */
        void checkPromotable(String branch, String parent) {
            List<String> dropped = onlyOnTarget.stream().filter(onBase::contains).toList();
            if (!onlyOnBranch.isEmpty() || !dropped.isEmpty()) {
                throw new ReviewException(ReviewException.Code.CONFLICT, (onlyOnBranch.isEmpty() ? ""
                        : "database(s) " + onlyOnBranch + " exist only on '" + branch + "'; ")
                        + (dropped.isEmpty() ? "" : "database(s) " + dropped + " were dropped on '" + branch + "'; ")
                        + "databases are not promoted: create or drop them on '" + parent
                        + "' yourself, or promote one database at a time (--database)");
            }
        }
    }
}

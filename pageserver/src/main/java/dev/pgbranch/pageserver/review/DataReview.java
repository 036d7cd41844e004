package dev.pgbranch.pageserver.review;

import dev.pgbranch.pageserver.branch.BranchException;
import dev.pgbranch.pageserver.branch.BranchService;
import dev.pgbranch.pageserver.catalog.Branch;
import dev.pgbranch.pageserver.compute.ComputeManager;
import dev.pgbranch.pageserver.datadiff.DataDiff;
import dev.pgbranch.pageserver.datadiff.DataDiffException;
import dev.pgbranch.pageserver.datadiff.DataDiffer;
import dev.pgbranch.pageserver.datadiff.Scope;
import dev.pgbranch.pageserver.datadiff.TableDataDiff;
import dev.pgbranch.pageserver.datadiff.TableInfo;
import dev.pgbranch.storage.Ancestor;
import dev.pgbranch.storage.Lsn;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.Timeline;
import dev.pgbranch.storage.TimelineId;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Row-level data diff between branches of a running server, reading only the pages that changed
 * (see {@link ChangedRelations}); selective restore from a branch's own history.
 *
 * <p>Sides: {@code branch} against its parent (three-way: the base is the parent at the branch
 * point, a throwaway compute as for the schema diff), against another branch (two-way), or
 * against a point in a branch's history {@code B@<time or LSN>} (a throwaway compute there; then
 * the history is the source and the branch the target, so the SQL brings the old rows back).
 * Live sides are checkpointed first, so that every page their compute changed is in the store;
 * writes that land while the diff runs may or may not be seen (no cross-server snapshot exists).
 *
 * <p>Thread-safety: safe for concurrent use; requests on one branch are serialized (one set of
 * throwaway computes per branch).
 */
public final class DataReview {

    private static final System.Logger LOG = System.getLogger(DataReview.class.getName());

    private final SchemaReview review;
    private final BranchService branches;
    private final PageStore store;
    private final ComputeManager computes;
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    public DataReview(SchemaReview review, BranchService branches, PageStore store, ComputeManager computes) {
        this.review = review;
        this.branches = branches;
        this.store = store;
        this.computes = computes;
        review.dataChanges(this::notCarried);
    }

    /** One side as read: how to reach it and which point of the store it shows. */
    private record Side(Endpoint endpoint, ChangedRelations.Point point) {
    }

    /** The sides of one request and the throwaway computes to stop after it. */
    private static final class Sides implements AutoCloseable {
        Side source;
        Side target;
        Side base;
        final List<BaseCompute> temporary = new ArrayList<>();

        @Override
        public void close() {
            temporary.forEach(BaseCompute::close);
        }
    }

    /**
     * The data diff of {@code branch} against {@code against} (null: its parent, three-way; a
     * branch; or {@code B@point}), for {@code table} ({@code [schema.]table}, null: all) in
     * {@code database} (null: all).
     */
    public DataDiff diff(String project, String branch, String against, String table, String database) {
        Branch source = review.branch(project, branch);
        ReentrantLock lock = locks.computeIfAbsent(project + "\0" + source.name(), k -> new ReentrantLock());
        lock.lock();
        long started = System.nanoTime();
        Map<String, Long> timings = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();
        try (Sides sides = sides(project, source, against, notes)) {
            timings.put("sides", millisSince(started));
            long compare = System.nanoTime();
            DataDiff diff = compare(sides, table, database, notes);
            timings.put("compare", millisSince(compare));
            timings.put("total", millisSince(started));
            return new DataDiff(sides.source.endpoint().label(), sides.target.endpoint().label(),
                    sides.base == null ? null : sides.base.endpoint().label(), diff.databases(), notes, timings);
        } catch (DataDiffException e) {
            throw of(e);
        } finally {
            lock.unlock();
        }
    }

    /** What a selective restore did (or would do): the diff it applied and whether it ran. */
    public record Restore(DataDiff diff, boolean applied, int statements) {
    }

    /**
     * Brings {@code branch}'s rows back to how they were at {@code at} (time or LSN), for
     * {@code table} (null: all) in {@code database} (null: all): the data diff's SQL run on the
     * branch in one transaction per database (a failure rolls it back); a dry run only plans.
     */
    public Restore restore(String project, String branch, String at, String table, String database, boolean dryRun) {
        if (at == null || at.isBlank()) {
            throw new ReviewException(ReviewException.Code.BAD_REQUEST, "a restore needs the point to restore from (at)");
        }
        Branch source = review.branch(project, branch);
        if (source.protectedBranch() && !dryRun) {
            throw new ReviewException(ReviewException.Code.PROTECTED, "branch '" + source.name()
                    + "' is protected: its rows are not restored");
        }
        DataDiff diff = diff(project, branch, source.name().value() + "@" + at, table, database);
        int statements = 0;
        for (DataDiff.Database d : diff.databases()) {
            List<String> sql = new ArrayList<>();
            d.tables().forEach(t -> sql.addAll(t.statements()));
            statements += sql.size();
            if (dryRun || sql.isEmpty()) {
                continue;
            }
            Endpoint target = review.endpoint(project, branch, branch);
            try (Connection c = target.database(d.name()).open()) {
                c.setAutoCommit(false);
                try (Statement s = c.createStatement()) {
                    s.execute("SET CONSTRAINTS ALL DEFERRED");
                    for (String statement : sql) {
                        s.execute(statement);
                    }
                    c.commit();
                } catch (SQLException e) {
                    c.rollback();
                    throw new ReviewException(ReviewException.Code.APPLY_FAILED, "restoring rows of " + branch + " in database "
                            + d.name() + " failed, rolled back: " + e.getMessage(), e.getSQLState(), e);
                }
            } catch (SQLException e) {
                throw new ReviewException(ReviewException.Code.APPLY_FAILED, "cannot reach " + branch + ": " + e.getMessage(),
                        e.getSQLState(), e);
            }
        }
        if (!dryRun && statements > 0) {
            LOG.log(Level.INFO, "restored {0} row change(s) of {1}/{2} from {3}", statements, project, branch, at);
        }
        return new Restore(diff, !dryRun && statements > 0, statements);
    }

    // ------------------------------------------------------------------------------------------

    private Sides sides(String project, Branch source, String against, List<String> notes) {
        Sides sides = new Sides();
        try {
            if (against == null || against.isBlank()) {
                if (source.parent() == null) {
                    throw new ReviewException(ReviewException.Code.BAD_REQUEST, "branch '" + source.name()
                            + "' is the root branch: name the branch to compare with (against / --against)");
                }
                Ancestor basePoint = review.basePoint(project, source, notes);
                sides.source = live(project, source.name().value());
                sides.target = live(project, source.parent().value());
                sides.base = point(project, source, basePoint, source.parent() + "@" + Lsn.format(basePoint.lsn()), "#database", sides);
            } else if (against.contains("@")) {
                int at = against.indexOf('@');
                String name = against.substring(0, at);
                Ancestor point;
                try {
                    point = branches.resolvePoint(project, name, against.substring(at + 1));
                } catch (BranchException e) {
                    throw ReviewException.of(e);
                }
                sides.source = point(project, source, point, against, "#dataat", sides);
                sides.target = live(project, source.name().value());
                notes.add("compared with " + against + ": the SQL brings " + source.name() + "'s rows back to that point");
            } else {
                Branch other = review.branch(project, against);
                if (other.name().equals(source.name())) {
                    throw new ReviewException(ReviewException.Code.BAD_REQUEST, "cannot diff branch '" + source.name()
                            + "' against itself");
                }
                sides.source = live(project, source.name().value());
                sides.target = live(project, other.name().value());
                notes.add("two-way: " + other.name() + " is not the parent of " + source.name()
                        + ", so changes on either side are not told apart");
            }
            return sides;
        } catch (RuntimeException e) {
            sides.close();
            throw e;
        }
    }

    /** A running branch, checkpointed so that its compute's changes are in the store. */
    private Side live(String project, String name) {
        Endpoint endpoint = review.endpoint(project, name, name);
        checkpoint(endpoint);
        Branch b = review.branch(project, name);
        return new Side(endpoint, new ChangedRelations.Point(name, b.timeline(), synced(b.timeline())));
    }

    private Side point(String project, Branch branch, Ancestor at, String label, String suffix, Sides sides) {
        BaseCompute compute = BaseCompute.start(store, computes,
                project + "." + branch.name().value().replace('/', '+') + suffix, at);
        sides.temporary.add(compute);
        Endpoint any = review.endpoint(project, branch.name().value(), branch.name().value());
        Endpoint endpoint = new Endpoint(label, "127.0.0.1", compute.port(), any.user(), any.password());
        checkpoint(endpoint);
        return new Side(endpoint, new ChangedRelations.Point(label, compute.timeline(), synced(compute.timeline())));
    }

    private void checkpoint(Endpoint endpoint) {
        try (Connection c = endpoint.database("postgres").open(); Statement s = c.createStatement()) {
            s.execute("CHECKPOINT");
        } catch (SQLException e) {
            throw new ReviewException(ReviewException.Code.INTROSPECTION_FAILED, "CHECKPOINT on " + endpoint.label()
                    + " failed: " + e.getMessage(), e.getSQLState(), e);
        }
    }

    private long synced(TimelineId id) {
        try {
            Timeline t = store.timeline(id);
            t.sync();
            return t.lastLsn();
        } catch (IOException e) {
            throw new ReviewException(ReviewException.Code.INTERNAL, "syncing timeline " + id + ": " + e.getMessage(), null, e);
        }
    }

    private DataDiff compare(Sides sides, String table, String database, List<String> notes) {
        List<ChangedRelations.Point> points = new ArrayList<>(List.of(sides.source.point(), sides.target.point()));
        if (sides.base != null) {
            points.add(sides.base.point());
        }
        ChangedRelations changed = new ChangedRelations(store, points);
        List<String> databases = new ArrayList<>(new TreeSet<>(sides.source.endpoint().databases()));
        List<String> onTarget = sides.target.endpoint().databases();
        if (database != null) {
            if (!databases.contains(database) || !onTarget.contains(database)) {
                throw new ReviewException(ReviewException.Code.NOT_FOUND, "database '" + database + "' is not on both sides");
            }
            databases = List.of(database);
        }
        List<DataDiff.Database> out = new ArrayList<>();
        for (String db : databases) {
            if (!onTarget.contains(db)) {
                notes.add("database " + db + " is only on " + sides.source.endpoint().label() + ": not compared");
                continue;
            }
            out.add(compareDatabase(sides, changed, db, table));
        }
        return new DataDiff(sides.source.endpoint().label(), sides.target.endpoint().label(), null, out, notes, Map.of());
    }

    private DataDiff.Database compareDatabase(Sides sides, ChangedRelations changed, String db, String table) {
        List<Side> all = new ArrayList<>(List.of(sides.source, sides.target));
        boolean threeWay = sides.base != null && sides.base.endpoint().databases().contains(db);
        if (threeWay) {
            all.add(sides.base);
        }
        List<Connection> connections = new ArrayList<>();
        try {
            List<Map<String, TableInfo>> infos = new ArrayList<>();
            for (Side s : all) {
                Connection c = s.endpoint().database(db).open();
                connections.add(c);
                infos.add(TableInfo.read(c, table));
            }
            TreeSet<String> names = new TreeSet<>(infos.get(0).keySet());
            names.addAll(infos.get(1).keySet());
            if (table != null && names.isEmpty()) {
                throw new ReviewException(ReviewException.Code.NOT_FOUND, "table '" + table + "' is on neither side in database " + db);
            }
            List<TableDataDiff> tables = new ArrayList<>();
            for (String name : names) {
                List<String> paths = new ArrayList<>();
                for (Map<String, TableInfo> info : infos) {
                    TableInfo t = info.get(name);
                    paths.add(t == null ? null : t.filePath());
                }
                Scope scope = changed.scope(paths);
                DataDiffer.Side base = threeWay ? new DataDiffer.Side(sides.base.endpoint().label(), connections.get(2),
                        infos.get(2).get(name)) : null;
                if (base != null && base.table() == null) {
                    base = new DataDiffer.Side(base.label(), base.connection(), null);
                }
                tables.add(DataDiffer.compare(name,
                        new DataDiffer.Side(sides.source.endpoint().label(), connections.get(0), infos.get(0).get(name)),
                        new DataDiffer.Side(sides.target.endpoint().label(), connections.get(1), infos.get(1).get(name)),
                        threeWay ? base : null, scope));
            }
            return new DataDiff.Database(db, tables);
        } catch (SQLException e) {
            throw new ReviewException(ReviewException.Code.INTROSPECTION_FAILED, "reading database " + db + ": " + e.getMessage(),
                    e.getSQLState(), e);
        } catch (IOException e) {
            throw new ReviewException(ReviewException.Code.INTERNAL, "reading the store's namespace: " + e.getMessage(), null, e);
        } finally {
            for (Connection c : connections) {
                try {
                    c.close();
                } catch (SQLException e) {
                    LOG.log(Level.DEBUG, "closing a data diff connection: " + e);
                }
            }
        }
    }

    /** For rebase: the tables whose rows the branch changed since the branch point (not carried). */
    private List<RebaseReport.DataChange> notCarried(String project, Branch branch, Endpoint branchSide, Endpoint base,
                                                    List<String> databases, List<String> notes) {
        try {
            DataDiff diff = diff(project, branch.name().value(), null, null, null);
            List<RebaseReport.DataChange> out = new ArrayList<>();
            for (DataDiff.Database d : diff.databases()) {
                for (TableDataDiff t : d.tables()) {
                    if (!t.onSource().isEmpty()) {
                        out.add(new RebaseReport.DataChange(d.name(), t.table(),
                                t.onSource().stream().filter(c -> c.type() == TableDataDiff.Type.ADDED).count(),
                                t.onSource().stream().filter(c -> c.type() == TableDataDiff.Type.REMOVED).count(),
                                t.onSource().stream().filter(c -> c.type() == TableDataDiff.Type.CHANGED).count()));
                    }
                }
            }
            return Collections.unmodifiableList(out);
        } catch (ReviewException e) {
            notes.add("the branch's data changes could not be listed: " + e.getMessage());
            return List.of();
        }
    }

    private static ReviewException of(DataDiffException e) {
        ReviewException.Code code = switch (e.code()) {
            case BAD_REQUEST -> ReviewException.Code.BAD_REQUEST;
            case READ_FAILED -> ReviewException.Code.INTROSPECTION_FAILED;
            case APPLY_FAILED -> ReviewException.Code.APPLY_FAILED;
        };
        return new ReviewException(code, e.getMessage(), e.sqlState(), e);
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }
}

package dev.pgbranch.pageserver.branch;

import dev.pgbranch.pageserver.catalog.Branch;
import dev.pgbranch.pageserver.catalog.Catalog;
import dev.pgbranch.pageserver.catalog.Project;
import dev.pgbranch.storage.GcResult;
import dev.pgbranch.storage.Lsn;
import dev.pgbranch.storage.NoSuchTimelineException;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.Timeline;
import dev.pgbranch.storage.TimelineId;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Gives up history older than each project's retention window: every {@code --gc-interval}
 * (and on demand, {@code POST /v1/projects/{p}/gc}) it first deletes the retired timelines
 * nothing descends from any more ({@link BranchService#collectGarbage(boolean)}), then for
 * every timeline of every project calls {@link PageStore#collectGarbage} with
 * <ul>
 *   <li>a branch's timeline: horizon = {@code lsnAt(now - retention)}, the state at the window's
 *       start, so every point inside the window stays restorable; when the timeline has no mark
 *       that old (younger than the window) it is only compacted (horizon unchanged);</li>
 *   <li>a retired timeline (its branch was reset, restored without backup or deleted, and a
 *       descendant still reads through it): horizon = its last LSN. No API reaches its history
 *       any more; the engine keeps every child's branch point readable by itself.</li>
 * </ul>
 * The engine never drops what a child's branch point or a head (where running computes read)
 * needs. One timeline's failure is logged and reported, and does not stop the others.
 *
 * <p>Each round first writes every in-memory layer to a layer file, so that compaction sees
 * all history and the shared ingest log can be trimmed behind it.
 *
 * <p>Thread-safety: runs are serialized (one at a time, scheduled or requested); counters are
 * atomic. {@link #close} stops the schedule and waits for a running round.
 */
public final class GarbageCollector implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(GarbageCollector.class.getName());

    private final Catalog catalog;
    private final PageStore store;
    private final BranchService branches;
    private final ScheduledExecutorService executor;
    private final AtomicLong runs = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong bytesFreed = new AtomicLong();
    private final AtomicLong lastDurationNanos = new AtomicLong();

    public GarbageCollector(Catalog catalog, PageStore store, BranchService branches) {
        this.catalog = catalog;
        this.store = store;
        this.branches = branches;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "pgbranch-gc");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Runs every {@code interval}, the first time one interval after start. */
    public void start(Duration interval) {
        long millis = Math.max(1, interval.toMillis());
        executor.scheduleWithFixedDelay(() -> {
            try {
                collect(null);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "garbage collection round failed (retried next round): " + e, e);
            }
        }, millis, millis, TimeUnit.MILLISECONDS);
    }

    /** What one timeline's collection did, or why it failed ({@code error} set, sizes 0). */
    public record Entry(String project, String branch, TimelineId timeline, boolean retired, String horizonLsn,
                        boolean windowApplied, int layerFilesBefore, int layerFilesAfter, long bytesBefore,
                        long bytesAfter, long versionsDropped, String error) {
    }

    /** One round: when it started, how long it took, what it did to each timeline. */
    public record Report(Instant startedAt, Duration duration, List<Entry> entries) {

        public long bytesFreed() {
            return entries.stream().mapToLong(e -> Math.max(0, e.bytesBefore() - e.bytesAfter())).sum();
        }
    }

    /**
     * Runs one round now over {@code project} (or every project when {@code null}) and returns
     * what it did. Waits for a round already running.
     *
     * @throws BranchException NOT_FOUND if the project does not exist
     */
    public synchronized Report collect(String project) {
        if (project != null && catalog.state().project(project).isEmpty()) {
            throw new BranchException(ErrorCode.NOT_FOUND, "project '" + project + "' does not exist");
        }
        long started = System.nanoTime();
        Instant now = Instant.now();
        branches.collectGarbage();
        try {
            // Versions still in memory are invisible to compaction and pin the ingest log (up to
            // three 64 MB segments per idle timeline): write them to layer files first, as Neon's
            // checkpoint_timeout does for its open layers.
            store.flush();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "flushing in-memory layers before garbage collection failed: " + e, e);
        }
        List<Entry> entries = new ArrayList<>();
        for (Project p : catalog.state().projects().values()) {
            if (project != null && !project.equals(p.name())) {
                continue;
            }
            Instant windowStart = now.minus(p.retention());
            for (Branch b : p.branches().values()) {
                collect(p.name(), b.name().value(), b.timeline(), false, windowStart).ifPresent(entries::add);
            }
            Set<TimelineId> retired = branches.retiredTimelinesOf(p);
            for (TimelineId id : retired) {
                collect(p.name(), null, id, true, windowStart).ifPresent(entries::add);
            }
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        Report report = new Report(now, took, List.copyOf(entries));
        runs.incrementAndGet();
        bytesFreed.addAndGet(report.bytesFreed());
        lastDurationNanos.set(took.toNanos());
        long failed = entries.stream().filter(e -> e.error() != null).count();
        failures.addAndGet(failed);
        LOG.log(System.Logger.Level.INFO, "garbage collection{0}: {1} timelines, {2} bytes freed, {3} failed, {4} ms",
                project == null ? "" : " of project " + project, entries.size(), report.bytesFreed(), failed,
                took.toMillis());
        return report;
    }

    private Optional<Entry> collect(String project, String branch, TimelineId id, boolean retired,
                                              Instant windowStart) {
        try {
            Timeline timeline = store.timeline(id);
            long horizon;
            boolean windowApplied;
            if (retired) {
                horizon = timeline.lastLsn();
                windowApplied = true;
            } else {
                OptionalLong windowLsn = timeline.lsnAt(windowStart);
                windowApplied = windowLsn.isPresent();
                horizon = windowApplied ? windowLsn.getAsLong() : timeline.gcHorizon();
            }
            GcResult r = store.collectGarbage(id, horizon);
            return Optional.of(new Entry(project, branch, id, retired, Lsn.format(r.horizonLsn()),
                    windowApplied, r.layerFilesBefore(), r.layerFilesAfter(), r.bytesBefore(), r.bytesAfter(),
                    r.versionsDropped(), null));
        } catch (NoSuchTimelineException e) {
            return Optional.empty(); // deleted or reset meanwhile: nothing left to collect
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "garbage collection of timeline " + id
                    + (branch == null ? " (retired)" : " of branch " + project + "/" + branch) + " failed: " + e, e);
            return Optional.of(new Entry(project, branch, id, retired, null, false, 0, 0, 0, 0, 0,
                    String.valueOf(e.getMessage() == null ? e.toString() : e.getMessage())));
        }
    }

    /** Rounds run since start (scheduled and requested). */
    public long runs() {
        return runs.get();
    }

    /** Timelines whose collection failed since start. */
    public long failures() {
        return failures.get();
    }

    /** Layer bytes freed by compaction since start (retired timelines deleted outright not included). */
    public long bytesFreed() {
        return bytesFreed.get();
    }

    /** Duration of the last round, 0 before the first. */
    public Duration lastDuration() {
        return Duration.ofNanos(lastDurationNanos.get());
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package dev.pgbranch.pageserver.branch;

import dev.pgbranch.pageserver.catalog.Catalog;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.Timeline;
import dev.pgbranch.storage.TimelineId;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Records, once a second, a (time, LSN) mark on every branch timeline that was written since
 * its last mark, so that "branch at 10:00:00" resolves to a state no more than a second before
 * that time, whatever the engine's own marking policy. A mark at time t holds the LSN of the
 * last write made before t, so branching "at t" never includes a write made after t.
 *
 * <p>Runs on one daemon thread of its own; {@link #close} stops it. Failures are logged (once
 * per timeline until it succeeds again) and never stop the marking of other timelines.
 */
public final class TimeMarker implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(TimeMarker.class.getName());

    private final Catalog catalog;
    private final PageStore store;
    private final Map<TimelineId, Long> markedLsn = new HashMap<>();
    private final Map<TimelineId, Boolean> failing = new HashMap<>();
    private final ScheduledExecutorService executor;

    public TimeMarker(Catalog catalog, PageStore store) {
        this.catalog = catalog;
        this.store = store;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "pgbranch-time-marker");
            thread.setDaemon(true);
            return thread;
        });
    }

    public void start() {
        executor.scheduleWithFixedDelay(this::markAll, 1, 1, TimeUnit.SECONDS);
    }

    /** One round: marks every live timeline written since its last mark. Called by the timer thread. */
    void markAll() {
        for (TimelineId id : catalog.state().liveTimelines()) {
            try {
                Timeline timeline = store.timeline(id);
                long lsn = timeline.lastLsn();
                Long marked = markedLsn.get(id);
                if (marked == null || marked != lsn) {
                    timeline.mark(Instant.now(), null);
                    // The mark may itself advance the LSN; compare against the position after it.
                    markedLsn.put(id, timeline.lastLsn());
                }
                failing.remove(id);
            } catch (Exception e) {
                if (failing.put(id, Boolean.TRUE) == null) {
                    LOG.log(System.Logger.Level.WARNING, "recording a time mark on timeline {0} failed: {1}", id, e.toString());
                }
            }
        }
        markedLsn.keySet().retainAll(catalog.state().liveTimelines());
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

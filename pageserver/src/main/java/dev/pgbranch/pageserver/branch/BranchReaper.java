package dev.pgbranch.pageserver.branch;

import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Deletes expired branches ({@link BranchService#expire}) every few seconds on a daemon thread
 * of its own. A failure is logged and retried at the next round.
 */
public final class BranchReaper implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(BranchReaper.class.getName());

    private final BranchService branches;
    private final ScheduledExecutorService executor;

    public BranchReaper(BranchService branches) {
        this.branches = branches;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "pgbranch-branch-reaper");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Starts checking every {@code periodSeconds}, the first time right away. */
    public void start(long periodSeconds) {
        executor.scheduleWithFixedDelay(() -> {
            try {
                branches.expire(Instant.now());
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "deleting expired branches failed (retried): " + e, e);
            }
        }, 0, periodSeconds, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

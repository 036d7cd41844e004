package dev.pgbranch.pageserver.review;

import dev.pgbranch.pageserver.compute.Compute;
import dev.pgbranch.pageserver.compute.ComputeException;
import dev.pgbranch.pageserver.compute.ComputeManager;
import dev.pgbranch.storage.Ancestor;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.TimelineId;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * A throwaway compute showing a parent as it was at a branch point (or, for a rebase, at its
 * head): a temporary timeline
 * branched from {@code (ancestor timeline, lsn)} (O(1), no page copied), a Postgres compute on it
 * on a free loopback port, both gone at {@link #close()}. The compute may run crash recovery and
 * write; it writes only to the temporary timeline, never to the parent's history.
 *
 * <p>Crash behaviour: a server that dies while a base compute runs leaves an orphaned postmaster
 * (killed by its recorded pid at the next start, like any compute) and a timeline no branch
 * points at (deleted at the next start by the branch service's garbage collection).
 *
 * <p>Not thread-safe: one owner opens, uses and closes it. The caller keeps one base compute per
 * key at a time.
 */
final class BaseCompute implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(BaseCompute.class.getName());
    private static final int PORT_ATTEMPTS = 3;

    private final PageStore store;
    private final ComputeManager computes;
    private final String key;
    private final TimelineId timeline;
    private final Compute compute;
    private boolean closed;

    private BaseCompute(PageStore store, ComputeManager computes, String key, TimelineId timeline, Compute compute) {
        this.store = store;
        this.computes = computes;
        this.key = key;
        this.timeline = timeline;
        this.compute = compute;
    }

    /**
     * Creates the temporary timeline at {@code at} and starts a compute on it; returns once it
     * accepts connections. On failure nothing is left behind.
     */
    static BaseCompute start(PageStore store, ComputeManager computes, String key, Ancestor at) {
        TimelineId timeline;
        try {
            timeline = store.createBranch(at.timeline(), at.lsn());
        } catch (IOException | RuntimeException e) {
            throw new ReviewException(ReviewException.Code.BASE_UNAVAILABLE, "cannot branch the base from timeline "
                    + at.timeline() + " at " + dev.pgbranch.storage.Lsn.format(at.lsn()) + ": " + e.getMessage(), null, e);
        }
        try {
            Compute compute = launch(computes, key, timeline);
            return new BaseCompute(store, computes, key, timeline, compute);
        } catch (RuntimeException e) {
            deleteTimeline(store, timeline);
            throw e;
        }
    }

    private static Compute launch(ComputeManager computes, String key, TimelineId timeline) {
        for (int attempt = 1; ; attempt++) {
            try {
                return computes.start(key, timeline, freePort());
            } catch (ComputeException e) {
                // The port was free when picked; another process may bind it before Postgres does.
                if (attempt < PORT_ATTEMPTS && String.valueOf(e.getMessage()).contains("already in use")) {
                    continue;
                }
                throw new ReviewException(ReviewException.Code.COMPUTE_FAILED, "the base compute did not start: "
                        + e.getMessage(), null, e);
            }
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new ReviewException(ReviewException.Code.INTERNAL, "no free loopback port for the base compute: "
                    + e.getMessage(), null, e);
        }
    }

    /** The loopback port the base compute listens on. */
    int port() {
        return compute.port();
    }

    TimelineId timeline() {
        return timeline;
    }

    /**
     * Stops the compute (a clean shutdown, so what it wrote is on the timeline) and hands the
     * timeline to the caller, who owns it from then on: {@link #close()} no longer deletes it.
     * Used by rebase, whose candidate timeline becomes the branch's.
     *
     * @throws ReviewException COMPUTE_FAILED when the compute did not stop (the timeline is then deleted)
     */
    TimelineId release() {
        try {
            computes.stop(key);
        } catch (RuntimeException e) {
            close();
            throw new ReviewException(ReviewException.Code.COMPUTE_FAILED, "the rebase compute did not stop cleanly: "
                    + e.getMessage(), null, e);
        }
        closed = true;
        return timeline;
    }

    /** Stops the compute (unmounting it) and deletes the temporary timeline. Idempotent; never throws. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            computes.stop(key);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "stopping base compute " + key + " failed: " + e, e);
        }
        deleteTimeline(store, timeline);
    }

    private static void deleteTimeline(PageStore store, TimelineId timeline) {
        try {
            store.deleteTimeline(timeline);
        } catch (IOException | RuntimeException e) {
            // Nobody points at it: the garbage collection at the next server start deletes it.
            LOG.log(Level.WARNING, "deleting base timeline " + timeline + " failed (deleted at the next start): " + e, e);
        }
    }
}

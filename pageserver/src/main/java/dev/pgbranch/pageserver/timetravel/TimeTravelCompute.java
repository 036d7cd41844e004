package dev.pgbranch.pageserver.timetravel;

import dev.pgbranch.pageserver.compute.Compute;
import dev.pgbranch.pageserver.compute.ComputeException;
import dev.pgbranch.pageserver.compute.ComputeManager;
import dev.pgbranch.storage.Ancestor;
import dev.pgbranch.storage.InodeAttributes;
import dev.pgbranch.storage.InodeKind;
import dev.pgbranch.storage.Lsn;
import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.NoSuchTimelineException;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.Timeline;
import dev.pgbranch.storage.TimelineId;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One throwaway compute showing a branch at a point: a temporary timeline branched at
 * {@code (timeline, lsn)} (O(1), no page copied) and a Postgres compute on it, on a free loopback
 * port. Before the compute first starts, these lines are appended to the temporary timeline's
 * {@code postgresql.auto.conf} (later lines win over earlier ones):
 *
 * <pre>
 *   default_transaction_read_only = 'on'
 *   pgbranch.time_travel_branch = 'dev/alex'       the routing name
 *   pgbranch.time_travel_lsn = '0/16B3748'         the resolved point
 * </pre>
 *
 * so every session starts read-only (a write fails with 25006) and can ask which point it shows
 * ({@code SHOW pgbranch.time_travel_lsn}: a time resolves to the LSN of the last mark at or
 * before it). A session that forces a write
 * anyway ({@code SET default_transaction_read_only = off}) writes to the temporary timeline only,
 * which {@link #close} deletes: the branch's history is never changed. Crash recovery at start
 * writes there too.
 *
 * <p>Crash behaviour: a server that dies while it runs leaves an orphaned postmaster (killed by
 * its recorded pid at the next start, like every compute) and a timeline no branch points at
 * (deleted at the next start by the branch service's garbage collection).
 *
 * <p>Not thread-safe: {@link TimeTravel} serializes the calls on one instance.
 */
final class TimeTravelCompute {

    private static final System.Logger LOG = System.getLogger(TimeTravelCompute.class.getName());
    private static final int PORT_ATTEMPTS = 3;
    private static final String AUTO_CONF = "postgresql.auto.conf";

    private final PageStore store;
    private final ComputeManager computes;
    private final TimeTravelKey key;
    private final TimelineId timeline;
    private Compute compute;
    private boolean closed;

    private TimeTravelCompute(PageStore store, ComputeManager computes, TimeTravelKey key, TimelineId timeline) {
        this.store = store;
        this.computes = computes;
        this.key = key;
        this.timeline = timeline;
    }

    /**
     * Creates the temporary timeline at the key's point and starts a compute on it; returns once
     * it accepts connections. On failure nothing is left behind.
     */
    static TimeTravelCompute start(PageStore store, ComputeManager computes, TimeTravelKey key) {
        Ancestor at = new Ancestor(key.timeline(), key.lsn());
        TimelineId timeline;
        try {
            timeline = store.createBranch(at.timeline(), at.lsn());
        } catch (NoSuchTimelineException e) {
            throw new TimeTravelException(TimeTravelException.INVALID_PARAMETER_VALUE, "the history of branch \""
                    + key.name() + "\" at " + Lsn.format(key.lsn()) + " is gone (the branch was reset, restored or "
                    + "deleted and its old history collected); connect again to resolve the point anew", e);
        } catch (IllegalArgumentException e) {
            // Typically "below the GC horizon": garbage collection passed the point since it was resolved.
            throw new TimeTravelException(TimeTravelException.INVALID_PARAMETER_VALUE, "branch \"" + key.name()
                    + "\" cannot be shown at " + Lsn.format(key.lsn()) + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new TimeTravelException(TimeTravelException.CONNECTION_FAILURE, "cannot create the time-travel "
                    + "timeline of branch \"" + key.name() + "\": " + e.getMessage(), e);
        }
        TimeTravelCompute travel = new TimeTravelCompute(store, computes, key, timeline);
        try {
            makeReadOnly(store.timeline(timeline), settings(key));
            travel.launch();
            LOG.log(Level.INFO, "time travel to {0} at {1}: compute pid {2,number,#} on port {3,number,#}, "
                    + "temporary timeline {4}", key.name(), Lsn.format(key.lsn()), travel.compute.pid(),
                    travel.compute.port(), timeline);
            return travel;
        } catch (IOException | RuntimeException e) {
            deleteTimeline(store, timeline);
            if (e instanceof TimeTravelException t) {
                throw t;
            }
            throw new TimeTravelException(TimeTravelException.CONNECTION_FAILURE, "cannot prepare the time-travel "
                    + "compute of branch \"" + key.name() + "\": " + e.getMessage(), e);
        }
    }

    /**
     * The lines appended to postgresql.auto.conf. Quoting needs no escapes: routing names and LSNs
     * hold only letters, digits and {@code - _ . / :}.
     */
    static String settings(TimeTravelKey key) {
        return "default_transaction_read_only = 'on'\n"
                + "pgbranch.time_travel_branch = '" + key.name() + "'\n"
                + "pgbranch.time_travel_lsn = '" + Lsn.format(key.lsn()) + "'\n";
    }

    /** Appends {@code settings} to the data directory's postgresql.auto.conf, creating it if missing. */
    static void makeReadOnly(Timeline timeline, String settings) throws IOException {
        Namespace head = timeline.at(timeline.lastLsn());
        long inode = head.lookup(Namespace.ROOT_INODE, AUTO_CONF);
        long size = 0;
        String prefix = "";
        if (inode == Namespace.NO_INODE) {
            InodeAttributes root = head.attributes(Namespace.ROOT_INODE).orElseThrow(
                    () -> new IOException("timeline " + timeline.id() + " has no root directory"));
            inode = timeline.create(Namespace.ROOT_INODE, AUTO_CONF, InodeKind.FILE, 0600, root.uid(), root.gid());
        } else {
            size = head.attributes(inode).map(InodeAttributes::size).orElse(0L);
            if (size > 0) {
                ByteBuffer last = ByteBuffer.allocate(1);
                if (head.read(inode, size - 1, last) == 1 && last.get(0) != '\n') {
                    prefix = "\n";
                }
            }
        }
        timeline.write(inode, size, ByteBuffer.wrap((prefix + settings).getBytes(StandardCharsets.UTF_8)));
    }

    /** Starts the compute again if its postmaster died since (it runs crash recovery then). */
    void ensureRunning() {
        if (computes.running(key.computeKey()).isEmpty()) {
            LOG.log(Level.WARNING, "the time-travel compute of {0} is gone; starting it again", key);
            launch();
        }
    }

    private void launch() {
        for (int attempt = 1; ; attempt++) {
            try {
                compute = computes.start(key.computeKey(), timeline, freePort());
                return;
            } catch (ComputeException e) {
                // The port was free when picked; another process may bind it before Postgres does.
                if (attempt < PORT_ATTEMPTS && String.valueOf(e.getMessage()).contains("already in use")) {
                    continue;
                }
                throw new TimeTravelException(TimeTravelException.CONNECTION_FAILURE, "the time-travel compute of "
                        + "branch \"" + key.name() + "\" at " + Lsn.format(key.lsn()) + " did not start: "
                        + e.getMessage(), e);
            }
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new TimeTravelException(TimeTravelException.CONNECTION_FAILURE, "no free loopback port for a "
                    + "time-travel compute: " + e.getMessage(), e);
        }
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), compute.port());
    }

    TimelineId timeline() {
        return timeline;
    }

    /** Stops the compute (unmounting it) and deletes the temporary timeline. Idempotent; never throws. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            computes.stop(key.computeKey());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "stopping the time-travel compute " + key + " failed: " + e, e);
        }
        deleteTimeline(store, timeline);
    }

    private static void deleteTimeline(PageStore store, TimelineId timeline) {
        try {
            store.deleteTimeline(timeline);
        } catch (IOException | RuntimeException e) {
            // Nobody points at it: the garbage collection at the next server start deletes it.
            LOG.log(Level.WARNING, "deleting time-travel timeline " + timeline + " failed (deleted at the next start): "
                    + e, e);
        }
    }
}

package dev.pgbranch.pageserver.timetravel;

import dev.pgbranch.pageserver.branch.BranchException;
import dev.pgbranch.pageserver.branch.BranchService;
import dev.pgbranch.pageserver.branch.ErrorCode;
import dev.pgbranch.pageserver.branch.RoutingName;
import dev.pgbranch.pageserver.compute.ComputeManager;
import dev.pgbranch.storage.Ancestor;
import dev.pgbranch.storage.Lsn;
import dev.pgbranch.storage.PageStore;

import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The time-travel computes of one server: resolves what a client named
 * ({@code dev/alex@2026-11-20T10:00:00Z}, {@code dev/alex@0/16B3748}) to a {@link TimeTravelKey},
 * starts one {@link TimeTravelCompute} per key on the proxy's wake, and removes it (compute
 * stopped, temporary timeline deleted) on the proxy's idle suspend and at {@link #close}.
 *
 * <p>Points resolve through the branch's own timeline and its (time, LSN) marks, with the checks
 * of {@code branch create --at} ({@link BranchService#resolvePoint}): a point in the future, before
 * the branch's current timeline (it was reset or restored since), outside the retention window or
 * below the GC horizon is refused rather than guessed.
 *
 * <p>At most {@code maxComputes} run at once: the proxy keeps each one up while a client is
 * connected, so the limit bounds the memory a burst of distinct points can take; one more is
 * refused with 53300 until one of them goes idle.
 *
 * <p>Thread-safety: thread-safe. The registry is guarded by this object; each compute by its
 * entry, so starting one (seconds) does not hold up the others. The proxy never wakes and
 * suspends one key at the same time.
 */
public final class TimeTravel implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(TimeTravel.class.getName());

    /** Time-travel computes that may run at once unless configured otherwise. */
    public static final int DEFAULT_MAX_COMPUTES = 4;

    private final BranchService branches;
    private final PageStore store;
    private final ComputeManager computes;
    private final int maxComputes;
    private final Duration idleTimeout;
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private boolean closed;

    /** One key's compute; {@code compute} is null until its first start succeeds. Guarded by itself. */
    private static final class Entry {
        final TimeTravelKey key;
        TimeTravelCompute compute;
        boolean removed;

        Entry(TimeTravelKey key) {
            this.key = key;
        }
    }

    /**
     * @param idleTimeout the proxy's idle timeout, after which an unused compute is removed (for messages)
     */
    public TimeTravel(BranchService branches, PageStore store, ComputeManager computes, int maxComputes,
                      Duration idleTimeout) {
        if (maxComputes < 1) {
            throw new IllegalArgumentException("maxComputes must be at least 1: " + maxComputes);
        }
        this.branches = branches;
        this.store = store;
        this.computes = computes;
        this.maxComputes = maxComputes;
        this.idleTimeout = idleTimeout;
    }

    /** Whether {@code name} is a key {@link #resolve} returned (and not a branch's name). */
    public static boolean isKey(String name) {
        return TimeTravelKey.parse(name).isPresent();
    }

    /**
     * The key of the compute showing {@code target}'s branch at its point: equal for every
     * spelling of one point, so those connections share a compute. May block briefly (catalog and
     * timeline marks only; nothing is started).
     *
     * @return empty if the branch does not exist
     * @throws TimeTravelException 22023 if the point names no state that can be shown
     */
    public Optional<String> resolve(RoutingName.Target target) {
        if (!target.timeTravel()) {
            throw new IllegalArgumentException("no point in time: " + target);
        }
        RoutingName name = target.name();
        Ancestor at;
        try {
            at = branches.resolvePoint(name.project(), name.branch().value(), target.point());
        } catch (BranchException e) {
            if (e.code() == ErrorCode.NOT_FOUND) {
                return Optional.empty();
            }
            if (e.code() == ErrorCode.BAD_REQUEST) {
                throw new TimeTravelException(TimeTravelException.INVALID_PARAMETER_VALUE, "cannot travel to \""
                        + target + "\": " + e.getMessage(), e);
            }
            throw new TimeTravelException(TimeTravelException.CONNECTION_FAILURE, "cannot travel to \"" + target
                    + "\": " + e.getMessage(), e);
        }
        return Optional.of(new TimeTravelKey(name, at.timeline(), at.lsn()).toString());
    }

    /**
     * Starts the compute of {@code key} unless it runs, and returns the address it accepts
     * connections on. Blocks while it starts.
     *
     * @throws TimeTravelException 53300 when {@code maxComputes} others run; 22023 when the
     *     point's history is no longer there; 08006 when the compute cannot start
     */
    public InetSocketAddress wake(String key) {
        TimeTravelKey parsed = TimeTravelKey.parse(key).orElseThrow(() -> new TimeTravelException(
                TimeTravelException.CONNECTION_FAILURE, "\"" + key + "\" names no time-travel compute", null));
        Entry entry;
        synchronized (this) {
            if (closed) {
                throw new TimeTravelException(TimeTravelException.CONNECTION_FAILURE, "the server is shutting down", null);
            }
            entry = entries.get(key);
            if (entry == null) {
                if (entries.size() >= maxComputes) {
                    throw new TimeTravelException(TimeTravelException.TOO_MANY_CONNECTIONS, "too many time-travel "
                            + "computes: " + entries.size() + " are running, the most this server allows; one is "
                            + "removed " + idleTimeout.toSeconds() + " s after its last client disconnects, or "
                            + "connect to a point that is already open (" + String.join(", ", openPoints()) + ")", null);
                }
                entry = new Entry(parsed);
                entries.put(key, entry);
            }
        }
        synchronized (entry) {
            if (entry.removed) {
                throw new TimeTravelException(TimeTravelException.CONNECTION_FAILURE, "the server is shutting down", null);
            }
            try {
                if (entry.compute == null) {
                    entry.compute = TimeTravelCompute.start(store, computes, parsed);
                } else {
                    entry.compute.ensureRunning();
                }
                return entry.compute.address();
            } catch (RuntimeException e) {
                if (entry.compute == null) {
                    forget(key, entry);
                }
                throw e;
            }
        }
    }

    /** Stops the compute of {@code key} and deletes its temporary timeline; no-op if none runs. */
    public void remove(String key) {
        Entry entry;
        synchronized (this) {
            entry = entries.get(key);
        }
        if (entry != null) {
            remove(entry);
            forget(key, entry);
            LOG.log(Level.INFO, "removed the time-travel compute of {0} at {1}", entry.key.name(),
                    Lsn.format(entry.key.lsn()));
        }
    }

    private void remove(Entry entry) {
        synchronized (entry) {
            entry.removed = true;
            if (entry.compute != null) {
                entry.compute.close();
                entry.compute = null;
            }
        }
        // Its source may have been retired (branch reset or deleted) and held only by it.
        branches.collectGarbage();
    }

    private synchronized void forget(String key, Entry entry) {
        entries.remove(key, entry);
    }

    /** Time-travel computes running or starting now. */
    public synchronized int running() {
        return entries.size();
    }

    /** Caller holds this. */
    private List<String> openPoints() {
        return entries.values().stream().map(e -> e.key.name() + "@" + Lsn.format(e.key.lsn())).toList();
    }

    /** Removes every time-travel compute and refuses new ones. Idempotent. */
    @Override
    public void close() {
        List<Entry> all;
        synchronized (this) {
            closed = true;
            all = List.copyOf(entries.values());
            entries.clear();
        }
        for (Entry entry : all) {
            try {
                remove(entry);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "removing the time-travel compute " + entry.key + " failed: " + e, e);
            }
        }
    }
}

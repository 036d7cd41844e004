package dev.pgbranch.pageserver.branch;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Stops computes that have had no client connection for the idle timeout even though the proxy
 * never routed a client to them (started by {@code compute start}, {@code connect --start} or
 * another part of the server): the proxy's own idle timer only covers computes it woke. Every
 * {@code idleTimeout / 4} (between 250 ms and 30 s) it counts the established TCP connections
 * to each running compute's internal port and to its branch's stable port (sessions the kernel
 * handed to the compute keep the port the client dialled; {@link TcpConnections}); a compute seen without any
 * at every round for the whole idle timeout, and not started or woken since, is stopped with
 * {@link BranchService#suspendIdle}. The next connection through the proxy starts it again. For a
 * branch whose port is handed to its compute this is the only idle suspend: the proxy sees none
 * of those clients.
 *
 * <p>Runs on a daemon thread of its own; a failed round is logged and the next one retries.
 * Thread-safe: its state is touched by that thread only.
 */
public final class IdleComputes implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(IdleComputes.class.getName());

    private final BranchService branches;
    private final Duration idleTimeout;
    private final ScheduledExecutorService executor;
    /** Compute key -> System.nanoTime() since which it has been seen without connections. */
    private final Map<String, Long> idleSince = new HashMap<>();
    private boolean warned;

    public IdleComputes(BranchService branches, Duration idleTimeout) {
        this.branches = branches;
        this.idleTimeout = idleTimeout;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "pgbranch-idle-computes");
            thread.setDaemon(true);
            return thread;
        });
    }

    public void start() {
        long period = Math.clamp(idleTimeout.toMillis() / 4, 250, 30_000);
        executor.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    private void sweep() {
        try {
            List<BranchService.RunningCompute> running = branches.runningComputeList();
            Map<Integer, Integer> connections = TcpConnections.establishedByLocalPort(TcpConnections.PROC_NET_TCP);
            long now = System.nanoTime();
            Set<String> seen = new HashSet<>();
            for (BranchService.RunningCompute compute : running) {
                seen.add(compute.key());
                if (connections.getOrDefault(compute.port(), 0) + connections.getOrDefault(compute.branchPort(), 0) > 0) {
                    idleSince.remove(compute.key());
                    continue;
                }
                long since = idleSince.computeIfAbsent(compute.key(), _ -> now);
                if (now - since >= idleTimeout.toNanos()) {
                    idleSince.remove(compute.key());
                    branches.suspendIdle(compute.project(), compute.branch(), since, idleTimeout);
                }
            }
            idleSince.keySet().retainAll(seen);
        } catch (IOException e) {
            if (!warned) {
                warned = true;
                LOG.log(System.Logger.Level.WARNING, "cannot count client connections of computes ({0}): computes the "
                        + "proxy did not wake are not stopped when idle", e.toString());
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "stopping idle computes failed (retried): " + e, e);
        }
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

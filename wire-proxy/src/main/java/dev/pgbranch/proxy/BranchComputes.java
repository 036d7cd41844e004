package dev.pgbranch.proxy;

import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The proxy's view of each branch's compute: coalesces wakes, counts client connections, and suspends
 * a compute once it has had no client for the idle timeout.
 *
 * <p>Per branch, at most one {@link ComputeDirectory#wake} is in flight (later callers share its
 * future) and wake and suspend never overlap: a wake requested while a suspend runs starts after it.
 * The directory is only ever called on {@code blocking}, never on an event loop.
 *
 * <p>Thread-safe: each branch's state is guarded by its own monitor.
 */
final class BranchComputes {

    private static final System.Logger LOG = System.getLogger(BranchComputes.class.getName());

    private final ComputeDirectory directory;
    private final ExecutorService blocking;
    private final ScheduledExecutorService timer;
    private final Duration idleTimeout;
    private final ProxyMetrics metrics;
    private final ConcurrentHashMap<String, State> states = new ConcurrentHashMap<>();
    /** Branches whose port the kernel hands to the compute: their clients are not ours to count. */
    private final Predicate<String> handedOff;

    /** Mutable state of one branch; guarded by itself. */
    private static final class State {
        int active;
        boolean knownRunning;
        CompletableFuture<InetSocketAddress> inflight;
        CompletableFuture<Void> suspending = CompletableFuture.completedFuture(null);
        ScheduledFuture<?> idleTimer;
    }

    BranchComputes(ComputeDirectory directory, ExecutorService blocking, ScheduledExecutorService timer,
                   Duration idleTimeout, ProxyMetrics metrics, Predicate<String> handedOff) {
        this.handedOff = handedOff;
        this.directory = directory;
        this.blocking = blocking;
        this.timer = timer;
        this.idleTimeout = idleTimeout;
        this.metrics = metrics;
    }

    /** Asks the directory, off the event loop, which compute {@code name} reaches ({@link ComputeDirectory#resolve}). */
    CompletableFuture<Optional<String>> resolve(String name) {
        return CompletableFuture.supplyAsync(() -> directory.resolve(name), blocking);
    }

    /** A client connection now belongs to {@code branch}: no idle suspend until it is released. */
    void acquire(String branch) {
        State s = states.computeIfAbsent(branch, _ -> new State());
        synchronized (s) {
            s.active++;
            if (s.idleTimer != null) {
                s.idleTimer.cancel(false);
                s.idleTimer = null;
            }
        }
    }

    /** A client connection of {@code branch} ended; the last one arms the idle timer. */
    void release(String branch) {
        State s = states.get(branch);
        if (s == null) {
            return;
        }
        synchronized (s) {
            s.active--;
            if (s.active == 0 && s.knownRunning && s.idleTimer == null) {
                armIdleTimer(branch, s);
            }
        }
    }

    /**
     * The compute address of {@code branch}, starting it if needed. Concurrent callers share one
     * directory call. The caller applies the deadline; the wake itself is not cancelled by it, so a
     * slow start still helps the next connection.
     */
    CompletableFuture<InetSocketAddress> wake(String branch) {
        State s = states.computeIfAbsent(branch, _ -> new State());
        synchronized (s) {
            if (s.inflight != null) {
                return s.inflight;
            }
            boolean cold = !s.knownRunning;
            long started = System.nanoTime();
            CompletableFuture<InetSocketAddress> f = s.suspending
                    .handle((_, _) -> null)
                    .thenComposeAsync(_ -> directory.wake(branch), blocking);
            s.inflight = f;
            f.whenComplete((address, failure) -> {
                ProxyMetrics.Branch m = metrics.branch(branch);
                if (cold) {
                    m.wakes.increment();
                    m.observeWake((System.nanoTime() - started) / 1e9);
                }
                if (failure != null) {
                    m.wakeFailures.increment();
                }
                synchronized (s) {
                    if (s.inflight == f) {
                        s.inflight = null;
                    }
                    s.knownRunning = failure == null;
                    if (s.knownRunning && s.active == 0 && s.idleTimer == null) {
                        armIdleTimer(branch, s);
                    }
                }
            });
            return f;
        }
    }

    /** A connection to the compute failed: it may have gone away, so the next wake counts as cold. */
    void unreachable(String branch) {
        stopped(branch);
    }

    /** The compute was stopped by someone else (the server's idle sweep, a reset): the next wake counts as cold. */
    void stopped(String branch) {
        State s = states.get(branch);
        if (s != null) {
            synchronized (s) {
                s.knownRunning = false;
            }
        }
    }

    /** Caller holds {@code s}. */
    private void armIdleTimer(String branch, State s) {
        try {
            s.idleTimer = timer.schedule(() -> idle(branch, s), idleTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // The proxy is closing: computes are left as they are.
        }
    }

    private void idle(String branch, State s) {
        synchronized (s) {
            s.idleTimer = null;
            if (s.active > 0 || s.inflight != null || !s.knownRunning) {
                return;
            }
            if (handedOff.test(branch)) {
                // Its clients talk to the compute directly; the server's idle sweep, which counts
                // the compute's TCP connections, suspends it.
                return;
            }
            s.knownRunning = false;
            s.suspending = runAsync(() -> {
                try {
                    directory.suspend(branch);
                    metrics.branch(branch).suspends.increment();
                    LOG.log(Level.INFO, "suspended the compute of branch {0} after {1} without clients", branch, idleTimeout);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "suspending the compute of branch " + branch + " failed", e);
                }
            });
        }
    }

    private CompletableFuture<Void> runAsync(Runnable task) {
        try {
            return CompletableFuture.runAsync(task, blocking);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(null);
        }
    }

    /** Stops the idle timers (the proxy is closing; computes stay as they are). */
    void close() {
        states.values().forEach(s -> {
            synchronized (s) {
                if (s.idleTimer != null) {
                    s.idleTimer.cancel(false);
                    s.idleTimer = null;
                }
            }
        });
    }
}

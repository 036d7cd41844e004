package dev.pgbranch.bench.e2e;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;

/**
 * Undo steps of a run (stop the server, stop the plain cluster, unmount, delete the temporary
 * directory), run in reverse order exactly once: by the driver's {@code finally}, or by a JVM
 * shutdown hook if the run is interrupted (Ctrl-C, SIGTERM). A failing step is logged and the
 * others still run.
 *
 * <p>Thread-safety: thread-safe (the hook and the driver thread may race; the steps run once).
 */
final class Cleanup implements AutoCloseable {

    private record Step(String what, Runnable action) {
    }

    private final Deque<Step> steps = new ArrayDeque<>();
    private final Consumer<String> log;
    private final Thread hook;
    private boolean done;
    private volatile boolean ranByHook;

    Cleanup(Consumer<String> log) {
        this.log = log;
        this.hook = new Thread(this::runAll, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    synchronized void push(String what, Runnable action) {
        if (done) {
            throw new IllegalStateException("cleanup already ran");
        }
        steps.push(new Step(what, action));
    }

    /** Whether the steps were (or are being) run by the shutdown hook: the run was interrupted. */
    boolean ranByHook() {
        return ranByHook;
    }

    private synchronized void runAll() {
        if (done) {
            return;
        }
        done = true;
        ranByHook = Thread.currentThread() == hook;
        while (!steps.isEmpty()) {
            Step step = steps.pop();
            try {
                step.action().run();
            } catch (RuntimeException e) {
                log.accept("cleanup step '" + step.what() + "' failed: " + e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        runAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run
        }
    }
}

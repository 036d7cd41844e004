package dev.pgbranch.bench.e2e;

import java.io.PrintStream;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Progress lines of a long run: what is running, the time elapsed since the start and an
 * estimate of the time left. The driver declares the run's steps up front as estimated seconds
 * ({@link #plan}); each {@link #step} consumes its estimate, and the remaining estimate is
 * scaled by how fast the run has gone so far compared to the estimates of the steps done
 * (clamped to [0.5, 3] so that one odd step does not swing it wildly).
 *
 * <pre>
 * [bench 08:41:07 +03:12 left ~11:40] pgbench TPC-B -c 4 -j 2 -T 30 on pgbranch (round 1/2, s=10)
 * </pre>
 *
 * <p>Thread-safety: synchronized; the driver thread logs, the cleanup hook may too.
 */
final class Progress {

    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    private final PrintStream out;
    private final LongSupplier nanoClock;
    private final long start;
    private long plannedSeconds;
    private long doneSeconds;
    private long pendingSeconds;
    private long pendingSince;

    Progress(PrintStream out, LongSupplier nanoClock) {
        this.out = out;
        this.nanoClock = nanoClock;
        this.start = nanoClock.getAsLong();
    }

    /** Adds {@code seconds} of estimated work to the run. */
    synchronized void plan(long seconds) {
        plannedSeconds += Math.max(0, seconds);
    }

    /** Starts a step estimated at {@code seconds} (the previous step is done) and prints {@code what}. */
    synchronized void step(String what, long seconds) {
        finishPending();
        pendingSeconds = Math.max(0, seconds);
        pendingSince = nanoClock.getAsLong();
        log(what);
    }

    /** A line without changing the estimate. */
    synchronized void log(String what) {
        out.println("[bench " + LocalTime.now().format(CLOCK) + " +" + clock(elapsedSeconds()) + " left ~"
                + clock(remainingSeconds()) + "] " + what);
        out.flush();
    }

    synchronized long elapsedSeconds() {
        return (nanoClock.getAsLong() - start) / 1_000_000_000L;
    }

    /** The estimate of the time left, including what is left of the current step. */
    synchronized long remainingSeconds() {
        long elapsed = elapsedSeconds();
        long inStep = (nanoClock.getAsLong() - pendingSince) / 1_000_000_000L;
        long doneEstimate = doneSeconds + Math.min(pendingSeconds, inStep);
        double pace = doneEstimate <= 0 ? 1 : Math.clamp((double) elapsed / doneEstimate, 0.5, 3.0);
        long left = Math.max(0, plannedSeconds - doneEstimate);
        return Math.round(left * pace);
    }

    private void finishPending() {
        doneSeconds += pendingSeconds;
        pendingSeconds = 0;
    }

    /** mm:ss, or h:mm:ss from an hour. */
    static String clock(long seconds) {
        long s = Math.max(0, seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
    }
}

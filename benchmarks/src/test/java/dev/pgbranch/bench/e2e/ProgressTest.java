package dev.pgbranch.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Progress lines: elapsed time and an estimate of the time left that follows the run's actual pace. */
class ProgressTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void remainingTimeScalesWithThePaceOfTheStepsDone() {
        AtomicLong now = new AtomicLong();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Progress progress = new Progress(new PrintStream(out, true, StandardCharsets.UTF_8), now::get);
        progress.plan(100);
        assertEquals(100, progress.remainingSeconds());

        progress.step("first half", 50);
        now.addAndGet(100 * SECOND); // it took twice its estimate
        progress.step("second half", 50);
        assertEquals(100, progress.elapsedSeconds());
        assertEquals(100, progress.remainingSeconds(), "50 s estimated left at half the estimated pace");

        now.addAndGet(25 * SECOND);
        assertEquals(Math.round(25 * 125.0 / 75), progress.remainingSeconds());

        String lines = out.toString(StandardCharsets.UTF_8);
        assertTrue(lines.contains(" +00:00 left ~01:40] first half"), lines);
        assertTrue(lines.contains(" +01:40 left ~01:40] second half"), lines);
    }

    @Test
    void aStepFarOverItsEstimateDoesNotSwingTheEstimateBeyondThreeTimes() {
        AtomicLong now = new AtomicLong();
        Progress progress = new Progress(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), now::get);
        progress.plan(20);
        progress.step("slow", 10);
        now.addAndGet(1000 * SECOND);
        progress.step("next", 10);
        assertEquals(30, progress.remainingSeconds());
    }

    @Test
    void clockIsMinutesAndSecondsUntilAnHour() {
        assertEquals("00:00", Progress.clock(0));
        assertEquals("01:05", Progress.clock(65));
        assertEquals("59:59", Progress.clock(3599));
        assertEquals("1:00:01", Progress.clock(3601));
        assertEquals("00:00", Progress.clock(-5));
    }
}

package dev.pgbranch.pageserver.fuse;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The helper-command runner behind the unmounts (fusermount3), with real processes. */
class FuseMountCommandTest {

    @Test
    void aCommandThatHangsIsKilledAtItsDeadlineInsteadOfBlockingTheUnmount() {
        // sleep keeps its output open for as long as it runs, like a fusermount3 stuck on a dead mount.
        IOException timedOut = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(IOException.class,
                () -> FuseMount.run(List.of("sh", "-c", "echo started; sleep 60"), Duration.ofMillis(300))));
        assertTrue(timedOut.getMessage().contains("did not finish within 300 ms"), timedOut.getMessage());
    }

    @Test
    void aCommandThatExitsReportsItsCodeAndOutput() throws IOException {
        FuseMount.Result result = FuseMount.run(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), Duration.ofSeconds(10));
        assertEquals(3, result.exitCode());
        assertEquals("out\nerr", result.output());
    }
}

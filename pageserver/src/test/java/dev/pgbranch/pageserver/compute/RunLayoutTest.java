package dev.pgbranch.pageserver.compute;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunLayoutTest {

    @Test
    void keysBecomeSafeDistinctFileNames() {
        String name = RunLayout.name("default.dev+alex");
        assertTrue(name.matches("default\\.dev_alex-[0-9a-f]{8}"), name);
        assertNotEquals(RunLayout.name("a/b"), RunLayout.name("a_b"), "sanitized collisions stay distinct");
        assertFalse(RunLayout.name("../../etc").contains("/"));
        assertTrue(RunLayout.name("..").startsWith("_"));
        assertTrue(RunLayout.name("x".repeat(500)).length() <= 57);
    }

    @Test
    void everythingStaysInsideTheRunDirectory(@TempDir Path temp) {
        RunLayout layout = new RunLayout(temp);
        for (String key : new String[] {"../escape", "a/../../b", "/abs"}) {
            assertTrue(layout.mountpoint(key).startsWith(temp.resolve("mnt")));
            assertEquals(temp.resolve("mnt"), layout.mountpoint(key).getParent());
            assertEquals(temp.resolve("log"), layout.logFile(key).getParent());
            assertEquals(temp.resolve("pids"), layout.pidRecord(key).getParent());
        }
    }

    @Test
    void refusesBadKeysPortsAndTooDeepSocketPaths(@TempDir Path temp) throws ComputeException {
        RunLayout layout = new RunLayout(temp);
        layout.validate("default.main", 5432);
        assertThrows(ComputeException.class, () -> layout.validate("", 5432));
        assertThrows(ComputeException.class, () -> layout.validate("a\nb", 5432));
        assertThrows(ComputeException.class, () -> layout.validate("k", 0));
        assertThrows(ComputeException.class, () -> layout.validate("k", 65536));
        RunLayout deep = new RunLayout(temp.resolve("d".repeat(100)));
        ComputeException e = assertThrows(ComputeException.class, () -> deep.validate("k", 5432));
        assertTrue(e.getMessage().contains("too deep"), e.getMessage());
    }

    @Test
    void pidRecordsRoundTripAndOnlyDescribeTheExactProcess(@TempDir Path temp) throws Exception {
        ProcessHandle self = ProcessHandle.current();
        Instant started = self.info().startInstant().orElseThrow();
        PidRecord record = new PidRecord("default.main", self.pid(), started, temp.resolve("mnt/x"));
        record.write(temp.resolve("r.pid"));
        assertEquals(record, PidRecord.read(temp.resolve("r.pid")).orElseThrow());
        assertTrue(record.describes(self));
        assertFalse(new PidRecord("k", self.pid(), started.minusSeconds(1), temp).describes(self),
                "a recycled pid has another start time");
        java.nio.file.Files.writeString(temp.resolve("bad.pid"), "pid=abc\n");
        assertTrue(PidRecord.read(temp.resolve("bad.pid")).isEmpty());
    }

    @Test
    void tailKeepsTheLastLines() {
        assertEquals("c\nd", ProcessRunner.tail("a\nb\nc\nd\n", 2));
        assertEquals("a\nb", ProcessRunner.tail("a\nb", 5));
        assertEquals("", ProcessRunner.tail("", 3));
    }
}

package dev.pgbranch.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What the driver reads from other programs' output: pgbench progress lines and /proc files. */
class ProcessFiguresTest {

    @Test
    void pgbenchProgressLinesGiveTheLoadsThroughput() {
        String output = """
                pgbench (15.18 (Debian 15.18-0+deb12u1))
                starting vacuum...end.
                progress: 1.0 s, 2301.9 tps, lat 1.729 ms stddev 0.812, 0 failed
                progress: 2.0 s, 2410 tps, lat 1.650 ms stddev 0.700, 0 failed
                transaction type: <builtin: TPC-B (sort of)>
                """;
        assertEquals(List.of(2301.9, 2410.0), Pgbench.progressTps(output));
        assertEquals(List.of(), Pgbench.progressTps("starting vacuum...end.\n"));
    }

    @Test
    void procStatTicksAreReadAfterTheCommandNameEvenWithSpacesAndParentheses() {
        String stat = "4242 (epoll loop (1)) S 1 4242 4242 0 -1 4194560 5000 0 3 0 1234 567 0 0 20 0 12 0 100 0 0";
        assertArrayEquals(new long[] {1234, 567}, ServerProfile.processTicks(stat));
        assertNull(ServerProfile.processTicks(""));
    }

    @Test
    void machineTicksSplitBusyFromIdleAndIowait() {
        String procStat = "cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n";
        assertArrayEquals(new long[] {100 + 5 + 50 + 3 + 2 + 1, 1000 + 20}, ServerProfile.machineTicks(procStat));
        assertThrows(BenchException.class, () -> ServerProfile.machineTicks("intr 1 2 3\n"));
    }

    @Test
    void threadsAndPostgresProcessesFoldIntoRoles() {
        assertEquals("epollEventLoopG-#-#", ServerProfile.threadGroup("epollEventLoopG-3-12\n"));
        assertEquals("client backends",
                ServerProfile.postgresRole("postgres: postgres postgres 127.0.0.1(51234) idle in transaction"));
        assertEquals("walwriter", ServerProfile.postgresRole("postgres: walwriter "));
        assertEquals("postmaster", ServerProfile.postgresRole("/usr/lib/postgresql/15/bin/postgres -D /x"));
        assertEquals("server: wire proxy (Netty event loops)", ServerProfile.role("pgbranch server: multiThreadIoEv"));
        assertTrue(ServerProfile.role("pgbranch server: jfuse-main-#").startsWith("server: FUSE"));
        assertTrue(ServerProfile.role("pgbranch server: pgbranch-log-wr").startsWith("server: engine"));
        assertTrue(ServerProfile.role("pgbranch server: C# CompilerThre").startsWith("server: JVM"));
        assertTrue(ServerProfile.role("postgres compute: client backends").startsWith("compute: client backends"));
        assertTrue(ServerProfile.role("postgres compute: walwriter").startsWith("compute: auxiliary"));
        assertEquals("pgbench", ServerProfile.role("pgbench"));
    }
}

package dev.pgbranch.pageserver.compute;

import dev.pgbranch.pageserver.fuse.FuseMount;
import dev.pgbranch.pageserver.fuse.MountOptions;
import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreOptions;
import dev.pgbranch.storage.Timeline;
import dev.pgbranch.storage.TimelineId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real Postgres computes on real FUSE mounts: initdb once, then every test runs on its own branch
 * of the freshly initialized cluster.
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ComputeManagerTest {

    private static final String PASSWORD = "pw-" + UUID.randomUUID();

    private Path temp;
    private PageStore store;
    private ComputeManager computes;
    private PostgresInstallation postgres;
    private ComputeUser user;
    private TimelineId cluster;
    private Path runDirectory;

    @BeforeAll
    void initializeCluster(@TempDir Path temp) throws Exception {
        this.temp = temp;
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwxr-xr-x"));
        store = PageStore.open(temp.resolve("store"), StoreOptions.defaults());
        postgres = PostgresInstallation.detect();
        user = ComputeUser.detect();
        runDirectory = temp.resolve("run");
        computes = new ComputeManager(store, runDirectory, postgres, user);
        cluster = store.createRootTimeline(user.uid(), user.gid());
        long begin = System.nanoTime();
        computes.initializeCluster(cluster, PASSWORD);
        System.out.printf("initdb through FUSE: %d ms%n", (System.nanoTime() - begin) / 1_000_000);
    }

    @AfterEach
    void stopComputes() throws IOException {
        for (Compute compute : computes.runningComputes()) {
            computes.stop(compute.key());
        }
        assertEquals(List.of(), mountsUnder(runDirectory), "mounts left behind");
    }

    @AfterAll
    void shutDown() throws Exception {
        try {
            if (computes != null) {
                computes.close();
                assertEquals(List.of(), mountsUnder(runDirectory), "mounts left behind");
            }
        } finally {
            if (store != null) {
                store.close();
            }
        }
    }

    @Test
    void initdbLeavesNoPasswordFileAndRequiresThePassword() throws Exception {
        try (Stream<Path> files = Files.list(runDirectory.resolve("tmp"))) {
            assertEquals(List.of(), files.toList());
        }
        int port = freePort();
        computes.start("auth", branch(), port);
        SQLException refused = assertThrows(SQLException.class,
                () -> DriverManager.getConnection(url(port), "postgres", "wrong").close());
        assertEquals("28P01", refused.getSQLState());
        try (Connection connection = connect(port)) {
            assertEquals("scram-sha-256", single(connection, "SHOW password_encryption"));
            assertEquals("127.0.0.1", single(connection, "SHOW listen_addresses"));
            assertEquals("on", single(connection, "SHOW full_page_writes"));
        }
        assertThrows(ComputeException.class, () -> computes.initializeCluster(cluster, PASSWORD),
                "initdb twice on one timeline");
    }

    @Test
    void rowsSurviveAStopAndStartOfTheCompute() throws Exception {
        TimelineId timeline = branch();
        int port = freePort();
        Compute first = computes.start("restart", timeline, port);
        try (Connection connection = connect(port); Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE t (id int PRIMARY KEY, payload text)");
            statement.execute("INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g");
        }
        computes.stop("restart");
        assertTrue(computes.running("restart").isEmpty());
        assertFalse(FuseMount.isMountPoint(first.dataDirectory()));

        Compute second = computes.start("restart", timeline, port);
        assertNotEquals(first.pid(), second.pid());
        try (Connection connection = connect(port)) {
            assertEquals("5000", single(connection, "SELECT count(*) FROM t"));
        }
    }

    @Test
    void startIsIdempotentAndRefusesAConflictingStart() throws Exception {
        TimelineId timeline = branch();
        int port = freePort();
        Compute compute = computes.start("idem", timeline, port);
        assertEquals(compute, computes.start("idem", timeline, port));
        assertEquals(compute, computes.running("idem").orElseThrow());
        ComputeException conflict = assertThrows(ComputeException.class,
                () -> computes.start("idem", branch(), port));
        assertTrue(conflict.getMessage().contains("already runs"), conflict.getMessage());
    }

    @Test
    void branchSeesParentRowsAndTheirWritesStayApart() throws Exception {
        TimelineId parent = branch();
        int parentPort = freePort();
        computes.start("parent", parent, parentPort);
        try (Connection connection = connect(parentPort); Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE t (id int PRIMARY KEY, who text)");
            statement.execute("INSERT INTO t SELECT g, 'parent' FROM generate_series(1, 1000) g");
        }
        computes.checkpoint("parent");
        Timeline parentTimeline = store.timeline(parent);
        TimelineId child = store.createBranch(parent, parentTimeline.lastLsn());
        // The parent runs, and its postmaster.pid is not part of what the child inherits.
        assertEquals(Namespace.NO_INODE, store.timeline(child).lookup(Namespace.ROOT_INODE, "postmaster.pid"));

        int childPort = freePort();
        Compute childCompute = computes.start("child", child, childPort);
        assertEquals(Long.toString(childCompute.pid()),
                Files.readAllLines(childCompute.dataDirectory().resolve("postmaster.pid")).getFirst());
        try (Connection parentDb = connect(parentPort); Connection childDb = connect(childPort);
             Statement onParent = parentDb.createStatement(); Statement onChild = childDb.createStatement()) {
            assertEquals("1000", single(childDb, "SELECT count(*) FROM t"));
            onChild.execute("INSERT INTO t VALUES (1001, 'child')");
            onChild.execute("UPDATE t SET who = 'child' WHERE id = 1");
            onParent.execute("INSERT INTO t VALUES (2001, 'parent')");

            assertEquals("1001", single(childDb, "SELECT count(*) FROM t"));
            assertEquals("1001", single(parentDb, "SELECT count(*) FROM t"));
            assertEquals("child", single(childDb, "SELECT who FROM t WHERE id = 1"));
            assertEquals("parent", single(parentDb, "SELECT who FROM t WHERE id = 1"));
            assertEquals("0", single(parentDb, "SELECT count(*) FROM t WHERE id = 1001"));
            assertEquals("0", single(childDb, "SELECT count(*) FROM t WHERE id = 2001"));
        }
    }

    @Test
    void aBranchOfABusyParentWithoutCheckpointRecoversEveryCommittedRow() throws Exception {
        TimelineId parent = branch();
        int parentPort = freePort();
        computes.start("busy-parent", parent, parentPort);
        run(List.of(postgres.tool("pgbench").toString(), "-i", "-s", "1", "-q", "-h", "127.0.0.1", "-p",
                Integer.toString(parentPort), "-U", "postgres", "postgres"));
        try (Connection connection = connect(parentPort); Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE committed (id int PRIMARY KEY)");
            statement.execute("INSERT INTO committed SELECT generate_series(1, 777)");
            statement.execute("UPDATE pgbench_accounts SET abalance = 1 WHERE aid % 10 = 0");
        }
        // No CHECKPOINT: the child sees data files as the kernel happened to write them back and
        // must get every committed row from WAL replay (fsynced at each commit).
        TimelineId child = store.createBranch(parent, store.timeline(parent).lastLsn());
        int childPort = freePort();
        computes.start("busy-child", child, childPort);
        try (Connection connection = connect(childPort)) {
            assertEquals("777", single(connection, "SELECT count(*) FROM committed"));
            assertEquals("10000", single(connection, "SELECT count(*) FROM pgbench_accounts WHERE abalance = 1"));
        }
        String log = Files.readString(runDirectory.resolve("log").resolve(RunLayout.name("busy-child") + ".log"));
        assertTrue(log.contains("not properly shut down") || log.contains("redo"), "crash recovery ran:\n" + log);
        run(List.of(postgres.tool("pg_amcheck").toString(), "-h", "127.0.0.1", "-p", Integer.toString(childPort),
                "-U", "postgres", "--install-missing", "--heapallindexed", "postgres"));
    }

    @Test
    void pgAmcheckIsCleanAfterPgbenchInit() throws Exception {
        int port = freePort();
        computes.start("amcheck", branch(), port);
        run(List.of(postgres.tool("pgbench").toString(), "-i", "-s", "1", "-q", "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-U", "postgres", "postgres"));
        computes.checkpoint("amcheck");
        String report = run(List.of(postgres.tool("pg_amcheck").toString(), "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-U", "postgres", "--install-missing", "--heapallindexed", "--progress",
                "postgres"));
        assertTrue(report.contains("relations"), report);
        try (Connection connection = connect(port)) {
            assertEquals("100000", single(connection, "SELECT count(*) FROM pgbench_accounts"));
        }
    }

    @Test
    void aKilledComputeIsNoticedCleanedUpAndRestartedByTheNextStart() throws Exception {
        TimelineId timeline = branch();
        int port = freePort();
        Compute compute = computes.start("killed", timeline, port);
        try (Connection connection = connect(port); Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 100) g");
        }
        ProcessHandle.of(compute.pid()).orElseThrow().destroyForcibly();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((computes.running("killed").isPresent() || FuseMount.isMountPoint(compute.dataDirectory()))
                && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(computes.running("killed").isEmpty(), "death noticed");
        assertFalse(FuseMount.isMountPoint(compute.dataDirectory()), "mount released");

        Compute restarted = computes.start("killed", timeline, port);
        assertNotEquals(compute.pid(), restarted.pid());
        try (Connection connection = connect(port)) {
            assertEquals("100", single(connection, "SELECT count(*) FROM t"), "committed rows survive kill -9");
        }
    }

    @Test
    void pgLsDirWithDotDirectoriesListsDotAndDotDotLikeALocalDisk() throws Exception {
        int port = freePort();
        computes.start("dots", branch(), port);
        try (Connection connection = connect(port); Statement sql = connection.createStatement()) {
            List<String> names = new ArrayList<>();
            try (ResultSet rows = sql.executeQuery("SELECT pg_ls_dir('.', false, true) AS n ORDER BY n")) {
                while (rows.next()) {
                    names.add(rows.getString(1));
                }
            }
            assertEquals(".", names.get(0), names.toString());
            assertEquals("..", names.get(1), names.toString());
            assertTrue(names.contains("base") && names.contains("PG_VERSION"), names.toString());
            assertEquals("2", single(connection, "SELECT count(*) FROM pg_ls_dir('base', false, true) d "
                    + "WHERE d IN ('.', '..')"), "a subdirectory has them too");
        }
    }

    @Test
    void aQueryThatSpillsToPgsqlTmpKeepsItsTemporaryFilesOutOfTheTimeline() throws Exception {
        TimelineId timeline = branch();
        int port = freePort();
        computes.start("spill", timeline, port);
        try (Connection connection = connect(port); Statement sql = connection.createStatement()) {
            sql.execute("SET work_mem = '64kB'");
            sql.execute("SET log_temp_files = 0");
            long lsnBefore = store.timeline(timeline).lastLsn();
            StringBuilder plan = new StringBuilder();
            try (ResultSet rows = sql.executeQuery("EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM (SELECT g, "
                    + "md5(g::text) m FROM generate_series(1, 200000) g ORDER BY m) sorted")) {
                while (rows.next()) {
                    plan.append(rows.getString(1)).append('\n');
                }
            }
            assertTrue(plan.toString().contains("Sort Method: external merge"), "the sort spilled:\n" + plan);
            long base = store.timeline(timeline).lookup(Namespace.ROOT_INODE, "base");
            assertEquals(Namespace.NO_INODE, store.timeline(timeline).lookup(base, "pgsql_tmp"),
                    "no temporary directory or file is versioned");
            long written = store.timeline(timeline).lastLsn() - lsnBefore;
            assertTrue(written < 50, "the spill wrote " + written + " records to the timeline");
        }
    }

    @Test
    void aFailedStartReportsThePostgresLogAndLeavesNothingMounted() throws Exception {
        TimelineId timeline = branch();
        try (FuseMount mount = FuseMount.mount(store.timeline(timeline), temp.resolve("edit"),
                MountOptions.ownedBy(user.uid(), user.gid()))) {
            Files.writeString(mount.mountpoint().resolve("postgresql.conf"), "\nshared_buffers = banana\n",
                    StandardOpenOption.APPEND);
        }
        ComputeException e = assertThrows(ComputeException.class,
                () -> computes.start("broken", timeline, freePort()));
        assertTrue(e.getMessage().contains("shared_buffers"), e.getMessage());
        assertTrue(computes.running("broken").isEmpty());
        assertEquals(List.of(), mountsUnder(runDirectory));
    }

    @Test
    void startingOnABusyPortOrAnEmptyTimelineFailsClearly() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            ComputeException e = assertThrows(ComputeException.class,
                    () -> computes.start("busy", branch(), busy.getLocalPort()));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
        TimelineId empty = store.createRootTimeline(user.uid(), user.gid());
        ComputeException e = assertThrows(ComputeException.class, () -> computes.start("empty", empty, freePort()));
        assertTrue(e.getMessage().contains("no database cluster"), e.getMessage());
        assertThrows(ComputeException.class, () -> computes.start("bad\nkey", branch(), freePort()));
        assertThrows(ComputeException.class, () -> computes.start("port", branch(), 70_000));
        assertEquals(List.of(), mountsUnder(runDirectory));
    }

    @Test
    void cleanupOrphansKillsRecordedComputesOfACrashedServerAndNothingElse() throws Exception {
        int port = freePort();
        Compute orphan = computes.start("orphan", branch(), port);
        Process bystander = new ProcessBuilder("sleep", "120").start();
        try {
            // A record whose pid was recycled by an unrelated process must not get it killed.
            Files.writeString(runDirectory.resolve("pids/recycled.pid"), "key=recycled\npid=" + bystander.pid()
                    + "\nstarted=" + Instant.parse("2001-01-01T00:00:00Z") + "\nmountpoint=/nonexistent\n");
            Files.writeString(runDirectory.resolve("pids/garbage.pid"), "not a record");

            // A second manager on the same run directory is the server after a crash: it knows nothing
            // of the running compute but its pid record.
            ComputeManager restarted = new ComputeManager(store, runDirectory, postgres, user);
            restarted.cleanupOrphans();

            ProcessHandle postmaster = ProcessHandle.of(orphan.pid()).orElse(null);
            assertTrue(postmaster == null || !postmaster.isAlive(), "orphan killed");
            assertFalse(FuseMount.isMountPoint(orphan.dataDirectory()), "stale mount removed");
            assertTrue(bystander.isAlive(), "unrelated process with a recycled pid left alone");
            try (Stream<Path> records = Files.list(runDirectory.resolve("pids"))) {
                assertEquals(List.of(), records.toList());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (computes.running("orphan").isPresent() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(computes.running("orphan").isEmpty());
        } finally {
            bystander.destroyForcibly();
        }
    }

    // ------------------------------------------------------------------------------ helpers

    private TimelineId branch() throws IOException {
        return store.createBranch(cluster, store.timeline(cluster).lastLsn());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static String url(int port) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    private static Connection connect(int port) throws SQLException {
        return DriverManager.getConnection(url(port), "postgres", PASSWORD);
    }

    private static String single(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
            assertTrue(rows.next());
            return rows.getString(1);
        }
    }

    private static String run(List<String> command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("PGPASSWORD", PASSWORD);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), command.getFirst() + " failed:\n" + output);
        return output;
    }

    private static List<String> mountsUnder(Path directory) throws IOException {
        String prefix = directory.toAbsolutePath().normalize() + "/";
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
            String mountpoint = line.split(" ")[1];
            if (mountpoint.startsWith(prefix)) {
                mounts.add(mountpoint);
            }
        }
        return mounts;
    }
}

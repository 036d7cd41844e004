package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgbranch.pageserver.compute.PostgresInstallation;
import dev.pgbranch.pageserver.testing.ServerProcess;
import dev.pgbranch.storage.Lsn;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.pgbranch.pageserver.testing.Sql.queryLong;

/**
 * Retention, garbage collection, restore backups and disk usage the way a user meets them: the
 * server in its own JVM ({@code pgbranch server}), the CLI, pgjdbc through the wire proxy to
 * real Postgres computes on FUSE, and {@code pg_amcheck --heapallindexed}. Figures (disk usage
 * before and after GC) are printed as {@code FIGURE} lines.
 */
@Tag("integration")
class RetentionWorkflowTest {

    private ServerProcess server;
    private final Map<String, String> figures = new LinkedHashMap<>();

    @BeforeEach
    void prepare() throws IOException {
        server = new ServerProcess("RetentionWorkflowTest");
    }

    @AfterEach
    void stopEverything() throws IOException {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            figures.forEach((k, v) -> System.out.println("FIGURE " + k + ": " + v));
        }
    }

    @Test
    void restoreKeepsABackupBranchWithTheOldDataUnlessToldNotToAndTheBackupCanBeDeleted() throws Exception {
        server.start();
        try (Connection c = server.connect("development"); Statement sql = c.createStatement()) {
            sql.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)");
            sql.execute("INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 1000) g");
        }
        server.cliJson("branch", "create", "dev/alex", "--parent", "development");
        String good;
        try (Connection c = server.connect("dev/alex"); Statement sql = c.createStatement()) {
            sql.execute("UPDATE accounts SET balance = 200 WHERE id <= 10");
            sql.execute("CHECKPOINT");
            good = server.cliJson("branch", "show", "dev/alex").path("headLsn").asText();
            sql.execute("DELETE FROM accounts WHERE id > 500"); // the mistake
            assertEquals(500, queryLong(sql, "SELECT count(*) FROM accounts"));
        }

        JsonNode restored = server.cliJson("branch", "restore", "dev/alex", "--at", good);
        assertEquals("running", restored.path("computeState").asText(), "the running compute is restarted");
        List<JsonNode> backups = branchesStartingWith("dev/alex_old_");
        assertEquals(1, backups.size(), backups.toString());
        JsonNode backup = backups.getFirst();
        String backupName = backup.path("name").asText();
        assertTrue(backupName.matches("dev/alex_old_\\d{8}T\\d{6}Z"), backupName);
        assertEquals(backupName, restored.path("backup").asText(), "the restore names its backup");
        assertEquals("development", backup.path("parent").asText(), "same parent as dev/alex");
        assertFalse(backup.path("protected").asBoolean());
        assertTrue(server.cliOk("branch", "list").contains(backupName), "shown in the table too");
        try (Connection c = server.connect("dev/alex"); Statement sql = c.createStatement()) {
            assertEquals(1000, queryLong(sql, "SELECT count(*) FROM accounts"), "restored to before the DELETE");
            assertEquals(100_000 + 10 * 100, queryLong(sql, "SELECT sum(balance) FROM accounts"));
        }
        try (Connection c = server.connect(backupName); Statement sql = c.createStatement()) {
            assertEquals(500, queryLong(sql, "SELECT count(*) FROM accounts"), "the backup holds the state before the restore");
            assertEquals(500 * 100 + 10 * 100, queryLong(sql, "SELECT sum(balance) FROM accounts"));
        }

        // --no-backup: no new branch.
        int count = server.cliJson("branch", "list").path("branches").size();
        // (to its head now: LSNs from before the first restore no longer name dev/alex's states)
        String head = server.cliJson("branch", "show", "dev/alex").path("headLsn").asText();
        assertTrue(server.cliJson("branch", "restore", "dev/alex", "--at", head, "--no-backup").path("backup").isMissingNode());
        assertEquals(count, server.cliJson("branch", "list").path("branches").size());
        assertEquals(1, branchesStartingWith("dev/alex_old_").size());

        // The backup is an ordinary branch: it can be deleted; dev/alex keeps its data.
        server.cliOk("branch", "delete", backupName);
        assertEquals(List.of(), branchesStartingWith("dev/alex_old_"));
        try (Connection c = server.connect("dev/alex"); Statement sql = c.createStatement()) {
            assertEquals(1000, queryLong(sql, "SELECT count(*) FROM accounts"));
        }
        String help = server.cliOk("branch", "restore", "--help");
        assertTrue(help.contains("--no-backup") && help.contains("_old_"), help);
        amcheck("dev/alex");
        server.rememberComputePids();
    }

    @Test
    void pointsOutsideAShortRetentionWindowAreRefusedWithTheOldestRestorablePointAndPointsInsideWork() throws Exception {
        server.start("--gc-interval", "1h");
        JsonNode project = server.cliJson("project", "show");
        assertEquals("7d", project.path("retention").asText());
        try (Connection c = server.connect("development"); Statement sql = c.createStatement()) {
            sql.execute("CREATE TABLE events (id int PRIMARY KEY, what text)");
            sql.execute("INSERT INTO events VALUES (1, 'v1')");
            sql.execute("CHECKPOINT");
        }
        // Time marks are recorded about once a second: leave room on both sides of the point.
        Thread.sleep(1500);
        Instant point = Instant.now();
        String pointLsn = server.cliJson("branch", "show", "development").path("headLsn").asText();
        Thread.sleep(1500);
        try (Connection c = server.connect("development"); Statement sql = c.createStatement()) {
            sql.execute("INSERT INTO events VALUES (2, 'v2')");
        }

        // Inside the window (7d, then 1h): works.
        server.cliJson("branch", "create", "inside", "--parent", "development", "--at", point.toString());
        assertEquals("1h", server.cliJson("project", "set", "--retention", "1h").path("retention").asText());
        server.cliJson("branch", "create", "inside/lsn", "--parent", "development", "--at", pointLsn);
        for (String branch : List.of("inside", "inside/lsn")) {
            try (Connection c = server.connect(branch); Statement sql = c.createStatement()) {
                assertEquals(List.of("1:v1"), rows(sql, "SELECT id || ':' || what FROM events ORDER BY id"), branch);
            }
        }

        // A 2 s window: the point is outside it 2 s later.
        assertTrue(server.cliOk("project", "set", "--retention", "2s").contains("2s"));
        Thread.sleep(2500);
        for (String at : List.of(point.toString(), pointLsn)) {
            ServerProcess.Result refused = server.cli("branch", "create", "outside", "--parent", "development", "--at", at);
            assertEquals(1, refused.code(), refused.out());
            assertTrue(refused.err().contains("outside the retention window of project 'default' (2s)")
                    && refused.err().contains("oldest restorable point of branch 'development' is "), refused.err());
            ServerProcess.Result restore = server.cli("branch", "restore", "development", "--at", at);
            assertEquals(1, restore.code());
            assertTrue(restore.err().contains("retention window"), restore.err());
        }
        HttpResponse<String> api = server.api("POST", "/v1/projects/default/branches",
                "{\"name\":\"outside\",\"parent\":\"development\",\"at\":\"" + point + "\"}", null);
        assertEquals(400, api.statusCode(), api.body());
        assertEquals("BAD_REQUEST", ServerProcess.parse(api.body()).path("error").path("code").asText());

        JsonNode development = server.cliJson("branch", "show", "development");
        JsonNode oldest = development.path("restorableFrom");
        assertTrue(Instant.parse(oldest.path("time").asText()).isAfter(point), development.toString());
        assertTrue(Lsn.parse(oldest.path("lsn").asText()) > Lsn.parse(pointLsn), development.toString());
        assertTrue(server.cliOk("branch", "show", "development").contains("restorableFrom"));
        assertFalse(server.cliJson("branch", "list").toString().contains("\"outside\""), "nothing was created");

        // After a GC the history is gone for good: a longer window does not bring it back.
        JsonNode gc = server.cliJson("gc");
        for (JsonNode t : gc.path("timelines")) {
            assertTrue(t.path("error").isNull(), gc.toString());
        }
        server.cliJson("project", "set", "--retention", "7d");
        ServerProcess.Result gone = server.cli("branch", "create", "outside", "--parent", "development", "--at", pointLsn);
        assertEquals(1, gone.code());
        assertTrue(gone.err().contains("is no longer restorable") && gone.err().contains("was garbage-collected")
                && gone.err().contains("oldest restorable point"), gone.err());
        // The branches taken inside the window still read their branch point after the GC.
        try (Connection c = server.connect("inside"); Statement sql = c.createStatement()) {
            assertEquals(List.of("1:v1"), rows(sql, "SELECT id || ':' || what FROM events ORDER BY id"));
        }
        server.rememberComputePids();
    }

    @Test
    void garbageCollectionWhileComputesRunOnABranchAndItsChildKeepsBothAnsweringAndAmcheckClean() throws Exception {
        server.start("--gc-interval", "1s");
        server.cliJson("project", "set", "--retention", "0s");
        try (Connection c = server.connect("development"); Statement sql = c.createStatement()) {
            sql.execute("CREATE TABLE ledger (id int PRIMARY KEY, amount int NOT NULL, note text)");
            sql.execute("CREATE INDEX ledger_amount ON ledger (amount)");
            sql.execute("INSERT INTO ledger SELECT g, 1, md5(g::text) FROM generate_series(1, 20000) g");
        }
        server.cliJson("branch", "create", "dev/child", "--parent", "development");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong committed = new AtomicLong();
        ExecutorService writers = Executors.newFixedThreadPool(2);
        try {
            List<Future<Long>> results = new ArrayList<>();
            for (String branch : List.of("development", "dev/child")) {
                results.add(writers.submit(() -> {
                    long transactions = 0;
                    try (Connection c = server.connect(branch); Statement sql = c.createStatement()) {
                        for (int i = 0; !stop.get(); i++) {
                            // Every transaction moves 1 between two rows: the sum never changes.
                            int from = 1 + (i * 7919) % 20000;
                            int to = 1 + (i * 104729) % 20000;
                            sql.execute("BEGIN; UPDATE ledger SET amount = amount - 1 WHERE id = " + from
                                    + "; UPDATE ledger SET amount = amount + 1 WHERE id = " + to + "; COMMIT");
                            transactions++;
                            committed.incrementAndGet();
                            if (i % 500 == 0) {
                                sql.execute("CHECKPOINT");
                            }
                        }
                    }
                    return transactions;
                }));
            }
            long gcRuns = 0;
            long versionsDropped = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (System.nanoTime() < deadline) {
                HttpResponse<String> gc = server.api("POST", "/v1/projects/default/gc", "{}", null);
                assertEquals(200, gc.statusCode(), gc.body());
                for (JsonNode t : ServerProcess.parse(gc.body()).path("timelines")) {
                    assertTrue(t.path("error").isNull(), gc.body());
                    versionsDropped += t.path("versionsDropped").asLong();
                }
                gcRuns++;
                Thread.sleep(500);
            }
            stop.set(true);
            for (Future<Long> result : results) {
                assertTrue(result.get(60, TimeUnit.SECONDS) > 0);
            }
            figures.put("GC rounds requested during writes on development and dev/child", gcRuns + " (plus scheduled ones "
                    + "every 1 s), " + committed.get() + " transactions committed meanwhile, " + versionsDropped
                    + " versions dropped by the requested rounds");
            assertTrue(versionsDropped > 0, "with a 0 s window GC dropped overwritten versions while computes ran");
        } finally {
            stop.set(true);
            writers.shutdownNow();
            writers.awaitTermination(60, TimeUnit.SECONDS);
        }
        assertTrue(server.metric("pgbranch_gc_runs_total") > 0);
        for (String branch : List.of("development", "dev/child")) {
            try (Connection c = server.connect(branch); Statement sql = c.createStatement()) {
                assertEquals(20000, queryLong(sql, "SELECT sum(amount) FROM ledger"), branch);
                assertEquals(20000, queryLong(sql, "SELECT count(*) FROM ledger"), branch);
            }
            amcheck(branch);
        }
        // After a restart (the computes start again from what GC left), still the same.
        server.rememberComputePids();
        server.stop();
        server.restart();
        for (String branch : List.of("development", "dev/child")) {
            try (Connection c = server.connect(branch); Statement sql = c.createStatement()) {
                assertEquals(20000, queryLong(sql, "SELECT sum(amount) FROM ledger"), branch + " after restart");
            }
        }
        server.rememberComputePids();
    }

    @Test
    void manyBranchesWrittenResetAndDeletedInRoundsLeaveTheStoreAtItsEarlierSizeAfterGc() throws Exception {
        long started = System.nanoTime();
        server.start("--gc-interval", "1h");
        server.cliJson("project", "set", "--retention", "2s");
        try (Connection c = server.connect("development"); Statement sql = c.createStatement()) {
            sql.execute("CREATE TABLE items (id int PRIMARY KEY, payload text NOT NULL)");
            sql.execute("INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 5000) g");
        }
        server.cliJson("compute", "stop", "development");
        // A long-lived branch whose rows are rewritten every round: only GC drops its old page versions.
        server.cliJson("branch", "create", "steady", "--parent", "development");
        write("steady", 500);
        rewrite("steady");
        Thread.sleep(2500);
        server.cliJson("gc");
        // Measured at rest: a clean stop writes every in-memory layer out and lets the ingest log be
        // trimmed, so the figures count stored data, not how far the shared log happens to lag.
        server.stop();
        server.restart();
        long baselineLayers = server.metric("pgbranch_store_layer_bytes");
        long baselineDisk = directorySize(server.dataDirectory().resolve("store"));
        long[] steadyBefore = footprint("steady");
        long peakDisk = baselineDisk;
        int rounds = 3;
        int perRound = 4;
        for (int round = 0; round < rounds; round++) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < perRound; i++) {
                String name = "load/" + round + "-" + i;
                server.cliJson("branch", "create", name, "--parent", "development");
                names.add(name);
                write(name, 2500); // ~2.5 MB of incompressible rows, then updates of half of them
            }
            for (int i = 0; i < perRound; i += 2) {
                server.cliJson("branch", "reset", names.get(i));
                write(names.get(i), 1000);
            }
            rewrite("steady");
            peakDisk = Math.max(peakDisk, directorySize(server.dataDirectory().resolve("store")));
            for (String name : names) {
                server.cliOk("branch", "delete", name);
            }
        }
        long[] steadyAfter = footprint("steady");
        // What 'steady' legitimately keeps on top of the level before the rounds: the WAL its
        // rewrites appended (each WAL page is live data of the branch until Postgres recycles the
        // segment) and the growth of its database files (bloat VACUUM does not give back).
        long steadyGrowth = (steadyAfter[0] - steadyBefore[0]) + Math.max(0, steadyAfter[1] - steadyBefore[1]);
        server.cliJson("compute", "stop", "steady");
        Thread.sleep(2500); // past the 2 s window
        long beforeGcLayers = server.metric("pgbranch_store_layer_bytes");
        long beforeGcDisk = directorySize(server.dataDirectory().resolve("store"));
        JsonNode gc = server.cliJson("gc");
        for (JsonNode t : gc.path("timelines")) {
            assertTrue(t.path("error").isNull(), gc.toString());
        }
        long freedByGc = gc.path("bytesFreed").asLong();
        assertTrue(freedByGc > 0, "GC dropped the old versions of the rewritten rows: " + gc);
        for (JsonNode t : gc.path("timelines")) {
            if (t.path("branch").asText().equals("steady")) {
                assertTrue(t.path("windowApplied").asBoolean() && t.path("versionsDropped").asLong() > 0, t.toString());
            }
        }
        server.stop();
        server.restart();
        long afterLayers = server.metric("pgbranch_store_layer_bytes");
        long afterDisk = directorySize(server.dataDirectory().resolve("store"));
        figures.put("long run: " + rounds * perRound + " branches written (~2.5 MB each), half reset and rewritten, all "
                + "deleted, 'steady' rewritten every round, retention 2s", String.format("layer bytes: %,d before the "
                + "rounds (at rest), %,d after the deletes before GC, %,d after GC (at rest; the GC round freed %,d "
                + "by compaction); store directory: %,d before the rounds, peak %,d during them, %,d before GC, "
                + "%,d after GC; %d s", baselineLayers, beforeGcLayers, afterLayers, freedByGc, baselineDisk, peakDisk,
                beforeGcDisk, afterDisk, (System.nanoTime() - started) / 1_000_000_000));
        assertTrue(peakDisk > baselineDisk + 8L * 1024 * 1024, "the rounds wrote data: " + figures);
        // Expected level: the level before the rounds plus what 'steady' still holds live
        // (steadyGrowth), with 1 MiB plus 10 % for layout (compaction re-lays files out, the log
        // keeps a tail). Without GC the store would also keep every earlier version of the rows
        // 'steady' rewrote three times, and without deletion the twelve branches' data.
        figures.put("long run: 'steady' live growth (WAL appended + database growth)", String.format("%,d", steadyGrowth));
        long allowedDisk = baselineDisk + steadyGrowth + 1024 * 1024 + baselineDisk / 10;
        long allowedLayers = baselineLayers + steadyGrowth + 1024 * 1024 + baselineLayers / 10;
        assertTrue(afterDisk <= allowedDisk, "the store returned to its expected size (" + allowedDisk + "): "
                + figures + "\n" + largestFiles(server.dataDirectory().resolve("store")) + "\n" + server.metrics());
        assertTrue(afterLayers <= allowedLayers, "layer bytes returned to their expected level (" + allowedLayers
                + "): " + figures + "\n" + largestFiles(server.dataDirectory().resolve("store")));
        try (Connection c = server.connect("development"); Statement sql = c.createStatement()) {
            assertEquals(5000, queryLong(sql, "SELECT count(*) FROM items"));
        }
        try (Connection c = server.connect("steady"); Statement sql = c.createStatement()) {
            assertEquals(500, queryLong(sql, "SELECT count(*) FROM load"));
            assertEquals(rounds + 1, queryLong(sql, "SELECT min(version) FROM load"), "every round's rewrite is there");
        }
        amcheck("steady");
        server.rememberComputePids();
    }

    /** The branch's WAL position in bytes and the size of its database: {wal, database}. */
    private long[] footprint(String branch) throws SQLException {
        try (Connection c = server.connect(branch); Statement sql = c.createStatement()) {
            return new long[] {queryLong(sql, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"),
                    queryLong(sql, "SELECT pg_database_size(current_database())")};
        }
    }

    /** Rewrites every row of {@code load} on {@code branch} with new random bytes, then VACUUM (space is reused). */
    private void rewrite(String branch) throws SQLException {
        try (Connection c = server.connect(branch); Statement sql = c.createStatement()) {
            sql.execute("ALTER TABLE load ADD COLUMN IF NOT EXISTS version int NOT NULL DEFAULT 0");
            sql.execute("UPDATE load SET version = version + 1, payload = (SELECT string_agg(md5(random()::text || id "
                    + "|| k.j), '') FROM generate_series(1, 32) AS k(j))");
            sql.execute("VACUUM load");
        }
        server.cliJson("compute", "stop", branch);
    }

    @Test
    void diskUsageIsShownPerBranchAndForTheProject() throws Exception {
        server.start();
        try (Connection c = server.connect("development"); Statement sql = c.createStatement()) {
            sql.execute("CREATE TABLE load (id int PRIMARY KEY, payload text NOT NULL)");
        }
        server.cliJson("compute", "stop", "development");
        server.cliJson("branch", "create", "dev/usage", "--parent", "development");
        JsonNode empty = server.cliJson("branch", "show", "dev/usage");
        write("dev/usage", 3000); // ~3 MB that only dev/usage has
        JsonNode written = server.cliJson("branch", "show", "dev/usage");
        long before = stored(empty);
        long after = stored(written);
        figures.put("dev/usage after ~3 MB of rows (exclusive + pending bytes)", String.format("%,d -> %,d", before, after));
        assertTrue(after - before > 2L * 1024 * 1024, "the written rows are counted: " + empty + "\n" + written);
        assertTrue(written.path("sharedBytes").asLong() >= 0, written.toString());

        String table = server.cliOk("branch", "list");
        assertTrue(table.lines().findFirst().orElse("").contains("EXCLUSIVE") && table.contains("SHARED"), table);
        assertTrue(table.lines().filter(l -> l.startsWith("dev/usage ")).anyMatch(l -> l.contains(" MiB") || l.contains(" KiB")),
                table);
        String show = server.cliOk("branch", "show", "dev/usage");
        assertTrue(show.matches("(?s).*exclusiveBytes\\s+\\S+ (B|KiB|MiB) \\(\\d+\\).*"), show);

        JsonNode project = server.cliJson("project", "show");
        long total = project.path("layerBytes").asLong() + project.path("pendingBytes").asLong();
        assertTrue(project.path("layerBytes").isIntegralNumber(), project.toString());
        assertTrue(total >= after, "the project total holds the branch: " + project + "\n" + written);
        figures.put("project total after it (layer + pending bytes)", String.format("%,d", total));

        server.cliOk("branch", "delete", "dev/usage");
        JsonNode afterDelete = server.cliJson("project", "show");
        long totalAfterDelete = afterDelete.path("layerBytes").asLong() + afterDelete.path("pendingBytes").asLong();
        figures.put("project total after deleting dev/usage", String.format("%,d", totalAfterDelete));
        assertTrue(totalAfterDelete < total - 2L * 1024 * 1024, "deleting the branch frees what only it used: "
                + project + " -> " + afterDelete);
        server.rememberComputePids();
    }

    private static long stored(JsonNode branch) {
        assertTrue(branch.path("exclusiveBytes").isIntegralNumber() && branch.path("pendingBytes").isIntegralNumber(),
                "usage is reported: " + branch);
        return branch.path("exclusiveBytes").asLong() + branch.path("pendingBytes").asLong();
    }

    // ---------------------------------------------------------------------------------------

    /** {@code rows} rows of ~1 KB of random hex (LZ4 gains little on it), then an update of half of them. */
    private void write(String branch, int rows) throws SQLException {
        try (Connection c = server.connect(branch); Statement sql = c.createStatement()) {
            sql.execute("CREATE TABLE IF NOT EXISTS load (id int PRIMARY KEY, payload text NOT NULL)");
            sql.execute("INSERT INTO load SELECT s.i, (SELECT string_agg(md5(random()::text || s.i || k.j), '') "
                    + "FROM generate_series(1, 32) AS k(j)) FROM generate_series(1, " + rows + ") AS s(i) "
                    + "ON CONFLICT (id) DO NOTHING");
            sql.execute("UPDATE load SET payload = md5(payload) WHERE id % 2 = 0");
        }
        server.cliJson("compute", "stop", branch);
    }

    private List<JsonNode> branchesStartingWith(String prefix) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode b : server.cliJson("branch", "list").path("branches")) {
            if (b.path("name").asText().startsWith(prefix)) {
                out.add(b);
            }
        }
        return out;
    }

    private void amcheck(String branch) throws Exception {
        String pgAmcheck = PostgresInstallation.detect().tool("pg_amcheck").toString();
        URI uri = URI.create(server.cliOk("connect", branch).strip());
        ProcessBuilder amcheck = new ProcessBuilder(pgAmcheck, "--heapallindexed", "--install-missing",
                "-h", uri.getHost(), "-p", Integer.toString(uri.getPort()), "-U", "postgres", "postgres")
                .redirectErrorStream(true);
        amcheck.environment().put("PGPASSWORD", uri.getUserInfo().split(":", 2)[1]);
        Process check = amcheck.start();
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(check.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, check.exitValue(), "pg_amcheck on " + branch + ": " + output);
    }

    /** The 15 largest files under {@code directory}, for failure messages. */
    private static String largestFiles(Path directory) throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            return String.join("\n", files.filter(Files::isRegularFile)
                    .sorted(java.util.Comparator.comparingLong((Path p) -> p.toFile().length()).reversed()).limit(15)
                    .map(p -> p.toFile().length() + " " + directory.relativize(p)).toList());
        }
    }

    private static long directorySize(Path directory) throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0; // deleted while walking
                }
            }).sum();
        }
    }

    private static List<String> rows(Statement sql, String query) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = sql.executeQuery(query)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}

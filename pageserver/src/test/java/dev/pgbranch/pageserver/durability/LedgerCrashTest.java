package dev.pgbranch.pageserver.durability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgbranch.pageserver.compute.PostgresInstallation;
import dev.pgbranch.pageserver.testing.ServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static dev.pgbranch.pageserver.testing.Sql.queryLong;

/**
 * The ledger crash test: a real {@code pgbranch server} (own JVM) is killed with SIGKILL again
 * and again while clients write to a branch through the proxy, and no transaction whose COMMIT
 * was acknowledged may be lost.
 *
 * <p>Setup: branch {@code dev/ledger} of the root branch {@code production}, with
 * {@code ledger(id, account, amount)} and {@code accounts(account, balance)} (see
 * {@link LedgerBook}) and pgbench's TPC-B tables; a sibling {@code scratch} (child of
 * {@code dev/ledger}) for resets.
 *
 * <p>Each cycle: three {@link LedgerWriter}s and a background {@code pgbench -c 2} run for a
 * random 1–5 s (counted from every writer's first commit); then the server is killed at one of
 * four kill points, in turn: under load only; 0–60 ms into a {@code CHECKPOINT} the test issued;
 * a branch create from {@code dev/ledger}, either 0–600 ms after it was requested (mostly still
 * running) or 0–50 ms after it returned (alternately); the same for a reset of {@code scratch}.
 * The server restarts, the first connection wakes {@code dev/ledger}'s compute, which runs
 * Postgres crash recovery, and the test checks: the killed server's computes are gone; every
 * acknowledged id is present; no id whose COMMIT was never sent, and none never used, is present;
 * in-doubt ids (COMMIT sent, no answer) are present or absent, and stay so; count(*) is what that
 * implies; every balance equals the sum of its ledger rows (so sum(balance) = sum(amount));
 * pgbench's four balance sums agree; an acknowledged create or reset survived, and a branch it
 * made or repointed holds every transaction committed before it was requested; every timeline
 * belongs to a branch. At the end: {@code pg_amcheck --heapallindexed} on all databases of
 * {@code dev/ledger} is clean and the parent {@code production} answers.
 *
 * <p>What a kill -9 does not cover: data the server has written but not fsynced survives in the
 * OS page cache, so a missing fsync in the store goes unnoticed here (a power cut would show it);
 * user-space buffering, recovery, torn ingest-log tails, half-written layer files, the catalog and
 * the FUSE writeback cache (lost with the mount) are covered.
 *
 * <p>{@code -Dcrashtest.seed=N} replays a run's random choices (the seed is printed);
 * {@code -Dcrashtest.cycles=N} changes the number of cycles (default 12). The tally is printed
 * at the end. The server, its computes (by the pids remembered before each kill), pgbench and the
 * mounts are stopped whatever happens.
 */
@Tag("integration")
class LedgerCrashTest {

    private static final String BRANCH = "dev/ledger";
    private static final String SIBLING = "scratch";
    private static final int CYCLES = Integer.getInteger("crashtest.cycles", 12);
    private static final int WRITERS = 3;
    private static final int PGBENCH_SCALE = 2;

    /** Where in the server's work the kill -9 lands, besides the ledger and pgbench traffic. */
    enum KillPoint { UNDER_LOAD, DURING_CHECKPOINT, DURING_BRANCH_CREATE, DURING_BRANCH_RESET }

    /** What a CHECKPOINT or a branch operation issued just before the kill came to. */
    record Outcome(boolean acknowledged, String detail, long startNanos, long endNanos) {
    }

    private ServerProcess server;
    private PgbenchLoad pgbench;
    private final List<LedgerWriter> writers = new ArrayList<>();
    private final Map<String, String> tally = new LinkedHashMap<>();
    private final LedgerBook book = new LedgerBook();
    private int cyclesDone;
    private long lost;
    private long pgbenchTransactions;
    private int inDoubtPresent;
    private int inDoubtAbsent;
    private int checkpointsInFlight;
    private int operationsInFlight;
    private int operationsAcknowledged;

    @BeforeEach
    void prepare() throws IOException {
        server = new ServerProcess("LedgerCrashTest");
    }

    @AfterEach
    void stopEverything() throws IOException {
        try {
            writers.forEach(LedgerWriter::stop);
            if (pgbench != null) {
                pgbench.close();
            }
            keepComputeLogs();
        } finally {
            server.close();
            List<String> left = server.mounts();
            if (!left.isEmpty()) {
                System.out.println("mounts left behind: " + left);
            }
            System.out.println("CRASH TEST TALLY");
            counts().forEach((k, v) -> System.out.println("  " + k + ": " + v));
            tally.forEach((k, v) -> System.out.println("  " + k + ": " + v));
        }
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void everyAcknowledgedLedgerTransactionSurvivesRepeatedKill9sOfTheServerUnderLoad() throws Exception {
        long seed = Long.getLong("crashtest.seed", System.nanoTime());
        System.out.println("crash test seed " + seed + " (replay with -Dcrashtest.seed=" + seed + ")");
        tally.put("seed", Long.toString(seed));
        Random random = new Random(seed);
        long testStart = System.nanoTime();

        server.start();
        server.cliJson("branch", "create", BRANCH, "--parent", "production");
        URI uri = URI.create(server.cliOk("connect", BRANCH).strip());
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            for (String setting : List.of("fsync", "synchronous_commit", "full_page_writes")) {
                try (ResultSet rs = sql.executeQuery("SHOW " + setting)) {
                    assertTrue(rs.next());
                    assertEquals("on", rs.getString(1), setting + " on the compute: the test's premise");
                }
            }
            sql.execute("CREATE TABLE ledger (id bigint PRIMARY KEY, account int NOT NULL, amount bigint NOT NULL)");
            sql.execute("CREATE TABLE accounts (account int PRIMARY KEY, balance bigint NOT NULL)");
            sql.execute("INSERT INTO accounts SELECT g, 0 FROM generate_series(0, " + (LedgerBook.ACCOUNTS - 1) + ") g");
        }
        Path pgbenchBinary = PostgresInstallation.detect().tool("pgbench");
        PgbenchLoad.initialize(pgbenchBinary, uri, PGBENCH_SCALE);
        server.cliJson("branch", "create", SIBLING, "--parent", BRANCH);
        long layersBefore = server.metric("pgbranch_store_layer_files");
        tally.put("setup (server start, branch, schema, pgbench -i -s " + PGBENCH_SCALE + ")",
                millis(System.nanoTime() - testStart) + " ms");

        AtomicLong ids = new AtomicLong();
        long[] restartMillis = new long[CYCLES];
        long[] wakeMillis = new long[CYCLES];
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            KillPoint point = KillPoint.values()[cycle % KillPoint.values().length];
            writers.clear();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < WRITERS; i++) {
                LedgerWriter writer = new LedgerWriter(jdbcUrl(uri), properties(uri), ids, book);
                writers.add(writer);
                threads.add(Thread.ofPlatform().name("ledger-writer-" + i).daemon().start(writer));
            }
            pgbench = PgbenchLoad.start(pgbenchBinary, uri, 2, 120);
            long acknowledgedBefore = book.count(LedgerBook.State.ACKNOWLEDGED);
            awaitFirstCommits();
            int loadMillis = 1000 + random.nextInt(4001);
            Thread.sleep(loadMillis);

            // The kill must land in real traffic, or the cycle proves nothing.
            for (LedgerWriter writer : writers) {
                if (writer.failure() != null) {
                    fail("a ledger writer failed before the kill: " + writer.failure() + diagnosis());
                }
            }
            assertTrue(pgbench.isAlive(), "pgbench ended before the kill:\n" + pgbench.output() + diagnosis());
            server.rememberComputePids();
            List<ProcessHandle> killedComputes = runningComputes();

            Set<Long> committedBefore = book.committed();
            String siblingTimeline = point == KillPoint.DURING_BRANCH_RESET
                    ? server.cliJson("branch", "show", SIBLING).path("timeline").asText() : null;
            String operation = switch (point) {
                case UNDER_LOAD -> null;
                case DURING_CHECKPOINT -> "CHECKPOINT";
                case DURING_BRANCH_CREATE -> "create fork-" + cycle;
                case DURING_BRANCH_RESET -> "reset " + SIBLING;
            };
            FutureTask<Outcome> inFlight = switch (point) {
                case UNDER_LOAD -> null;
                case DURING_CHECKPOINT -> background(checkpoint(connect(uri)));
                case DURING_BRANCH_CREATE -> background(api("POST", "/v1/projects/default/branches",
                        "{\"name\":\"fork-" + cycle + "\",\"parent\":\"" + BRANCH + "\"}"));
                case DURING_BRANCH_RESET -> background(api("POST", "/v1/projects/default/branches/" + SIBLING + "/reset",
                        null));
            };
            if (inFlight != null) {
                if (point != KillPoint.DURING_CHECKPOINT && cycle / KillPoint.values().length % 2 == 1) {
                    inFlight.get(60, TimeUnit.SECONDS); // every other time: right after it returned
                    Thread.sleep(random.nextInt(50));
                } else {
                    Thread.sleep(random.nextInt(point == KillPoint.DURING_CHECKPOINT ? 60 : 600));
                }
            }
            long killAt = System.nanoTime();
            server.kill();

            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(60));
                assertFalse(thread.isAlive(), "a ledger writer still runs 60 s after the kill" + diagnosis());
            }
            for (LedgerWriter writer : writers) {
                if (writer.failure() == null || writer.failedAtNanos() < killAt) {
                    fail("a ledger writer ended before the kill: " + writer.failure() + diagnosis());
                }
            }
            pgbench.awaitExit(30);
            pgbenchTransactions += pgbench.transactions();
            pgbench.close();
            pgbench = null;
            Outcome outcome = null;
            if (inFlight != null) {
                outcome = inFlight.get(60, TimeUnit.SECONDS);
                boolean wasInFlight = !outcome.acknowledged() || outcome.endNanos() > killAt;
                if (point == KillPoint.DURING_CHECKPOINT) {
                    checkpointsInFlight += wasInFlight ? 1 : 0;
                } else {
                    operationsInFlight += wasInFlight ? 1 : 0;
                    operationsAcknowledged += outcome.acknowledged() ? 1 : 0;
                }
            }

            long restartStart = System.nanoTime();
            server.restart();
            restartMillis[cycle] = millis(System.nanoTime() - restartStart);
            for (ProcessHandle compute : killedComputes) {
                assertFalse(alive(compute), "compute pid " + compute.pid() + " of the killed server still runs after"
                        + " the restart" + diagnosis());
            }

            // The first connection wakes the compute: Postgres crash recovery on the restarted store.
            long wakeStart = System.nanoTime();
            LedgerBook.Check check;
            try (Connection c = connect(uri)) {
                wakeMillis[cycle] = millis(System.nanoTime() - wakeStart);
                check = book.verify(LedgerBook.Snapshot.read(c));
                lost += check.violations().stream().filter(v -> v.startsWith("LOST")).count();
                if (!check.violations().isEmpty()) {
                    fail("cycle " + cycle + " (" + point + "): " + check.violations().size() + " violations, first "
                            + check.violations().subList(0, Math.min(20, check.violations().size())) + diagnosis());
                }
                checkPgbenchBalances(c);
            }
            inDoubtPresent += check.inDoubtPresent();
            inDoubtAbsent += check.inDoubtAbsent();
            String branchCheck = operation == null || point == KillPoint.DURING_CHECKPOINT ? ""
                    : checkBranchOperation(point, cycle, outcome, committedBefore, siblingTimeline);
            String metrics = server.metrics();
            // A create or reset the kill cut short may leave its new timeline outside the
            // catalog: it waits in quarantine (never deleted on a guess) and is purged by command.
            com.fasterxml.jackson.databind.JsonNode orphans = server.cliJson("store", "quarantine", "list")
                    .path("timelines");
            assertTrue(orphans.size() <= 1, "one branch operation at most was cut short: " + orphans);
            assertEquals(ServerProcess.metric(metrics, "pgbranch_branches") + orphans.size(),
                    ServerProcess.metric(metrics, "pgbranch_store_timelines"),
                    "every timeline belongs to a branch or waits in quarantine after the restart\n" + metrics);
            for (com.fasterxml.jackson.databind.JsonNode orphan : orphans) {
                server.cliOk("store", "quarantine", "purge", orphan.path("timeline").asText());
            }

            cyclesDone++;
            System.out.printf("cycle %2d %-20s load %4d ms, +%d acknowledged, %s, restart %d ms, wake+recovery %d ms,"
                            + " %d rows, in doubt present/absent %d/%d%s%n", cycle, point, loadMillis,
                    book.count(LedgerBook.State.ACKNOWLEDGED) - acknowledgedBefore, describe(operation, outcome, killAt),
                    restartMillis[cycle], wakeMillis[cycle], check.rows(), check.inDoubtPresent(),
                    check.inDoubtAbsent(), branchCheck);
        }
        tally.put("server restart (ms, min/median/max)", spread(restartMillis));
        tally.put("first connection after restart, incl. compute start and crash recovery (ms, min/median/max)",
                spread(wakeMillis));

        String amcheck = amcheck(BRANCH);
        try (Connection c = connect(URI.create(server.cliOk("connect", "production").strip()));
             Statement sql = c.createStatement()) {
            assertEquals(1, queryLong(sql, "SELECT 1"));
            assertEquals(0, queryLong(sql, "SELECT count(*) FROM pg_class WHERE relname IN ('ledger', 'pgbench_history')"),
                    "the child's tables never reach its parent");
        }
        server.rememberComputePids();
        long layersAfter = server.metric("pgbranch_store_layer_files");

        tally.put("layer files before / after", layersBefore + " / " + layersAfter);
        // What the restarts found, as the store logs it: informational, the checks above are the test.
        String log = Files.readString(server.logFile(), StandardCharsets.UTF_8);
        tally.put("unlisted layer files deleted at restarts (a flush cut by the kill)",
                Long.toString(log.lines().filter(l -> l.contains("deleting unlisted layer file")).count()));
        tally.put("restarts that cut a torn ingest-log tail",
                Long.toString(log.lines().filter(l -> l.contains("cutting torn or corrupt tail")).count()));
        tally.put("pg_amcheck --heapallindexed, all databases of " + BRANCH, amcheck);
        tally.put("total time", millis(System.nanoTime() - testStart) / 1000.0 + " s");
    }

    /** The counts so far, printed at the end whether the test passed or not. */
    private Map<String, String> counts() {
        Map<String, String> tally = new LinkedHashMap<>();
        tally.put("cycles (kill -9 of the server) completed", cyclesDone + " of " + CYCLES + " ("
                + Arrays.toString(KillPoint.values()) + " in turn)");
        tally.put("ledger transactions acknowledged", Long.toString(book.count(LedgerBook.State.ACKNOWLEDGED)));
        tally.put("in doubt at a kill (COMMIT sent, no answer), resolved present / absent",
                inDoubtPresent + " / " + inDoubtAbsent);
        tally.put("cut by a kill before COMMIT was sent (all absent)", Long.toString(book.count(LedgerBook.State.ROLLED_BACK)));
        tally.put("LOST (acknowledged, missing after recovery)", Long.toString(lost));
        tally.put("pgbench TPC-B transactions (as pgbench reported them)", Long.toString(pgbenchTransactions));
        tally.put("kills during a CHECKPOINT still running", checkpointsInFlight + " of " + countOf(KillPoint.DURING_CHECKPOINT));
        tally.put("kills during a branch create/reset still running", operationsInFlight + " of "
                + (countOf(KillPoint.DURING_BRANCH_CREATE) + countOf(KillPoint.DURING_BRANCH_RESET)) + " ("
                + operationsAcknowledged + " acknowledged before the kill)");
        return tally;
    }

    private static String describe(String operation, Outcome outcome, long killAt) {
        if (operation == null) {
            return "kill under load only";
        }
        String detail = outcome.detail().length() > 60 ? outcome.detail().substring(0, 60) + "..." : outcome.detail();
        return outcome.acknowledged() && outcome.endNanos() <= killAt
                ? "kill " + millis(killAt - outcome.endNanos()) + " ms after " + operation + " returned (took "
                        + millis(outcome.endNanos() - outcome.startNanos()) + " ms)"
                : "kill " + millis(killAt - outcome.startNanos()) + " ms into " + operation + " ("
                        + detail.replace('\n', ' ') + ")";
    }

    // ------------------------------------------------------------------------------ cycle parts

    /** The load time counts from when every writer has committed once (connections made, compute awake). */
    private void awaitFirstCommits() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (LedgerWriter writer : writers) {
            while (writer.acknowledged() == 0) {
                if (writer.failure() != null) {
                    fail("a ledger writer failed before its first commit: " + writer.failure() + diagnosis());
                }
                if (System.nanoTime() > deadline) {
                    fail("a ledger writer got no commit within 60 s" + diagnosis());
                }
                Thread.sleep(10);
            }
        }
    }

    /** CHECKPOINT on a connection opened beforehand, so the kill lands in the checkpoint, not in a login. */
    private static Callable<Outcome> checkpoint(Connection connection) {
        return () -> {
            long start = System.nanoTime();
            try (connection; Statement sql = connection.createStatement()) {
                sql.execute("CHECKPOINT");
                return new Outcome(true, "ok", start, System.nanoTime());
            } catch (SQLException e) {
                return new Outcome(false, e.getSQLState() + " " + e.getMessage(), start, System.nanoTime());
            }
        };
    }

    private Callable<Outcome> api(String method, String path, String body) {
        return () -> {
            long start = System.nanoTime();
            try {
                HttpResponse<String> response = server.api(method, path, body, null);
                int status = response.statusCode();
                return new Outcome(status == 200 || status == 201, status + " " + response.body(), start,
                        System.nanoTime());
            } catch (IOException e) {
                return new Outcome(false, e.toString(), start, System.nanoTime());
            }
        };
    }

    private static FutureTask<Outcome> background(Callable<Outcome> work) {
        FutureTask<Outcome> task = new FutureTask<>(work);
        Thread.ofPlatform().name("crash-test-operation").daemon().start(task);
        return task;
    }

    /**
     * After the restart: an acknowledged create or reset survived with the timeline it answered
     * with; a branch the operation made or repointed (acknowledged or not) holds every transaction
     * committed before it was requested and consistent balances. An unacknowledged reset may also
     * not have happened ({@code timelineBefore} unchanged). The compute woken for the check is
     * stopped again.
     */
    private String checkBranchOperation(KillPoint point, int cycle, Outcome outcome, Set<Long> committedBefore,
                                        String timelineBefore) throws Exception {
        String name = point == KillPoint.DURING_BRANCH_CREATE ? "fork-" + cycle : SIBLING;
        JsonNode branch = null;
        for (JsonNode b : server.cliJson("branch", "list").path("branches")) {
            if (b.path("name").asText().equals(name)) {
                branch = b;
            }
        }
        if (outcome.acknowledged()) {
            JsonNode answered = ServerProcess.parse(outcome.detail().substring(4));
            assertTrue(branch != null, "acknowledged " + point + " of " + name + " lost by the kill" + diagnosis());
            assertEquals(answered.path("timeline").asText(), branch.path("timeline").asText(),
                    "the acknowledged " + point + " of " + name + " survived the kill");
        }
        if (branch == null) {
            return ", " + name + " absent after the kill";
        }
        if (branch.path("timeline").asText().equals(timelineBefore)) {
            assertFalse(outcome.acknowledged(), "an acknowledged reset changes the timeline");
            return ", " + name + " not reset (still on its timeline)";
        }
        try (Connection c = connect(URI.create(server.cliOk("connect", name).strip()))) {
            server.rememberComputePids();
            LedgerBook.Snapshot snapshot = LedgerBook.Snapshot.read(c);
            List<String> violations = book.verifyBranchPoint(snapshot, committedBefore);
            if (!violations.isEmpty()) {
                fail(name + " after " + point + ": " + violations.subList(0, Math.min(20, violations.size()))
                        + diagnosis());
            }
            return ", " + name + " holds " + snapshot.rows().size() + " rows (>= " + committedBefore.size()
                    + " committed before)";
        } finally {
            server.cliOk("compute", "stop", name);
        }
    }

    /** TPC-B moves each delta into one account, teller and branch and one history row: all four sums agree. */
    private static void checkPgbenchBalances(Connection c) throws SQLException {
        try (Statement sql = c.createStatement();
             ResultSet rs = sql.executeQuery("SELECT (SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts),"
                     + " (SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers),"
                     + " (SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches),"
                     + " (SELECT coalesce(sum(delta), 0) FROM pgbench_history),"
                     + " (SELECT count(*) FROM pgbench_accounts)")) {
            assertTrue(rs.next());
            long history = rs.getLong(4);
            assertEquals(history, rs.getLong(1), "sum(abalance) = sum(delta)");
            assertEquals(history, rs.getLong(2), "sum(tbalance) = sum(delta)");
            assertEquals(history, rs.getLong(3), "sum(bbalance) = sum(delta)");
            assertEquals(100_000L * PGBENCH_SCALE, rs.getLong(5), "pgbench_accounts rows");
        }
    }

    /** pg_amcheck --all --heapallindexed through the proxy; fails unless clean. */
    private String amcheck(String branch) throws Exception {
        URI uri = URI.create(server.cliOk("connect", branch).strip());
        ProcessBuilder builder = new ProcessBuilder(PostgresInstallation.detect().tool("pg_amcheck").toString(),
                "--all", "--heapallindexed", "--install-missing", "-h", uri.getHost(), "-p",
                Integer.toString(uri.getPort()), "-U", uri.getUserInfo().split(":", 2)[0])
                .redirectErrorStream(true);
        builder.environment().put("PGPASSWORD", uri.getUserInfo().split(":", 2)[1]);
        builder.environment().put("PGSSLMODE", "disable");
        long start = System.nanoTime();
        Process check = builder.start();
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(check.waitFor(5, TimeUnit.MINUTES), "pg_amcheck did not finish");
        assertEquals(0, check.exitValue(), "pg_amcheck on " + branch + ": " + output + diagnosis());
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            return "clean (exit 0, " + queryLong(sql, "SELECT count(*) FROM pg_database WHERE datallowconn")
                    + " databases, " + millis(System.nanoTime() - start) + " ms)";
        }
    }

    // ------------------------------------------------------------------------------ helpers

    private static String jdbcUrl(URI uri) {
        return "jdbc:postgresql://" + uri.getHost() + ":" + uri.getPort() + uri.getPath();
    }

    private static Properties properties(URI uri) {
        String[] user = uri.getUserInfo().split(":", 2);
        Properties properties = new Properties();
        properties.setProperty("user", user[0]);
        properties.setProperty("password", user[1]);
        properties.setProperty("sslmode", "disable");
        properties.setProperty("connectTimeout", "30");
        properties.setProperty("socketTimeout", "120"); // a hung connection fails the test instead of hanging it
        properties.setProperty("ApplicationName", "crash-test");
        return properties;
    }

    private static Connection connect(URI uri) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(uri), properties(uri));
    }

    /** The computes' postmasters running now (handles: a reused pid is not mistaken for them later). */
    private List<ProcessHandle> runningComputes() {
        List<ProcessHandle> out = new ArrayList<>();
        for (JsonNode b : server.cliJson("branch", "list").path("branches")) {
            if (b.has("computePid")) {
                ProcessHandle.of(b.path("computePid").asLong()).ifPresent(out::add);
            }
        }
        assertFalse(out.isEmpty(), "no compute runs before the kill");
        return out;
    }

    /** Alive and not a zombie (an orphaned postmaster reparented to a PID 1 that does not reap). */
    private static boolean alive(ProcessHandle process) {
        if (!process.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException gone) {
            return false;
        }
    }

    private static int countOf(KillPoint point) {
        int n = 0;
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            n += KillPoint.values()[cycle % KillPoint.values().length] == point ? 1 : 0;
        }
        return n;
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    private static String spread(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[0] + " / " + sorted[sorted.length / 2] + " / " + sorted[sorted.length - 1];
    }

    /** Server log tail, compute log tails and the compute pids, for failure messages. */
    private String diagnosis() {
        StringBuilder out = new StringBuilder("\n--- server log tail ---\n").append(server.logTail());
        for (Path log : computeLogs()) {
            try {
                List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                out.append("\n--- ").append(log.getFileName()).append(" tail ---\n")
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
            } catch (IOException e) {
                out.append("\n(").append(log).append(": ").append(e).append(')');
            }
        }
        out.append("\n--- compute pids remembered: ").append(server.computePids());
        return out.toString();
    }

    private List<Path> computeLogs() {
        Path logs = server.dataDirectory().resolve("run").resolve("log");
        if (!Files.isDirectory(logs)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(logs)) {
            return files.filter(f -> f.toString().endsWith(".log")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Copies the computes' Postgres logs next to the server log ServerProcess keeps. */
    private void keepComputeLogs() throws IOException {
        Set<String> seen = new HashSet<>();
        for (Path log : computeLogs()) {
            if (seen.add(log.getFileName().toString())) {
                Path kept = Path.of("target", "LedgerCrashTest-" + log.getFileName()).toAbsolutePath();
                Files.createDirectories(kept.getParent());
                Files.copy(log, kept, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}

package dev.pgbranch.pageserver.timetravel;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgbranch.pageserver.testing.ServerProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.postgresql.util.PSQLException;

import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.pgbranch.pageserver.testing.Sql.psql;
import static dev.pgbranch.pageserver.testing.Sql.queryLong;
import static dev.pgbranch.pageserver.testing.Sql.queryString;

/**
 * Read-only time travel through the proxy's routing port of a real {@code pgbranch server} (own
 * JVM, {@code --idle-timeout 3s}): rows written, then changed and deleted, are seen as they were
 * at a time and at an LSN with pgjdbc and psql; the time-travel session cannot change the branch;
 * connections to one point share a compute, which is removed (postmaster dead, temporary timeline
 * deleted) once idle; bad points get their SQLSTATEs; the limit of computes holds; a stopped or
 * killed server leaves nothing behind.
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TimeTravelWorkflowTest {

    private static final Duration IDLE = Duration.ofSeconds(3);
    private static final String BRANCH = "tt/main";

    private ServerProcess server;
    private final Map<String, String> figures = new LinkedHashMap<>();
    /** A time and an LSN after the first three rows were committed, before they were changed. */
    private Instant before;
    private String beforeLsn;
    private long baseTimelines;

    @BeforeAll
    void startServerAndWriteHistory() throws Exception {
        server = new ServerProcess("TimeTravelWorkflowTest");
        server.start("--idle-timeout", IDLE.toSeconds() + "s");
        server.cliJson("branch", "create", BRANCH, "--parent", "development");
        try (Connection c = server.connect(BRANCH); Statement sql = c.createStatement()) {
            sql.execute("CREATE TABLE items (id int PRIMARY KEY, v text)");
            sql.execute("INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')");
            beforeLsn = server.cliJson("branch", "show", BRANCH).path("headLsn").asText();
            // The server marks (time, LSN) once a second: wait for a mark after the commit.
            Thread.sleep(1500);
            before = Instant.now();
            Thread.sleep(1500);
            sql.execute("UPDATE items SET v = 'ONE' WHERE id = 1");
            sql.execute("DELETE FROM items WHERE id = 2");
            sql.execute("INSERT INTO items VALUES (4, 'four')");
        }
        // The branch's own compute goes idle too; only time-travel timelines change the count below.
        baseTimelines = server.metric("pgbranch_store_timelines");
    }

    @AfterAll
    void stopServer() throws Exception {
        figures.forEach((k, v) -> System.out.println("FIGURE " + k + ": " + v));
        if (server != null) {
            server.close();
        }
    }

    @Test
    @Order(1)
    void theBranchIsSeenAsItWasAtATimeAndAtAnLsnAndTheSessionCannotChangeIt() throws Exception {
        String atTime = server.cliOk("connect", BRANCH, "--at", before.toString()).strip();
        assertTrue(atTime.endsWith("/postgres?options=" + URLEncoder.encode("branch=" + BRANCH + "@" + before,
                StandardCharsets.UTF_8)), atTime);
        assertEquals(server.info().proxyPort(), URI.create(atTime).getPort());
        long started = System.nanoTime();
        try (Connection c = connect(atTime); Statement sql = c.createStatement()) {
            figures.put("first query of a time-travel connection (compute started)",
                    (System.nanoTime() - started) / 1_000_000 + " ms");
            assertEquals("1:one,2:two,3:three", rows(sql));
            assertEquals("on", queryString(sql, "SHOW default_transaction_read_only"));
            assertEquals(BRANCH, queryString(sql, "SHOW pgbranch.time_travel_branch"));
            // The LSN form, with psql (libpq decodes the URI as printed).
            String atLsn = server.cliOk("connect", BRANCH, "--at", beforeLsn).strip();
            assertEquals("1:one,2:two,3:three", psql(atLsn, "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM items"));
            assertEquals("on", psql(atLsn, "SHOW default_transaction_read_only"));
            assertEquals("f", psql(atLsn, "SELECT pg_is_in_recovery()"), "a plain primary, read-only by default");
            assertEquals("3", psql(atTime, "SELECT count(*) FROM items"));
            // A write is refused as in a read-only transaction.
            PSQLException refused = assertThrows(PSQLException.class,
                    () -> sql.execute("INSERT INTO items VALUES (99, 'nope')"));
            assertEquals("25006", refused.getSQLState());
            // Even a forced write lands on the throwaway timeline only (visible to the sessions sharing
            // this compute until it is removed: the next test sees it gone).
            sql.execute("BEGIN READ WRITE");
            sql.execute("INSERT INTO items VALUES (99, 'forced')");
            sql.execute("COMMIT");
            assertEquals("1:one,2:two,3:three,99:forced", rows(sql));
        }
        try (Connection c = server.connect(BRANCH); Statement sql = c.createStatement()) {
            assertEquals("1:ONE,3:three,4:four", rows(sql), "the branch is unchanged by the time-travel session");
        }
    }

    @Test
    @Order(2)
    void connectionsToOnePointShareAComputeWhichIsRemovedOnceIdle() throws Exception {
        awaitTimelines(baseTimelines, "the computes of the first test are removed");
        String atTime = server.cliOk("connect", BRANCH, "--at", before.toString()).strip();
        long pid;
        String resolvedLsn;
        try (Connection a = connect(atTime); Statement sa = a.createStatement()) {
            pid = postmasterPid(sa);
            resolvedLsn = queryString(sa, "SHOW pgbranch.time_travel_lsn");
            assertEquals(baseTimelines + 1, server.metric("pgbranch_store_timelines"));
            // The LSN the time resolved to, given as an LSN, and the dbname@branch@point form: the same compute.
            String atResolved = server.cliOk("connect", BRANCH, "--at", resolvedLsn).strip();
            try (Connection b = connect(atResolved); Statement sb = b.createStatement();
                 Connection d = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + server.info().proxyPort()
                         + "/postgres@" + URLEncoder.encode(BRANCH + "@" + before, StandardCharsets.UTF_8),
                         credentials(atTime));
                 Statement sd = d.createStatement()) {
                assertEquals(pid, postmasterPid(sb));
                assertEquals(pid, postmasterPid(sd));
                assertEquals("postgres", queryString(sd, "SELECT current_database()"));
                assertEquals("1:one,2:two,3:three", rows(sd));
                assertEquals(baseTimelines + 1, server.metric("pgbranch_store_timelines"));
                // A connected client keeps it up past the idle timeout.
                Thread.sleep(IDLE.plusSeconds(2).toMillis());
                assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
                assertEquals(3, queryLong(sa, "SELECT count(*) FROM items"));
            }
        }
        server.rememberPid(pid);
        long closed = System.nanoTime();
        await("the idle time-travel compute is removed", Duration.ofSeconds(30),
                () -> ProcessHandle.of(pid).isEmpty() || !ProcessHandle.of(pid).get().isAlive());
        awaitTimelines(baseTimelines, "its temporary timeline is deleted");
        figures.put("last client gone -> time-travel compute removed (idle timeout " + IDLE.toSeconds() + " s)",
                (System.nanoTime() - closed) / 1_000_000 + " ms");
        // A new connection to the point starts a new compute, without the first test's forced row 99.
        try (Connection c = connect(atTime); Statement sql = c.createStatement()) {
            assertNotEquals(pid, postmasterPid(sql));
            assertEquals("1:one,2:two,3:three", rows(sql));
        }
    }

    @Test
    @Order(3)
    void badPointsGetClearSqlStatesAndTheProxyKeepsServing() throws Exception {
        String plain = server.cliOk("connect", BRANCH, "--routing").strip();
        PSQLException garbage = assertThrows(PSQLException.class, () -> connectNamed(plain, BRANCH + "@yesterday"));
        assertEquals("22007", garbage.getSQLState());
        assertTrue(garbage.getMessage().contains("2026-11-20T10:00:00Z"), "an example: " + garbage.getMessage());

        Instant future = Instant.now().plus(Duration.ofDays(1));
        PSQLException ahead = assertThrows(PSQLException.class, () -> connectNamed(plain, BRANCH + "@" + future));
        assertEquals("22023", ahead.getSQLState());
        assertTrue(ahead.getMessage().contains("in the future"), ahead.getMessage());

        PSQLException aheadLsn = assertThrows(PSQLException.class, () -> connectNamed(plain, BRANCH + "@FFFFFFFF/0"));
        assertEquals("22023", aheadLsn.getSQLState());
        assertTrue(aheadLsn.getMessage().contains("ahead of branch"), aheadLsn.getMessage());

        // Before the branch existed: its history starts at its creation.
        JsonNode created = server.cliJson("branch", "show", BRANCH);
        Instant beforeBranch = Instant.parse(created.path("createdAt").asText()).minusSeconds(3600);
        PSQLException early = assertThrows(PSQLException.class, () -> connectNamed(plain, BRANCH + "@" + beforeBranch));
        assertEquals("22023", early.getSQLState());
        assertTrue(early.getMessage().contains("has no history at or before"), early.getMessage());

        // Before the branch's current timeline: it was reset since, so that time is not its history any more.
        server.cliJson("branch", "create", "tt/reset", "--parent", "development");
        try (Connection c = server.connect("tt/reset"); Statement sql = c.createStatement()) {
            sql.execute("CREATE TABLE gone (id int)");
        }
        Thread.sleep(1500);
        Instant beforeReset = Instant.now();
        Thread.sleep(1100);
        server.cliJson("branch", "reset", "tt/reset");
        PSQLException reset = assertThrows(PSQLException.class, () -> connectNamed(plain, "tt/reset@" + beforeReset));
        assertEquals("22023", reset.getSQLState());
        assertTrue(reset.getMessage().contains("has no history at or before"), reset.getMessage());
        server.cliOk("branch", "delete", "tt/reset");

        PSQLException unknown = assertThrows(PSQLException.class, () -> connectNamed(plain, "no/such@" + before));
        assertEquals("3D000", unknown.getSQLState());

        // The CLI checks the syntax before printing.
        ServerProcess.Result bad = server.cli("connect", BRANCH, "--at", "yesterday");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("0/16B3748"), bad.err());

        // A branch's own port serves only the branch itself.
        JsonNode info = server.cliJson("connect", BRANCH);
        Properties props = credentials(plain);
        props.setProperty("options", "branch=" + BRANCH + "@" + before);
        PSQLException ownPort = assertThrows(PSQLException.class, () -> DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + info.path("port").asInt() + "/postgres", props).close());
        assertEquals("3D000", ownPort.getSQLState());

        try (Connection c = connect(plain); Statement sql = c.createStatement()) {
            assertEquals("1:ONE,3:three,4:four", rows(sql));
        }
    }

    @Test
    @Order(4)
    void oneMoreDistinctPointThanTheLimitIsRefusedWith53300() throws Exception {
        // Five distinct LSNs of the branch's history, each after a commit.
        List<String> points = new ArrayList<>();
        try (Connection c = server.connect(BRANCH); Statement sql = c.createStatement()) {
            for (int i = 0; i < TimeTravel.DEFAULT_MAX_COMPUTES + 1; i++) {
                sql.execute("INSERT INTO items VALUES (" + (100 + i) + ", 'p" + i + "')");
                points.add(server.cliJson("branch", "show", BRANCH).path("headLsn").asText());
            }
        }
        List<Connection> open = new ArrayList<>();
        try {
            for (int i = 0; i < TimeTravel.DEFAULT_MAX_COMPUTES; i++) {
                Connection c = connect(server.cliOk("connect", BRANCH, "--at", points.get(i)).strip());
                open.add(c);
                try (Statement sql = c.createStatement()) {
                    assertEquals(i + 1, queryLong(sql, "SELECT count(*) FROM items WHERE id >= 100"), "point " + i);
                }
            }
            String last = server.cliOk("connect", BRANCH, "--at", points.getLast()).strip();
            PSQLException full = assertThrows(PSQLException.class, () -> connect(last).close());
            assertEquals("53300", full.getSQLState());
            assertTrue(full.getMessage().contains(TimeTravel.DEFAULT_MAX_COMPUTES + " are running"), full.getMessage());
            // An open point is still reachable, and so is the branch.
            try (Connection again = connect(server.cliOk("connect", BRANCH, "--at", points.getFirst()).strip());
                 Statement sql = again.createStatement()) {
                assertEquals(1, queryLong(sql, "SELECT count(*) FROM items WHERE id >= 100"));
            }
        } finally {
            for (Connection c : open) {
                c.close();
            }
        }
        awaitTimelines(baseTimelines, "all time-travel timelines are deleted once idle");
    }

    @Test
    @Order(5)
    void pointsOutsideTheRetentionWindowOrBelowTheGcHorizonAreRefused() throws Exception {
        server.cliOk("project", "set", "--retention", "0s");
        server.cliOk("gc");
        PSQLException window = assertThrows(PSQLException.class,
                () -> connectNamed(server.cliOk("connect", BRANCH, "--routing").strip(), BRANCH + "@" + before));
        assertEquals("22023", window.getSQLState());
        assertTrue(window.getMessage().contains("outside the retention window"), window.getMessage());
        // A longer window again does not bring collected history back.
        server.cliOk("project", "set", "--retention", "7d");
        PSQLException collected = assertThrows(PSQLException.class,
                () -> connectNamed(server.cliOk("connect", BRANCH, "--routing").strip(), BRANCH + "@" + beforeLsn));
        assertEquals("22023", collected.getSQLState());
        assertTrue(collected.getMessage().contains("oldest restorable point"), collected.getMessage());
    }

    @Test
    @Order(6)
    void aKilledServerLeavesNothingAfterItsRestartAndAStoppedOneNothingAtAll() throws Exception {
        String atTime = server.cliOk("connect", BRANCH, "--at",
                server.cliJson("branch", "show", BRANCH).path("headLsn").asText()).strip();
        long killedPid;
        try (Connection c = connect(atTime); Statement sql = c.createStatement()) {
            killedPid = postmasterPid(sql);
            server.rememberPid(killedPid);
            assertEquals(baseTimelines + 1, server.metric("pgbranch_store_timelines"));
            server.kill();
        }
        server.restart();
        // The head as recovered (writes not synced before the kill are gone), and a new routing port.
        atTime = server.cliOk("connect", BRANCH, "--at",
                server.cliJson("branch", "show", BRANCH).path("headLsn").asText()).strip();
        assertFalse(ProcessHandle.of(killedPid).map(ProcessHandle::isAlive).orElse(false),
                "the orphaned time-travel postmaster is killed at the next start");
        assertEquals(baseTimelines, server.metric("pgbranch_store_timelines"), "its timeline is deleted at the next start");
        assertEquals(List.of(), server.mounts());

        long stoppedPid;
        try (Connection c = connect(atTime); Statement sql = c.createStatement()) {
            assertEquals("1:ONE,3:three,4:four", rows(sql));
            stoppedPid = postmasterPid(sql);
            server.rememberPid(stoppedPid);
            server.stop();
        }
        assertFalse(ProcessHandle.of(stoppedPid).map(ProcessHandle::isAlive).orElse(false));
        assertEquals(List.of(), server.mounts(), "no mount is left");
        server.restart();
        assertEquals(baseTimelines, server.metric("pgbranch_store_timelines"), "no timeline was left either");
        String sinceStop = server.logTail().substring(server.logTail().lastIndexOf("pgbranch server stopping"));
        assertFalse(sinceStop.contains("deleted unreferenced timeline"), "the stop deleted it, not the restart:\n"
                + sinceStop);
    }

    // ------------------------------------------------------------------------------------------

    private void awaitTimelines(long expected, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long now = server.metric("pgbranch_store_timelines");
        while (now != expected && System.nanoTime() < deadline) {
            Thread.sleep(200);
            now = server.metric("pgbranch_store_timelines");
        }
        assertEquals(expected, now, what + "\n" + server.logTail());
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out: " + what);
            }
            Thread.sleep(100);
        }
    }

    /** The compute's postmaster: the parent of this session's backend (same machine). */
    private static long postmasterPid(Statement sql) throws SQLException {
        long backend = queryLong(sql, "SELECT pg_backend_pid()");
        return ProcessHandle.of(backend).flatMap(ProcessHandle::parent).map(ProcessHandle::pid)
                .orElseThrow(() -> new AssertionError("no parent of backend " + backend));
    }

    private static String rows(Statement sql) throws SQLException {
        return queryString(sql, "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM items WHERE id < 100");
    }

    private static Properties credentials(String uri) {
        String[] user = URI.create(uri).getUserInfo().split(":", 2);
        Properties props = new Properties();
        props.setProperty("user", user[0]);
        props.setProperty("password", user[1]);
        props.setProperty("connectTimeout", "90");
        props.setProperty("sslmode", "disable");
        return props;
    }

    /** pgjdbc from a libpq URI as {@code pgbranch connect} prints it: its {@code options} as a property. */
    private static Connection connect(String uri) throws SQLException {
        URI parsed = URI.create(uri);
        Properties props = credentials(uri);
        String query = parsed.getRawQuery();
        if (query != null) {
            for (String pair : query.split("&")) {
                String[] kv = pair.split("=", 2);
                props.setProperty(URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
                        URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
            }
        }
        return DriverManager.getConnection("jdbc:postgresql://" + parsed.getHost() + ":" + parsed.getPort()
                + parsed.getRawPath(), props);
    }

    /** Connects through the routing port of {@code routingUri} with {@code options=branch=<name>}. */
    private static void connectNamed(String routingUri, String name) throws SQLException {
        URI parsed = URI.create(routingUri);
        Properties props = credentials(routingUri);
        props.setProperty("options", "branch=" + name);
        DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + parsed.getPort() + "/postgres", props).close();
    }
}

package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgbranch.pageserver.testing.ServerProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.postgresql.util.PSQLException;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static dev.pgbranch.pageserver.testing.Sql.psql;
import static dev.pgbranch.pageserver.testing.Sql.queryLong;
import static dev.pgbranch.pageserver.testing.Sql.queryString;

/**
 * Users' connections through the wire proxy of a real {@code pgbranch server} (own JVM, started
 * with {@code --proxy-port 0 --idle-timeout 4s}): pgjdbc and psql on a branch's stable port and
 * on the routing port, wake on connect, idle suspend, unknown branches, and reset under connected
 * clients. Computes are real Postgres on FUSE.
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProxyWorkflowTest {

    private static final Duration IDLE = Duration.ofSeconds(4);

    private ServerProcess server;
    private final Map<String, String> figures = new LinkedHashMap<>();

    @BeforeAll
    void startServer() throws Exception {
        server = new ServerProcess("ProxyWorkflowTest");
        server.start("--idle-timeout", IDLE.toSeconds() + "s");
    }

    @AfterAll
    void stopServer() throws Exception {
        figures.forEach((k, v) -> System.out.println("FIGURE " + k + ": " + v));
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aBranchIsReachedThroughItsOwnPortAndThroughTheRoutingPortWithPgjdbcAndPsql() throws Exception {
        long createStart = System.nanoTime();
        JsonNode branch = server.cliJson("branch", "create", "proxy/route", "--parent", "development");
        JsonNode connection = server.cliJson("connect", "proxy/route");
        String uri = connection.path("uri").asText();
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            assertEquals(1, queryLong(sql, "SELECT 1"));
            figures.put("branch create (CLI) -> first SELECT 1 through the proxy's branch port (compute woken)",
                    (System.nanoTime() - createStart) / 1_000_000 + " ms");
            sql.execute("CREATE TABLE routed (id int)");
            sql.execute("INSERT INTO routed VALUES (1), (2), (3)");
            long computePort = queryLong(sql, "SELECT current_setting('port')::int");
            assertNotEquals(branch.path("port").asLong(), computePort, "the compute's port is internal");
            assertNotEquals(server.info().proxyPort(), computePort);
        }

        // The routing port: options=branch=proxy/route (percent-encoded in the URI), as printed.
        String routingUri = connection.path("routingUri").asText();
        assertEquals(routingUri, server.cliOk("connect", "proxy/route", "--routing").strip());
        assertEquals(server.info().proxyPort(), URI.create(routingUri).getPort());
        assertTrue(routingUri.endsWith("/postgres?options=branch%3Dproxy%2Froute"), routingUri);
        try (Connection c = connect(routingUri); Statement sql = c.createStatement()) {
            assertEquals(6, queryLong(sql, "SELECT sum(id) FROM routed"));
        }
        // libpq decodes the same URI: psql sees the same branch.
        assertEquals("6", psql(routingUri, "SELECT sum(id) FROM routed"));
        assertEquals("6", psql(uri, "SELECT sum(id) FROM routed"));
        // dbname@branch on the routing port names it too.
        URI parsed = URI.create(uri);
        Properties props = credentials(uri);
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + server.info().proxyPort()
                + "/postgres@proxy%2Froute", props); Statement sql = c.createStatement()) {
            assertEquals(3, queryLong(sql, "SELECT count(*) FROM routed"));
            assertEquals("postgres", queryString(sql, "SELECT current_database()"), "the @branch suffix is stripped");
        }
        // ...and other branches do not have the table.
        String development = server.cliOk("connect", "development", "--routing").strip();
        try (Connection c = connect(development); Statement sql = c.createStatement()) {
            assertNull(queryString(sql, "SELECT to_regclass('routed')::text"));
        }
        assertEquals(parsed.getPort(), branch.path("port").asInt());
    }

    @Test
    void aSuspendedComputeIsWokenByAConnectionAndSuspendedAgainAfterTheIdleTimeout() throws Exception {
        server.cliJson("branch", "create", "proxy/wake", "--parent", "development");
        String uri = server.cliOk("connect", "proxy/wake").strip();
        assertEquals("suspended", state("proxy/wake"));
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            sql.execute("CREATE TABLE kept (v text)");
            sql.execute("INSERT INTO kept VALUES ('survives suspend')");
            assertEquals("running", state("proxy/wake"));
            // A connected client keeps the compute up well past the idle timeout.
            Thread.sleep(IDLE.plusSeconds(3).toMillis());
            assertEquals("running", state("proxy/wake"), "not suspended while a client is connected");
            assertEquals(1, queryLong(sql, "SELECT count(*) FROM kept"));
        }
        long suspendedAfter = awaitState("proxy/wake", "suspended", Duration.ofSeconds(90));
        assertTrue(suspendedAfter >= IDLE.toMillis() - 500, "suspended only after the idle timeout: " + suspendedAfter + " ms");

        // The next connection wakes it; time from the attempt to the first result.
        long attempt = System.nanoTime();
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            assertEquals("survives suspend", queryString(sql, "SELECT v FROM kept"));
            figures.put("connection attempt on a suspended branch -> first result through the proxy",
                    (System.nanoTime() - attempt) / 1_000_000 + " ms");
        }
        assertEquals("running", state("proxy/wake"));

        // A compute stopped through the API is woken the same way.
        server.cliOk("compute", "stop", "proxy/wake");
        assertEquals("suspended", state("proxy/wake"));
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            assertEquals(1, queryLong(sql, "SELECT count(*) FROM kept"));
        }

        String metrics = server.metrics();
        assertTrue(metric(metrics, "pgbranch_proxy_wakes_total{branch=\"proxy/wake\"}") >= 2, metrics);
        // The proxy suspends what it relays; the server's idle sweep what the kernel handed to the compute.
        assertTrue(metric(metrics, "pgbranch_proxy_suspends_total{branch=\"proxy/wake\"}")
                + metric(metrics, "pgbranch_compute_idle_stops_total") >= 1, metrics);
        assertTrue(metric(metrics, "pgbranch_proxy_connections_total{branch=\"proxy/wake\"}") >= 3, metrics);
        assertTrue(metric(metrics, "pgbranch_proxy_wake_seconds_count{branch=\"proxy/wake\"}") >= 2, metrics);
        assertTrue(metric(metrics,
                "pgbranch_proxy_bytes_total{branch=\"proxy/wake\",direction=\"compute_to_client\"}") > 0, metrics);
        server.rememberComputePids();
    }

    @Test
    void aComputeStartedWithoutAnyClientIsStoppedAfterTheIdleTimeoutToo() throws Exception {
        server.cliJson("branch", "create", "proxy/warm", "--parent", "development");
        String uri = server.cliOk("connect", "proxy/warm", "--start").strip();
        assertEquals("running", state("proxy/warm"), "--start starts it before any connection");
        long stoppedAfter = awaitState("proxy/warm", "suspended", Duration.ofSeconds(90));
        assertTrue(stoppedAfter >= IDLE.toMillis() - 1000, "stopped only after the idle timeout: " + stoppedAfter + " ms");
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            assertEquals(1, queryLong(sql, "SELECT 1"), "and woken again by a connection");
        }
        server.rememberComputePids();
    }

    @Test
    void aComputeThatCannotStartIsFatal08006WithPostgresReasonAndAResetRepairsTheBranch() throws Exception {
        server.cliJson("branch", "create", "proxy/broken", "--parent", "development");
        String uri = server.cliOk("connect", "proxy/broken").strip();
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            sql.execute("ALTER SYSTEM SET shared_preload_libraries = 'pgbranch_no_such_library'");
        }
        server.cliOk("compute", "stop", "proxy/broken");
        PSQLException e = assertThrows(PSQLException.class, () -> connect(uri).close());
        assertEquals("08006", e.getSQLState(), e.getMessage());
        assertTrue(e.getMessage().contains("could not start the compute of branch \"proxy/broken\""), e.getMessage());
        assertTrue(e.getMessage().contains("pgbranch_no_such_library"), "Postgres's own reason: " + e.getMessage());
        assertEquals("suspended", state("proxy/broken"));
        assertTrue(metric(server.metrics(), "pgbranch_proxy_wake_failures_total{branch=\"proxy/broken\"}") >= 1);

        server.cliJson("branch", "reset", "proxy/broken");
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            assertEquals("", queryString(sql, "SHOW shared_preload_libraries"), "the parent's configuration again");
        }
        server.rememberComputePids();
    }

    @Test
    void tlsIsTerminatedByTheProxyWithItsSelfSignedOrAConfiguredCertificate() throws Exception {
        String uri = server.cliOk("connect", "development").strip();
        Properties require = credentials(uri);
        require.setProperty("sslmode", "require");
        // On the branch port TLS is the proxy's, or the compute's own once the port is handed to it.
        try (Connection c = DriverManager.getConnection(jdbcUrl(uri), require); Statement sql = c.createStatement()) {
            assertEquals(1, queryLong(sql, "SELECT 1"));
        }
        String routing = server.cliOk("connect", "development", "--routing").strip();
        Properties routingRequire = credentials(routing);
        routingRequire.setProperty("sslmode", "require");
        double before = metric(server.metrics(), "pgbranch_proxy_tls_handshakes_total");
        try (Connection c = DriverManager.getConnection(jdbcUrl(routing), routingRequire)) {
            assertEquals(1, queryLong(c.createStatement(), "SELECT 1"));
        }
        assertTrue(metric(server.metrics(), "pgbranch_proxy_tls_handshakes_total") > before, "sslmode=require did TLS");

        // A second server presenting a configured certificate, which verify-full accepts.
        Path pki = Files.createTempDirectory("pgbranch-tls");
        ServerProcess tls = new ServerProcess("ProxyWorkflowTest-tls");
        try {
            Path cert = pki.resolve("cert.pem");
            Path key = pki.resolve("key.pem");
            Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key.toString(), "-out", cert.toString(),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost")
                    .redirectErrorStream(true).start();
            String output = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(openssl.waitFor(1, TimeUnit.MINUTES));
            assertEquals(0, openssl.exitValue(), output);
            tls.start("--tls-cert", cert.toString(), "--tls-key", key.toString());
            JsonNode connection = tls.cliJson("connect", "development");
            // Started, so that the branch port is served by the compute itself: it presents the same certificate.
            tls.cliOk("compute", "start", "development");
            for (String target : new String[] {connection.path("uri").asText(), connection.path("routingUri").asText()}) {
                Properties verify = credentials(target);
                verify.setProperty("sslmode", "verify-full");
                verify.setProperty("sslrootcert", cert.toString());
                try (Connection c = DriverManager.getConnection(jdbcUrl(target), verify); Statement sql = c.createStatement()) {
                    assertEquals(1, queryLong(sql, "SELECT 1"), target);
                }
            }
            // The main server's self-signed certificate is not the one verify-full trusts.
            Properties wrong = credentials(uri);
            wrong.setProperty("sslmode", "verify-full");
            wrong.setProperty("sslrootcert", cert.toString());
            assertThrows(SQLException.class, () -> DriverManager.getConnection(jdbcUrl(uri), wrong).close());
            tls.rememberComputePids();
        } finally {
            tls.close();
            try (var files = Files.walk(pki)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void anUnknownBranchOnTheRoutingPortIsFatal3D000InPgjdbc() throws Exception {
        String base = "jdbc:postgresql://127.0.0.1:" + server.info().proxyPort() + "/postgres";
        Properties props = credentials(server.cliOk("connect", "development").strip());
        Properties unknown = new Properties();
        unknown.putAll(props);
        unknown.setProperty("options", "branch=nope/never");
        PSQLException e = assertThrows(PSQLException.class, () -> DriverManager.getConnection(base, unknown).close());
        assertEquals("3D000", e.getSQLState());
        assertTrue(e.getMessage().contains("nope/never"), e.getMessage());

        Properties malformed = new Properties();
        malformed.putAll(props);
        malformed.setProperty("options", "branch=dev/../x");
        e = assertThrows(PSQLException.class, () -> DriverManager.getConnection(base, malformed).close());
        assertEquals("3D000", e.getSQLState());

        e = assertThrows(PSQLException.class, () -> DriverManager.getConnection(base, props).close());
        assertEquals("3D000", e.getSQLState(), "no branch named at all");
        assertTrue(e.getMessage().contains("options=branch=<name>"), e.getMessage());
        assertTrue(metric(server.metrics(), "pgbranch_proxy_errors_total{sqlstate=\"3D000\"}") >= 3);

        // A deleted branch is unknown too, and its port is closed.
        JsonNode gone = server.cliJson("branch", "create", "proxy/gone", "--parent", "development");
        server.cliOk("branch", "delete", "proxy/gone");
        Properties deleted = new Properties();
        deleted.putAll(props);
        deleted.setProperty("options", "branch=proxy/gone");
        e = assertThrows(PSQLException.class, () -> DriverManager.getConnection(base, deleted).close());
        assertEquals("3D000", e.getSQLState());
        int port = gone.path("port").asInt();
        SQLException refused = assertThrows(SQLException.class, () -> DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + port + "/postgres", props).close());
        assertEquals("08001", refused.getSQLState(), "nothing listens on a deleted branch's port: " + refused);
    }

    @Test
    void resetDisconnectsClientsKeepsTheConnectionStringAndANewConnectionSeesTheParent() throws Exception {
        String developmentUri = server.cliOk("connect", "development").strip();
        try (Connection c = connect(developmentUri); Statement sql = c.createStatement()) {
            sql.execute("CREATE TABLE IF NOT EXISTS parent_rows (id int)");
            sql.execute("INSERT INTO parent_rows VALUES (1)");
        }
        server.cliJson("branch", "create", "proxy/reset", "--parent", "development");
        String uri = server.cliOk("connect", "proxy/reset").strip();
        try (Connection held = connect(uri); Statement heldSql = held.createStatement()) {
            heldSql.execute("CREATE TABLE branch_only (id int)");
            heldSql.execute("DELETE FROM parent_rows");
            try (Connection c = connect(developmentUri); Statement sql = c.createStatement()) {
                sql.execute("INSERT INTO parent_rows VALUES (2)");
            }

            JsonNode reset = server.cliJson("branch", "reset", "proxy/reset");
            assertEquals("running", reset.path("computeState").asText());
            SQLException dropped = assertThrows(SQLException.class, () -> queryLong(heldSql, "SELECT 1"),
                    "the old compute's clients are disconnected");
            assertTrue(dropped.getSQLState() == null || dropped.getSQLState().startsWith("57P")
                    || dropped.getSQLState().startsWith("08"), dropped.getSQLState() + " " + dropped);
        }
        assertEquals(uri, server.cliOk("connect", "proxy/reset").strip(), "same connection string after reset");
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            assertNull(queryString(sql, "SELECT to_regclass('branch_only')::text"), "the branch's own table is gone");
            assertEquals(queryLong(sql, "SELECT count(*) FROM parent_rows"), countOn(developmentUri, "parent_rows"),
                    "exactly the parent's rows");
            assertTrue(queryLong(sql, "SELECT count(*) FROM parent_rows WHERE id = 2") == 1, "the parent's latest row");
        }
        server.rememberComputePids();
    }

    /**
     * While a branch's compute runs, the kernel hands its port to the postmaster (BPF sk_lookup):
     * the session's server port is the branch port itself, not the compute's internal one the
     * proxy would connect to. Suspended or being reset, the proxy's listener takes the port again.
     */
    @Test
    void aRunningBranchsPortIsServedByItsComputeDirectlyWithTlsCancelIdleSuspendAndReset() throws Exception {
        JsonNode branch = server.cliJson("branch", "create", "proxy/handoff", "--parent", "development");
        int port = branch.path("port").asInt();
        String uri = server.cliOk("connect", "proxy/handoff").strip();
        long internalPort;
        try (Connection woken = connect(uri); Statement sql = woken.createStatement()) {
            internalPort = queryLong(sql, "SELECT current_setting('port')::int");
            assertEquals(internalPort, queryLong(sql, "SELECT inet_server_port()"), "the waking session is relayed");
            sql.execute("CREATE TABLE handed (id int)");
        }
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            assertEquals(port, queryLong(sql, "SELECT inet_server_port()"), "served by the compute's own socket");
            assertEquals(queryLong(sql, "SELECT pg_backend_pid()"), c.unwrap(org.postgresql.PGConnection.class).getBackendPID());
            // Cancel goes to the branch port, so straight to the postmaster.
            Thread canceller = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(500);
                    sql.cancel();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            SQLException cancelled = assertThrows(SQLException.class, () -> sql.execute("SELECT pg_sleep(30)"));
            assertEquals("57014", cancelled.getSQLState());
            canceller.join();
            // TLS is the compute's own, with the server's certificate.
            Properties require = credentials(uri);
            require.setProperty("sslmode", "require");
            try (Connection tls = DriverManager.getConnection(jdbcUrl(uri), require); Statement t = tls.createStatement()) {
                assertEquals(port, queryLong(t, "SELECT inet_server_port()"));
                assertEquals(1, queryLong(t, "SELECT count(*) FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl"));
            }
            // The proxy sees none of these clients; the server's idle sweep counts them.
            Thread.sleep(IDLE.plusSeconds(3).toMillis());
            assertEquals("running", state("proxy/handoff"), "not suspended while a handed-off client is connected");
            assertEquals(0, queryLong(sql, "SELECT count(*) FROM handed"));

            JsonNode reset = server.cliJson("branch", "reset", "proxy/handoff");
            assertEquals("running", reset.path("computeState").asText());
            assertThrows(SQLException.class, () -> queryLong(sql, "SELECT 1"), "the old compute's clients are dropped");
        }
        assertEquals(uri, server.cliOk("connect", "proxy/handoff").strip(), "same connection string after reset");
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            assertEquals(port, queryLong(sql, "SELECT inet_server_port()"), "the reset compute is handed the port");
            assertNull(queryString(sql, "SELECT to_regclass('handed')::text"), "the parent's state");
        }
        assertTrue(metric(server.metrics(), "pgbranch_proxy_handoffs_total{result=\"steered\"}") >= 2);
        awaitState("proxy/handoff", "suspended", Duration.ofSeconds(90));
        // Suspended: the proxy's listener takes the port and wakes the compute.
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            assertNotEquals(port, queryLong(sql, "SELECT inet_server_port()"), "relayed while waking");
        }
        server.rememberComputePids();
    }

    // ---------------------------------------------------------------------------------------

    private String state(String branch) {
        return server.cliJson("branch", "show", branch).path("computeState").asText();
    }

    /** Polls the branch's compute state; returns the milliseconds it took to reach {@code expected}. */
    private long awaitState(String branch, String expected, Duration timeout) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (state(branch).equals(expected)) {
                return (System.nanoTime() - start) / 1_000_000;
            }
            Thread.sleep(200);
        }
        fail(branch + " did not become " + expected + " within " + timeout + "\n" + server.logTail());
        return -1;
    }

    private static long countOn(String uri, String table) throws SQLException {
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            return queryLong(sql, "SELECT count(*) FROM " + table);
        }
    }

    private static Properties credentials(String uri) {
        String[] user = URI.create(uri).getUserInfo().split(":", 2);
        Properties props = new Properties();
        props.setProperty("user", user[0]);
        props.setProperty("password", user[1]);
        props.setProperty("connectTimeout", "90");
        return props;
    }

    /** pgjdbc from a libpq URI as {@code pgbranch connect} prints it (query parameters kept). */
    private static Connection connect(String uri) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(uri), credentials(uri));
    }

    /** The pgjdbc URL of a libpq URI, without the user info (given as properties). */
    private static String jdbcUrl(String uri) {
        URI parsed = URI.create(uri);
        String query = parsed.getRawQuery() == null ? "" : "?" + parsed.getRawQuery();
        return "jdbc:postgresql://" + parsed.getHost() + ":" + parsed.getPort() + parsed.getRawPath() + query;
    }

    /** The value of one sample line, e.g. {@code name{label="x"} 3}. */
    private static double metric(String metrics, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(metrics);
        if (!m.find()) {
            throw new AssertionError("no series " + series + " in\n" + metrics);
        }
        return Double.parseDouble(m.group(1));
    }
}

package dev.pgbranch.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.postgresql.util.PSQLException;

/**
 * The proxy in front of real PostgreSQL servers, exercised with pgjdbc, psql and a raw protocol client.
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgProxyIntegrationTest {

    private PostgresBranches pg;
    private PgProxy proxy;
    private int devAlexPort;
    private Path certDir;
    private TestCertificates certs;

    @BeforeAll
    void start() throws Exception {
        pg = new PostgresBranches();
        for (String b : List.of("main", "dev/alex", "feature", "sleepy", "burst", "idle", "slow", "verify", "shared", "steered")) {
            pg.create(b);
        }
        pg.createBroken("broken");
        proxy = new PgProxy(ProxyConfig.defaults(0), pg).start();
        devAlexPort = proxy.openBranchPort("dev/alex", 0);
        certDir = Files.createTempDirectory("pgbranch-proxy-certs");
        certs = new TestCertificates(certDir);
    }

    @AfterAll
    void stop() throws IOException {
        try {
            if (proxy != null) {
                proxy.close();
            }
        } finally {
            if (pg != null) {
                pg.close();
            }
            if (certDir != null) {
                for (Path p : List.of(certs.caCertificate, certs.serverCertificate, certs.serverKey, certDir)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    static Connection jdbc(int port, String database, String... props) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", PostgresBranches.USER);
        p.setProperty("password", PostgresBranches.PASSWORD);
        p.setProperty("sslmode", "disable");
        p.setProperty("connectTimeout", "20");
        for (int i = 0; i < props.length; i += 2) {
            p.setProperty(props[i], props[i + 1]);
        }
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, p);
    }

    static long scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Port the serving Postgres listens on: tells which branch's compute answered. */
    static long serverPort(Connection c) throws SQLException {
        return scalar(c, "select current_setting('port')::int");
    }

    record Result(int exit, String out, String err) {
    }

    static Result psql(String conninfo, String sql, Duration timeout) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                "-c", sql);
        pb.environment().put("PGPASSWORD", PostgresBranches.PASSWORD);
        pb.environment().put("PGCONNECT_TIMEOUT", "20");
        Path out = Files.createTempFile("psql", ".out");
        Path err = Files.createTempFile("psql", ".err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                fail("psql timed out: " + Files.readString(err));
            }
            return new Result(p.exitValue(), Files.readString(out).trim(), Files.readString(err).trim());
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    int routing() {
        return proxy.routingPort();
    }

    String conninfo(int port, String extra) {
        return "host=127.0.0.1 port=" + port + " user=postgres dbname=postgres " + extra;
    }

    // ---------------------------------------------------------------- routing

    @Test
    void jdbcOnTheRoutingPortReachesTheBranchNamedInOptions() throws Exception {
        try (Connection c = jdbc(routing(), "postgres", "options", "branch=dev/alex")) {
            // Postgres refuses unknown command-line switches, so getting here means the token was stripped.
            assertEquals(pg.compute("dev/alex").port, serverPort(c));
        }
    }

    @Test
    void otherOptionsStillReachTheCompute() throws Exception {
        try (Connection c = jdbc(routing(), "postgres", "options", "branch=feature -c statement_timeout=4321")) {
            assertEquals(pg.compute("feature").port, serverPort(c));
            assertEquals(4321, scalar(c, "select case when current_setting('statement_timeout') = '4321ms' then 4321 else 0 end"));
        }
    }

    @Test
    void jdbcWithDatabaseAtBranchReachesThatBranchAndItsDatabase() throws Exception {
        try (Connection c = jdbc(routing(), "postgres@feature")) {
            assertEquals(pg.compute("feature").port, serverPort(c));
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select current_database()")) {
                rs.next();
                assertEquals("postgres", rs.getString(1));
            }
        }
    }

    @Test
    void jdbcOnABranchPortNeedsNoBranchName() throws Exception {
        try (Connection c = jdbc(devAlexPort, "postgres")) {
            assertEquals(pg.compute("dev/alex").port, serverPort(c));
        }
    }

    @Test
    void closedBranchPortRefusesAndReopenedOneServesAgain() throws Exception {
        int port = proxy.openBranchPort("feature", 0);
        try (Connection c = jdbc(port, "postgres")) {
            assertEquals(pg.compute("feature").port, serverPort(c));
        }
        proxy.closeBranchPort("feature");
        assertThrows(SQLException.class, () -> jdbc(port, "postgres").close());
        int again = proxy.openBranchPort("feature", port);
        assertEquals(port, again);
        try (Connection c = jdbc(again, "postgres")) {
            assertEquals(pg.compute("feature").port, serverPort(c));
        }
        proxy.closeBranchPort("feature");
    }

    @Test
    void branchPortAlreadyInUseIsAnIoExceptionNamingTheBranch() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            IOException e = assertThrows(IOException.class, () -> proxy.openBranchPort("feature", taken.getLocalPort()));
            assertTrue(e.getMessage().contains("for branch feature"), e.getMessage());
        }
    }

    @Test
    void psqlThroughTheRoutingPortAndThroughABranchPort() throws Exception {
        Result viaOptions = psql(conninfo(routing(), "sslmode=disable options=branch=dev/alex"),
                "select current_setting('port')", Duration.ofSeconds(60));
        assertEquals(0, viaOptions.exit(), viaOptions.err());
        assertEquals(String.valueOf(pg.compute("dev/alex").port), viaOptions.out());
        Result viaDbname = psql("host=127.0.0.1 port=" + routing() + " user=postgres dbname=postgres@feature sslmode=disable",
                "select current_setting('port')", Duration.ofSeconds(60));
        assertEquals(0, viaDbname.exit(), viaDbname.err());
        assertEquals(String.valueOf(pg.compute("feature").port), viaDbname.out());
        Result viaPort = psql(conninfo(devAlexPort, "sslmode=disable"), "select current_setting('port')", Duration.ofSeconds(60));
        assertEquals(0, viaPort.exit(), viaPort.err());
        assertEquals(String.valueOf(pg.compute("dev/alex").port), viaPort.out());
    }

    // ---------------------------------------------------------------- TLS

    @Test
    void psqlWithSslmodeRequireIsRoutedByTheFirstSniLabel() throws Exception {
        Result r = psql("hostaddr=127.0.0.1 host=feature.pgbranch.test port=" + routing()
                        + " user=postgres dbname=postgres sslmode=require",
                "select current_setting('port')", Duration.ofSeconds(60));
        assertEquals(0, r.exit(), r.err());
        assertEquals(String.valueOf(pg.compute("feature").port), r.out());
    }

    @Test
    void jdbcWithSslmodeRequireUsesTheSelfSignedCertificate() throws Exception {
        long before = handshakes(proxy);
        try (Connection c = jdbc(routing(), "postgres", "sslmode", "require", "options", "branch=dev/alex")) {
            assertEquals(pg.compute("dev/alex").port, serverPort(c));
        }
        try (Connection c = jdbc(devAlexPort, "postgres", "sslmode", "require")) {
            assertEquals(pg.compute("dev/alex").port, serverPort(c));
        }
        assertEquals(before + 2, handshakes(proxy));
    }

    static long handshakes(PgProxy p) {
        return p.metrics().lines().filter(l -> l.startsWith("pgbranch_proxy_tls_handshakes_total "))
                .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(' ') + 1))).sum();
    }

    @Test
    void verifyFullSucceedsWithTheConfiguredCaAndFailsWithoutIt() throws Exception {
        ProxyConfig config = ProxyConfig.defaults(0).withTls(certs.serverCertificate, certs.serverKey);
        try (PgProxy tls = new PgProxy(config, pg).start()) {
            try (Connection c = jdbc(tls.routingPort(), "postgres", "sslmode", "verify-full", "sslrootcert",
                    certs.caCertificate.toString(), "options", "branch=verify")) {
                assertEquals(pg.compute("verify").port, serverPort(c));
            }
            Result r = psql("hostaddr=127.0.0.1 host=verify.pgbranch.test port=" + tls.routingPort()
                    + " user=postgres dbname=postgres sslmode=verify-full sslrootcert=" + certs.caCertificate,
                    "select current_setting('port')", Duration.ofSeconds(60));
            assertEquals(0, r.exit(), r.err());
            assertEquals(String.valueOf(pg.compute("verify").port), r.out());
            // The default self-signed certificate must not pass verify-full against this CA.
            PSQLException e = assertThrows(PSQLException.class, () -> jdbc(routing(), "postgres", "sslmode", "verify-full",
                    "sslrootcert", certs.caCertificate.toString(), "options", "branch=verify").close());
            assertTrue(e.getMessage().toLowerCase().contains("ssl"), e.getMessage());
        }
    }

    @Test
    void gssEncRequestIsRefusedAndTheClientMayThenAskForTls() throws Exception {
        try (RawPgClient c = new RawPgClient(routing(), 0)) {
            c.send(new byte[] {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x30});
            assertEquals('N', c.in.read());
            c.send(new byte[] {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x2f});
            assertEquals('S', c.in.read());
        }
    }

    @Test
    void bytesSentBeforeTheTlsHandshakeAreRefused() throws Exception {
        try (RawPgClient c = new RawPgClient(routing(), 0)) {
            byte[] startup = RawPgClient.startupPacket(3, 0, RawPgClient.params("user", "postgres", "options", "branch=main"));
            byte[] both = new byte[8 + startup.length];
            System.arraycopy(new byte[] {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x2f}, 0, both, 0, 8);
            System.arraycopy(startup, 0, both, 8, startup.length);
            c.send(both);
            RawPgClient.Message m = c.read();
            assertEquals('E', m.type());
            assertTrue(RawPgClient.errorText(m).startsWith("08P01: received unencrypted data after SSL"), RawPgClient.errorText(m));
            assertEquals(-1, c.in.read());
        }
    }

    // ---------------------------------------------------------------- startup protocol

    @Test
    void protocol32WithAnUnknownOptionIsNegotiatedDownTo30() throws Exception {
        try (RawPgClient c = new RawPgClient(routing(), 0)) {
            c.send(RawPgClient.startupPacket(3, 2, RawPgClient.params("user", "postgres", "database", "postgres",
                    "options", "branch=main", "_pq_.frobnicate", "on")));
            RawPgClient.Message v = c.read();
            assertEquals('v', v.type());
            assertEquals(0, v.int32(0));
            assertEquals(1, v.int32(4));
            assertEquals("_pq_.frobnicate", new String(v.body(), 8, v.body().length - 9, StandardCharsets.UTF_8));
            RawPgClient.Message auth = c.read();
            assertEquals('R', auth.type());
            assertEquals(10, auth.int32(0), "SASL authentication request from the compute");
        }
    }

    @Test
    void protocol32LoginCompletesAfterNegotiation() throws Exception {
        try (RawPgClient c = new RawPgClient(routing(), 0)) {
            // login() skips the 'v' message like libpq does and authenticates with SCRAM end to end.
            c.login(2, RawPgClient.params("user", "postgres", "database", "postgres", "options", "branch=main"),
                    PostgresBranches.PASSWORD);
            assertTrue(c.backendPid > 0);
        }
    }

    @Test
    void startupPacketOver10000BytesGetsAProtocolViolation() throws Exception {
        try (RawPgClient c = new RawPgClient(routing(), 0)) {
            c.send(new byte[] {0, 0, 0x27, 0x11, 0, 3, 0, 0});
            RawPgClient.Message m = c.read();
            assertEquals("08P01: invalid length of startup packet: 10001", RawPgClient.errorText(m));
            assertEquals(-1, c.in.read());
        }
    }

    @Test
    void clientThatSendsNothingIsDisconnectedAfterTheStartupTimeout() throws Exception {
        try (PgProxy p = new PgProxy(ProxyConfig.defaults(0).withStartupTimeout(Duration.ofMillis(300)), pg).start();
             RawPgClient c = new RawPgClient(p.routingPort(), 0)) {
            c.socket.setSoTimeout(5000);
            long t0 = System.nanoTime();
            assertEquals(-1, c.in.read());
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(250));
        }
    }

    @Test
    void wrongPasswordIsThePostgresErrorPassedThrough() {
        PSQLException e = assertThrows(PSQLException.class, () -> {
            Properties p = new Properties();
            p.setProperty("user", "postgres");
            p.setProperty("password", "wrong");
            p.setProperty("sslmode", "disable");
            p.setProperty("options", "branch=main");
            DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + routing() + "/postgres", p).close();
        });
        assertEquals("28P01", e.getSQLState());
    }

    // ---------------------------------------------------------------- errors

    @Test
    void unknownBranchIsFatal3D000WithTheBranchNameInPgjdbc() {
        PSQLException e = assertThrows(PSQLException.class, () -> jdbc(routing(), "postgres", "options", "branch=nope/never").close());
        assertEquals("3D000", e.getSQLState());
        assertTrue(e.getMessage().contains("branch \"nope/never\" does not exist"), e.getMessage());
        assertEquals("FATAL", e.getServerErrorMessage().getSeverity());
    }

    @Test
    void noBranchNamedOnTheRoutingPortExplainsHowToNameOne() {
        PSQLException e = assertThrows(PSQLException.class, () -> jdbc(routing(), "postgres").close());
        assertEquals("3D000", e.getSQLState());
        assertTrue(e.getMessage().contains("options=branch=<name>"), e.getMessage());
    }

    @Test
    void computeThatFailsToStartIsFatal08006WithTheReason() {
        PSQLException e = assertThrows(PSQLException.class, () -> jdbc(routing(), "postgres", "options", "branch=broken").close());
        assertEquals("08006", e.getSQLState());
        assertTrue(e.getMessage().contains("could not start the compute of branch \"broken\""), e.getMessage());
        assertTrue(e.getMessage().contains("contains errors"), e.getMessage());
        assertFalse(pg.compute("broken").running);
    }

    @Test
    void wakePastTheDeadlineIsFatal57P03AndTheNextConnectionSucceeds() throws Exception {
        try (PgProxy impatient = new PgProxy(ProxyConfig.defaults(0).withWakeDeadline(Duration.ofMillis(20)), pg).start()) {
            PSQLException e = assertThrows(PSQLException.class,
                    () -> jdbc(impatient.routingPort(), "postgres", "options", "branch=slow").close());
            assertEquals("57P03", e.getSQLState());
            assertTrue(e.getMessage().contains("did not start within 20 ms"), e.getMessage());
            // The wake carried on in the background; once up, connections go through.
            await("slow branch started", Duration.ofSeconds(60), () -> pg.compute("slow").running);
            try (Connection c = jdbc(proxy.routingPort(), "postgres", "options", "branch=slow")) {
                assertEquals(pg.compute("slow").port, serverPort(c));
            }
            assertEquals(1, pg.compute("slow").starts.get());
            assertTrue(impatient.metrics().contains("pgbranch_proxy_errors_total{sqlstate=\"57P03\"} 1"), impatient.metrics());
        }
    }

    // ---------------------------------------------------------------- wake and suspend

    @Test
    void connectionToASuspendedBranchWakesItsCompute() throws Exception {
        assertFalse(pg.compute("sleepy").running);
        long t0 = System.nanoTime();
        try (Connection c = jdbc(routing(), "postgres", "options", "branch=sleepy")) {
            assertEquals(pg.compute("sleepy").port, serverPort(c));
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("wake from suspended to first result: " + ms + " ms");
        assertEquals(1, pg.compute("sleepy").starts.get());
        assertTrue(proxy.metrics().contains("pgbranch_proxy_wakes_total{branch=\"sleepy\"} 1"), proxy.metrics());
        assertTrue(proxy.metrics().contains("pgbranch_proxy_wake_seconds_count{branch=\"sleepy\"} 1"));
    }

    @Test
    void concurrentConnectionsToASuspendedBranchStartItOnce() throws Exception {
        int n = 8;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Long>> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                results.add(pool.submit(() -> {
                    go.await();
                    try (Connection c = jdbc(routing(), "postgres", "options", "branch=burst")) {
                        return serverPort(c);
                    }
                }));
            }
            go.countDown();
            for (Future<Long> f : results) {
                assertEquals(pg.compute("burst").port, f.get(90, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, pg.compute("burst").starts.get(), "one start");
        assertEquals(1, pg.compute("burst").wakeCalls.get(), "one wake call for the whole burst");
    }

    @Test
    void idleComputeIsSuspendedAndTheNextConnectionWakesIt() throws Exception {
        PostgresBranches.Compute idle = pg.compute("idle");
        try (PgProxy quick = new PgProxy(ProxyConfig.defaults(0).withIdleTimeout(Duration.ofMillis(1500)), pg).start()) {
            try (Connection c = jdbc(quick.routingPort(), "postgres", "options", "branch=idle")) {
                assertEquals(idle.port, serverPort(c));
                Thread.sleep(3000);
                // An open connection keeps the compute up however long it is quiet.
                assertEquals(0, idle.suspends.get());
                assertEquals(1, scalar(c, "select 1"));
            }
            await("idle compute suspended", Duration.ofSeconds(15), () -> idle.suspends.get() == 1 && !idle.running);
            try (Connection c = jdbc(quick.routingPort(), "postgres", "options", "branch=idle")) {
                assertEquals(idle.port, serverPort(c));
            }
            assertEquals(2, idle.starts.get());
            assertTrue(quick.metrics().contains("pgbranch_proxy_suspends_total{branch=\"idle\"} 1"), quick.metrics());
            assertTrue(quick.metrics().contains("pgbranch_proxy_wakes_total{branch=\"idle\"} 2"), quick.metrics());
        }
    }

    /**
     * A directory that resolves several spellings to one compute (as points in time resolve to one
     * LSN) and refuses names with SQLSTATEs of its own: the proxy keys the compute by the resolved
     * name and passes the SQLSTATEs through.
     */
    @Test
    void namesResolvedAlikeShareOneComputeAndTheDirectorysRefusalsKeepTheirSqlState() throws Exception {
        PostgresBranches.Compute shared = pg.compute("shared");
        ComputeDirectory points = new ComputeDirectory() {
            @Override
            public boolean exists(String branch) {
                return pg.exists(branch);
            }

            @Override
            public java.util.Optional<String> resolve(String name) {
                if (!name.startsWith("shared@")) {
                    return pg.resolve(name);
                }
                String point = name.substring("shared@".length());
                if (!point.matches("[0-9]+")) {
                    throw new ComputeStartException("22007", "cannot read \"" + point + "\" as a point", null);
                }
                return java.util.Optional.of(point.equals("99") ? "over-the-cap" : "shared");
            }

            @Override
            public java.util.concurrent.CompletableFuture<java.net.InetSocketAddress> wake(String key) {
                if (key.equals("over-the-cap")) {
                    return java.util.concurrent.CompletableFuture.failedFuture(
                            new ComputeStartException("53300", "4 time-travel computes are running, the most allowed", null));
                }
                return pg.wake(key);
            }

            @Override
            public void suspend(String key) {
                pg.suspend(key);
            }
        };
        try (PgProxy p = new PgProxy(ProxyConfig.defaults(0).withIdleTimeout(Duration.ofMillis(800)), points).start()) {
            try (Connection a = jdbc(p.routingPort(), "postgres", "options", "branch=shared@1");
                 Connection b = jdbc(p.routingPort(), "postgres@shared@2")) {
                assertEquals(shared.port, serverPort(a));
                assertEquals(shared.port, serverPort(b));
                assertEquals(1, shared.starts.get());
                PSQLException bad = assertThrows(PSQLException.class,
                        () -> jdbc(p.routingPort(), "postgres", "options", "branch=shared@soon").close());
                assertEquals("22007", bad.getSQLState());
                assertTrue(bad.getMessage().contains("cannot read \"soon\" as a point"), bad.getMessage());
                PSQLException full = assertThrows(PSQLException.class,
                        () -> jdbc(p.routingPort(), "postgres", "options", "branch=shared@99").close());
                assertEquals("53300", full.getSQLState());
                assertTrue(full.getMessage().contains("4 time-travel computes are running"), full.getMessage());
                PSQLException unknown = assertThrows(PSQLException.class,
                        () -> jdbc(p.routingPort(), "postgres", "options", "branch=nobody@1").close());
                assertEquals("3D000", unknown.getSQLState());
                Thread.sleep(1500);
                assertEquals(0, shared.suspends.get(), "open connections keep the shared compute up");
                assertEquals(1, scalar(a, "select 1"));
            }
            await("shared compute suspended once", Duration.ofSeconds(15), () -> shared.suspends.get() == 1 && !shared.running);
            assertTrue(p.metrics().contains("pgbranch_proxy_connections_total{branch=\"shared\"} 2"), p.metrics());
        }
    }

    // ---------------------------------------------------------------- cancel

    @Test
    void jdbcStatementCancelStopsPgSleepOnTheRightCompute() throws Exception {
        try (Connection c = jdbc(routing(), "postgres", "options", "branch=dev/alex", "ApplicationName", "cancel-jdbc");
             Statement s = c.createStatement()) {
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<?> f = pool.submit(() -> {
                    Thread.sleep(1000);
                    s.cancel();
                    return null;
                });
                long t0 = System.nanoTime();
                SQLException e = assertThrows(SQLException.class, () -> s.execute("select pg_sleep(60)"));
                assertEquals("57014", e.getSQLState());
                assertTrue((System.nanoTime() - t0) < TimeUnit.SECONDS.toNanos(20));
                f.get();
            } finally {
                pool.shutdownNow();
            }
            // The session survives a cancel.
            assertEquals(pg.compute("dev/alex").port, serverPort(c));
        }
        assertTrue(proxy.metrics().contains("pgbranch_proxy_cancel_requests_total{result=\"forwarded\"}"));
    }

    @Test
    void psqlInterruptCancelsPgSleepThroughTheProxy() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/psql", "-X", "-d",
                conninfo(routing(), "sslmode=require options=branch=feature application_name=cancel-psql"), "-c", "select pg_sleep(60)");
        pb.environment().put("PGPASSWORD", PostgresBranches.PASSWORD);
        Path err = Files.createTempFile("psql", ".err");
        Process p = pb.redirectErrorStream(false).redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try (Connection direct = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.compute("feature").port
                + "/postgres?sslmode=disable", PostgresBranches.USER, PostgresBranches.PASSWORD)) {
            await("pg_sleep running", Duration.ofSeconds(30), () -> {
                try {
                    return scalar(direct, "select count(*) from pg_stat_activity where application_name = 'cancel-psql'"
                            + " and query like 'select pg_sleep%' and state = 'active'") == 1;
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            long t0 = System.nanoTime();
            new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "psql ended after the cancel");
            assertTrue((System.nanoTime() - t0) < TimeUnit.SECONDS.toNanos(20));
            assertEquals(1, p.exitValue());
            String stderr = Files.readString(err);
            assertTrue(stderr.contains("canceling statement due to user request"), stderr);
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(err);
        }
    }

    @Test
    void clientsSeeTheBackendsRealPidWithAProxySecretAndStaleKeysCancelNothing() throws Exception {
        int pid;
        int secret;
        try (RawPgClient c = new RawPgClient(routing(), 0)) {
            c.login(RawPgClient.params("user", "postgres", "database", "postgres", "options", "branch=main"),
                    PostgresBranches.PASSWORD);
            pid = c.backendPid;
            secret = c.backendSecret;
            c.query("select pg_backend_pid()");
            RawPgClient.Message m;
            String realPid = null;
            while ((m = c.read()).type() != 'Z') {
                if (m.type() == 'D') {
                    realPid = new String(m.body(), 6, m.int32(2), StandardCharsets.US_ASCII);
                }
            }
            assertEquals(String.valueOf(pid), realPid, "the pid the client sees is the backend's own");
            CancelRegistry.Target target = proxy.cancelsForTest().lookup(pid, bytes(secret));
            assertNotEquals(target.secret(), secret, "the secret is the proxy's, not the compute's");
        }
        await("cancel entry dropped with its session", Duration.ofSeconds(5), () -> proxy.cancelsForTest().size() == 0
                || proxy.cancelsForTest().lookup(pid, bytes(secret)) == null);
        long unmatchedBefore = cancels("unmatched");
        try (RawPgClient cancel = new RawPgClient(routing(), 0)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16).putInt(16).putInt(PgMessage.CANCEL_REQUEST_CODE).putInt(pid).putInt(secret);
            cancel.send(b.array());
            assertEquals(-1, cancel.in.read(), "a cancel request gets no answer, only a close");
        }
        assertEquals(unmatchedBefore + 1, cancels("unmatched"));
    }

    @Test
    void pgjdbcReportsTheBackendPidOnTheRoutingPortAndOnABranchPort() throws Exception {
        try (Connection routed = jdbc(routing(), "postgres", "options", "branch=dev/alex");
             Connection own = jdbc(devAlexPort, "postgres")) {
            for (Connection c : List.of(routed, own)) {
                int driverPid = c.unwrap(org.postgresql.PGConnection.class).getBackendPID();
                assertEquals(scalar(c, "select pg_backend_pid()"), driverPid);
            }
        }
    }

    @Test
    void aNotificationCarriesTheSendersRealPid() throws Exception {
        try (Connection listener = jdbc(devAlexPort, "postgres");
             Connection sender = jdbc(routing(), "postgres", "options", "branch=dev/alex")) {
            try (Statement s = listener.createStatement()) {
                s.execute("listen pid_check");
            }
            try (Statement s = sender.createStatement()) {
                s.execute("notify pid_check, 'hello'");
            }
            org.postgresql.PGConnection pgListener = listener.unwrap(org.postgresql.PGConnection.class);
            org.postgresql.PGNotification[] got = pgListener.getNotifications(10_000);
            assertTrue(got != null && got.length == 1, "one notification arrived");
            assertEquals("hello", got[0].getParameter());
            int senderPid = sender.unwrap(org.postgresql.PGConnection.class).getBackendPID();
            assertEquals(scalar(sender, "select pg_backend_pid()"), got[0].getPID(), "the sender's real pid");
            assertEquals(senderPid, got[0].getPID(), "what the sender's driver reports as its own pid");
            assertNotEquals(pgListener.getBackendPID(), got[0].getPID());
        }
    }

    private static byte[] bytes(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    private long cancels(String result) {
        String prefix = "pgbranch_proxy_cancel_requests_total{result=\"" + result + "\"} ";
        return proxy.metrics().lines().filter(l -> l.startsWith(prefix)).mapToLong(l -> Long.parseLong(l.substring(prefix.length())))
                .sum();
    }

    @Test
    void cancelRequestOnAnotherPortCancelsTheQueryOnTheRightCompute() throws Exception {
        int otherBranchPort = proxy.openBranchPort("main", 0);
        try (RawPgClient c = new RawPgClient(routing(), 0)) {
            c.login(RawPgClient.params("user", "postgres", "database", "postgres", "options", "branch=dev/alex"),
                    PostgresBranches.PASSWORD);
            c.query("select pg_sleep(60)");
            Thread.sleep(500);
            long t0 = System.nanoTime();
            try (RawPgClient cancel = new RawPgClient(otherBranchPort, 0)) {
                cancel.send(java.nio.ByteBuffer.allocate(16).putInt(16).putInt(PgMessage.CANCEL_REQUEST_CODE)
                        .putInt(c.backendPid).putInt(c.backendSecret).array());
                assertEquals(-1, cancel.in.read());
            }
            RawPgClient.Message m = c.read();
            while (m.type() != 'E') {
                m = c.read();
            }
            assertTrue(RawPgClient.errorText(m).startsWith("57014: canceling statement due to user request"),
                    RawPgClient.errorText(m));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
        } finally {
            proxy.closeBranchPort("main");
        }
    }

    // ---------------------------------------------------------------- kernel hand-off

    /** The server port the session's socket has: the branch port when steered, the compute's own when relayed. */
    static long inetServerPort(Connection c) throws SQLException {
        return scalar(c, "select inet_server_port()");
    }

    @Test
    void aHandedOffBranchPortIsServedByTheComputesOwnSocketAndTheProxyListenerTakesItBackWhenTheComputeStops()
            throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0, "the hand-off needs root");
        int port = proxy.openBranchPort("steered", 0);
        PostgresBranches.Compute compute = pg.compute("steered");
        try {
            // The server gives computes the proxy's certificate; here the test's own.
            pg.enableTls("steered", certs.serverCertificate, certs.serverKey);
            pg.start("steered");
            assertTrue(proxy.handOff("steered", pg.postmasterPid("steered"), compute.port), "the kernel steers the port");
            assertTrue(proxy.handedOff("steered"));
            long routedBefore = routedConnections("steered");
            try (Connection c = jdbc(port, "postgres");
                 Connection ssl = jdbc(port, "postgres", "sslmode", "require")) {
                assertEquals(port, inetServerPort(c), "the compute accepted the connection to the branch port itself");
                assertEquals(scalar(c, "select pg_backend_pid()"),
                        c.unwrap(org.postgresql.PGConnection.class).getBackendPID());
                assertEquals(1, scalar(ssl, "select count(*) from pg_stat_ssl where pid = pg_backend_pid() and ssl"),
                        "TLS is the compute's own");
                // A cancel sent to the branch port reaches the postmaster directly.
                assertSleepIsCancelledByTheDriver(c);
            }
            assertEquals(routedBefore, routedConnections("steered"), "no session passed through the proxy");

            // The compute stops: the kernel drops its socket from the steering, the proxy listener
            // takes the next connection and wakes the compute; that session is relayed.
            pg.stop("steered");
            try (Connection c = jdbc(port, "postgres")) {
                assertEquals(compute.port, inetServerPort(c), "relayed by the proxy after the wake");
                assertEquals(scalar(c, "select pg_backend_pid()"),
                        c.unwrap(org.postgresql.PGConnection.class).getBackendPID());
                // The server hands the port to the woken compute again; the relayed session goes on.
                assertTrue(proxy.handOff("steered", pg.postmasterPid("steered"), compute.port));
                try (Connection steered = jdbc(port, "postgres")) {
                    assertEquals(port, inetServerPort(steered));
                }
                // The relayed session keeps the compute's own cancel key, so its cancel, sent to the
                // now handed-off port, reaches the postmaster too.
                assertSleepIsCancelledByTheDriver(c);
                assertEquals(1, scalar(c, "select 1"));
            }
            proxy.takeBack("steered");
            assertFalse(proxy.handedOff("steered"));
            try (Connection c = jdbc(port, "postgres")) {
                assertEquals(compute.port, inetServerPort(c), "relayed again once taken back");
            }
            assertTrue(proxy.metrics().contains("pgbranch_proxy_handoffs_total{result=\"steered\"} "), proxy.metrics());
        } finally {
            proxy.closeBranchPort("steered");
        }
    }

    @Test
    void aHandOffWithoutTheComputesListenerIsRefusedAndThePortStaysRelayed() throws Exception {
        int port = proxy.openBranchPort("shared", 0);
        try {
            // Our own pid holds no socket on the compute's port.
            assertFalse(proxy.handOff("shared", ProcessHandle.current().pid(), pg.compute("shared").port));
            assertFalse(proxy.handedOff("shared"));
            try (Connection c = jdbc(port, "postgres")) {
                assertEquals(pg.compute("shared").port, inetServerPort(c));
            }
        } finally {
            proxy.closeBranchPort("shared");
        }
    }

    /** pgjdbc's Statement.cancel from another thread (a CancelRequest to the port it connected to) stops pg_sleep. */
    private static void assertSleepIsCancelledByTheDriver(Connection c) throws Exception {
        try (Statement s = c.createStatement()) {
            Thread canceller = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(500);
                    s.cancel();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            SQLException e = assertThrows(SQLException.class, () -> s.execute("select pg_sleep(30)"));
            assertEquals("57014", e.getSQLState());
            canceller.join();
        }
    }

    private long routedConnections(String branch) {
        String prefix = "pgbranch_proxy_connections_total{branch=\"" + branch + "\"} ";
        return proxy.metrics().lines().filter(l -> l.startsWith(prefix))
                .mapToLong(l -> Long.parseLong(l.substring(prefix.length()))).sum();
    }

    @Test
    void unreachableComputeIsFatal08006AfterBoundedConnectRetries() throws Exception {
        int dead = PostgresBranches.freePort();
        ComputeDirectory ghost = new ComputeDirectory() {
            @Override
            public boolean exists(String branch) {
                return true;
            }

            @Override
            public java.util.concurrent.CompletableFuture<java.net.InetSocketAddress> wake(String branch) {
                return java.util.concurrent.CompletableFuture.completedFuture(new java.net.InetSocketAddress("127.0.0.1", dead));
            }

            @Override
            public void suspend(String branch) {
            }
        };
        try (PgProxy p = new PgProxy(ProxyConfig.defaults(0), ghost).start()) {
            long t0 = System.nanoTime();
            PSQLException e = assertThrows(PSQLException.class, () -> jdbc(p.routingPort(), "postgres", "options", "branch=gone").close());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals("08006", e.getSQLState());
            assertTrue(e.getMessage().contains("could not connect to the compute of branch \"gone\""), e.getMessage());
            // Three attempts with 50 and 100 ms pauses between them, then the error.
            assertTrue(ms >= 150 && ms < 10_000, "took " + ms + " ms");
        }
    }

    @Test
    void connectionsToComputesUseShortTcpKeepalive() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/ss")), "needs ss (iproute2)");
        int computePort = pg.compute("feature").port;
        try (Connection c = jdbc(routing(), "postgres", "options", "branch=feature")) {
            serverPort(c);
            Process ss = new ProcessBuilder("/usr/bin/ss", "-tnoH", "state", "established", "dst", "127.0.0.1:" + computePort)
                    .redirectErrorStream(true).start();
            String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            ss.waitFor();
            assertTrue(out.contains("timer:(keepalive,"), out);
            assertFalse(out.contains("min,"), "keepalive idle is " + Transport.KEEPALIVE_IDLE + " s, not the 2 h default: " + out);
        }
    }

    // ---------------------------------------------------------------- splicing

    @Test
    void largeCopyToASlowReaderDoesNotGrowProxyMemory() throws Exception {
        int rows = 200_000;
        int width = 1000;
        try (RawPgClient c = new RawPgClient(routing(), 64 * 1024)) {
            c.login(RawPgClient.params("user", "postgres", "database", "postgres", "options", "branch=main"),
                    PostgresBranches.PASSWORD);
            long base = proxy.metricsForTest().bytesFromCompute("main");
            c.query("copy (select repeat('x', " + width + ") from generate_series(1, " + rows + ")) to stdout");
            Thread.sleep(2000);
            long stalled1 = proxy.metricsForTest().bytesFromCompute("main") - base;
            Thread.sleep(2000);
            long stalled2 = proxy.metricsForTest().bytesFromCompute("main") - base;
            System.out.printf("backpressure: %d bytes relayed after 2 s of not reading, %d after 4 s (result is %d bytes)%n",
                    stalled1, stalled2, (long) rows * (width + 1));
            assertTrue(stalled2 - stalled1 < 512 * 1024, "relaying stopped while the client did not read");
            assertTrue(stalled2 < 32L * 1024 * 1024, "only socket buffers' worth was relayed: " + stalled2);
            long payload = 0;
            RawPgClient.Message m;
            while ((m = c.read()).type() != 'Z') {
                if (m.type() == 'd') {
                    payload += m.body().length;
                } else if (m.type() == 'E') {
                    fail(RawPgClient.errorText(m));
                }
            }
            assertEquals((long) rows * (width + 1), payload);
        }
    }

    @Test
    void largeCopyFromStdinThroughTheProxyArrivesWhole() throws Exception {
        try (Connection c = jdbc(routing(), "postgres", "options", "branch=dev/alex")) {
            try (Statement s = c.createStatement()) {
                s.execute("create temp table sink (line text)");
            }
            int rows = 50_000;
            byte[] line = ("y".repeat(999) + "\n").getBytes(StandardCharsets.US_ASCII);
            java.io.InputStream data = new java.io.InputStream() {
                long left = (long) rows * line.length;

                @Override
                public int read() {
                    throw new UnsupportedOperationException();
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (left == 0) {
                        return -1;
                    }
                    int n = (int) Math.min(len, left);
                    for (int i = 0; i < n; i++) {
                        b[off + i] = line[(int) (((long) rows * line.length - left + i) % line.length)];
                    }
                    left -= n;
                    return n;
                }
            };
            long copied = new org.postgresql.copy.CopyManager(c.unwrap(org.postgresql.core.BaseConnection.class))
                    .copyIn("copy sink from stdin", data);
            assertEquals(rows, copied);
            assertEquals(rows, scalar(c, "select count(*) from sink where length(line) = 999"));
        }
    }

    @Test
    void clientHalfCloseClosesTheComputeSession() throws Exception {
        try (RawPgClient c = new RawPgClient(routing(), 0)) {
            c.login(RawPgClient.params("user", "postgres", "database", "postgres", "options", "branch=main",
                    "application_name", "half-close"), PostgresBranches.PASSWORD);
            Connection direct = jdbc(pg.compute("main").port, "postgres");
            assertEquals(1, scalar(direct, "select count(*) from pg_stat_activity where application_name = 'half-close'"));
            c.socket.shutdownOutput();
            c.socket.setSoTimeout(10_000);
            try {
                assertEquals(-1, c.in.read(), "proxy closed the client side");
            } catch (SocketTimeoutException e) {
                fail("proxy kept the half-closed client connection open");
            }
            await("compute session gone", Duration.ofSeconds(10), () -> {
                try {
                    return scalar(direct, "select count(*) from pg_stat_activity where application_name = 'half-close'") == 0;
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            direct.close();
        }
    }

    @Test
    void computeSideCloseReachesTheClient() throws Exception {
        long activeBefore = proxy.metricsForTest().activeConnections("main");
        try (Connection c = jdbc(routing(), "postgres", "options", "branch=main", "ApplicationName", "terminated");
             Connection direct = jdbc(pg.compute("main").port, "postgres")) {
            assertEquals(activeBefore + 1, proxy.metricsForTest().activeConnections("main"));
            assertEquals(1, scalar(direct, "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = 'terminated'"));
            SQLException e = assertThrows(SQLException.class, () -> scalar(c, "select 1"));
            assertTrue(e.getSQLState().startsWith("57P01") || e.getSQLState().startsWith("08"), e.getSQLState());
        }
        await("active count back", Duration.ofSeconds(5), () -> proxy.metricsForTest().activeConnections("main") == activeBefore);
    }

    @Test
    void metricsAreValidPrometheusTextWithPerBranchSeries() throws Exception {
        try (Connection c = jdbc(routing(), "postgres", "options", "branch=main")) {
            scalar(c, "select 1");
        }
        String text = proxy.metrics();
        for (String line : text.split("\n")) {
            assertTrue(line.startsWith("# HELP ") || line.startsWith("# TYPE ")
                    || line.matches("[a-z_]+(\\{[^}]*\\})? [0-9.E+-]+"), "bad line: " + line);
        }
        assertTrue(text.contains("pgbranch_proxy_connections_total{branch=\"main\"}"));
        assertTrue(text.contains("pgbranch_proxy_bytes_total{branch=\"main\",direction=\"compute_to_client\"}"));
        assertTrue(text.contains("pgbranch_proxy_wake_seconds_bucket{branch=\"main\",le=\"+Inf\"}"));
    }
}

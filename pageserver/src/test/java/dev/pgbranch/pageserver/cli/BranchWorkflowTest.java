package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgbranch.pageserver.api.ApiToken;
import dev.pgbranch.pageserver.api.ServerInfo;
import dev.pgbranch.pageserver.compute.PostgresInstallation;
import dev.pgbranch.pageserver.testing.ServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.pgbranch.pageserver.testing.Sql.queryLong;

/**
 * The branch-based development workflow the way a user runs it: the server as its own JVM
 * (started with {@code pgbranch server}), the CLI (in-process, and once through the
 * {@code ./pgbranch} launcher), pgjdbc through the wire proxy (each branch's stable port, the
 * proxy waking computes on demand) to the branches' real Postgres computes on FUSE,
 * a clean restart, a kill -9 of the server and a restart, and {@code pg_amcheck
 * --heapallindexed} on every branch at the end. The server, its computes and its mounts are
 * stopped whatever happens.
 */
@Tag("integration")
class BranchWorkflowTest {

    private ServerProcess server;
    private final Map<String, String> figures = new LinkedHashMap<>();

    @BeforeEach
    void prepare() throws IOException {
        server = new ServerProcess("BranchWorkflowTest");
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
    void branchResetProtectPointInTimeAndRestartsWorkLikeTheIssueSays() throws Exception {
        // 1. The server starts; the default project has production (root, protected) and development.
        server.start();
        JsonNode branches = launcher("branch", "list", "--data-dir", server.dataDirectory().toString(), "--output", "json");
        JsonNode production = find(branches, "production");
        JsonNode development = find(branches, "development");
        assertTrue(production.path("parent").isNull());
        assertTrue(production.path("protected").asBoolean());
        assertEquals("production", development.path("parent").asText());
        assertFalse(development.path("protected").asBoolean());
        String table = server.cliOk("branch", "list");
        assertTrue(table.startsWith("NAME") && table.contains("development") && table.contains("production"), table);

        // 2. Connect to development and run SQL.
        String developmentUri = server.cliOk("connect", "development").strip();
        assertEquals(development.path("port").asInt(), URI.create(developmentUri).getPort(), "the branch's stable port");
        try (Connection dev = connect(developmentUri); Statement sql = dev.createStatement()) {
            assertNotEquals(development.path("port").asLong(), queryLong(sql, "SELECT current_setting('port')::int"),
                    "the proxy holds the branch port; the compute listens elsewhere");
            sql.execute("CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL)");
            sql.execute("INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 1000) g");
            sql.execute("CREATE INDEX users_email ON users (email)");
        }

        // 3. dev/alex from development returns at once and already has the table and its rows.
        long createStart = System.nanoTime();
        JsonNode alex = server.cliJson("branch", "create", "dev/alex", "--parent", "development");
        long created = System.nanoTime();
        assertEquals("dev/alex", alex.path("name").asText());
        assertEquals("development", alex.path("parent").asText());
        String alexUri = server.cliOk("connect", "dev/alex").strip();
        try (Connection a = connect(alexUri); Statement sql = a.createStatement()) {
            assertEquals(1, queryLong(sql, "SELECT 1"));
            figures.put("branch create (CLI, parent compute running, includes its CHECKPOINT)",
                    (created - createStart) / 1_000_000 + " ms");
            figures.put("branch create -> first SELECT 1 on it (compute start + connect)",
                    (System.nanoTime() - createStart) / 1_000_000 + " ms");
            assertEquals(1000, queryLong(sql, "SELECT count(*) FROM users"));
            assertEquals(500500, queryLong(sql, "SELECT sum(id) FROM users"));
        }
        measureApiCreateLatency();

        // 4. Changes on dev/alex are not seen by development and vice versa.
        try (Connection a = connect(alexUri); Statement sql = a.createStatement()) {
            sql.execute("ALTER TABLE users ADD COLUMN preferences jsonb DEFAULT '{}'");
            sql.execute("INSERT INTO users (id, email) VALUES (1001, 'alex@example.com')");
        }
        try (Connection d = connect(developmentUri); Statement sql = d.createStatement()) {
            assertEquals(1000, queryLong(sql, "SELECT count(*) FROM users"));
            assertEquals(0, queryLong(sql,
                    "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'preferences'"));
            sql.execute("INSERT INTO users VALUES (2001, 'dev@example.com')");
        }
        try (Connection a = connect(alexUri); Statement sql = a.createStatement()) {
            assertEquals(1001, queryLong(sql, "SELECT count(*) FROM users"));
            assertEquals(0, queryLong(sql, "SELECT count(*) FROM users WHERE id = 2001"));
        }

        // 5. Reset dev/alex from its parent: same connection string, now exactly development.
        long resetStart = System.nanoTime();
        JsonNode reset = server.cliJson("branch", "reset", "dev/alex");
        figures.put("branch reset (CLI, compute running: checkpoint parent, stop, repoint, restart)",
                (System.nanoTime() - resetStart) / 1_000_000 + " ms");
        assertEquals(alex.path("port").asInt(), reset.path("port").asInt());
        assertNotEquals(alex.path("timeline").asText(), reset.path("timeline").asText());
        assertEquals("running", reset.path("computeState").asText(), "a running compute is restarted");
        assertEquals(alexUri, server.cliOk("connect", "dev/alex").strip());
        assertEquals(dump(developmentUri), dump(alexUri));
        try (Connection a = connect(alexUri); Statement sql = a.createStatement()) {
            assertEquals(1001, queryLong(sql, "SELECT count(*) FROM users"));
            assertEquals(1, queryLong(sql, "SELECT count(*) FROM users WHERE id = 2001"));
            assertEquals(0, queryLong(sql, "SELECT count(*) FROM users WHERE id = 1001"));
        }

        // 6. Refusals with clear messages and non-zero exit codes.
        ServerProcess.Result deleteProduction = server.cli("branch", "delete", "production");
        assertEquals(1, deleteProduction.code());
        assertTrue(deleteProduction.err().contains("'production' is protected"), deleteProduction.err());
        ServerProcess.Result resetProduction = server.cli("branch", "reset", "production");
        assertEquals(1, resetProduction.code());
        assertTrue(resetProduction.err().contains("is protected"), resetProduction.err());
        ServerProcess.Result deleteDevelopment = server.cli("branch", "delete", "development");
        assertEquals(1, deleteDevelopment.code());
        assertTrue(deleteDevelopment.err().contains("has child branches (dev/alex)"), deleteDevelopment.err());
        ServerProcess.Result json = server.cli("branch", "delete", "development", "--output", "json");
        assertEquals("HAS_CHILDREN", ServerProcess.parse(json.err()).path("error").path("code").asText());
        ServerProcess.Result badName = server.cli("branch", "create", "dev/../x", "--parent", "development");
        assertEquals(2, badName.code());
        assertTrue(badName.err().contains("'..' segment"), badName.err());

        // 7. Branch production at a time and at an LSN in the past.
        String productionUri = server.cliOk("connect", "production").strip();
        try (Connection p = connect(productionUri); Statement sql = p.createStatement()) {
            sql.execute("CREATE TABLE orders (id int PRIMARY KEY, state text)");
            sql.execute("INSERT INTO orders VALUES (1, 'before')");
        }
        // Time marks are recorded about once a second: leave room on both sides of the point.
        Thread.sleep(2500);
        Instant pointInTime = Instant.now();
        String pointLsn = server.cliJson("branch", "show", "production").path("headLsn").asText();
        Thread.sleep(2500);
        try (Connection p = connect(productionUri); Statement sql = p.createStatement()) {
            sql.execute("INSERT INTO orders VALUES (2, 'after')");
            sql.execute("UPDATE orders SET state = 'changed' WHERE id = 1");
        }
        server.cliJson("branch", "create", "hotfix", "--parent", "production", "--at", pointInTime.toString());
        server.cliJson("branch", "create", "hotfix/lsn", "--parent", "production", "--at", pointLsn);
        for (String hotfix : List.of("hotfix", "hotfix/lsn")) {
            try (Connection h = connect(server.cliOk("connect", hotfix).strip()); Statement sql = h.createStatement()) {
                assertEquals(List.of("1:before"), rows(sql, "SELECT id || ':' || state FROM orders ORDER BY id"), hotfix);
            }
        }
        try (Connection p = connect(productionUri); Statement sql = p.createStatement()) {
            assertEquals(List.of("1:changed", "2:after"), rows(sql, "SELECT id || ':' || state FROM orders ORDER BY id"));
        }

        // 8a. Clean restart: branches, ports and data still there; computes come back on demand.
        JsonNode before = server.cliJson("branch", "list");
        server.rememberComputePids();
        server.stop();
        assertEquals(List.of(), server.mounts(), "a clean shutdown unmounts everything");
        for (long pid : server.computePids()) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "compute " + pid + " stopped");
        }
        server.restart();
        JsonNode afterRestart = server.cliJson("branch", "list");
        assertSameBranches(before, afterRestart);
        for (JsonNode b : afterRestart.path("branches")) {
            assertEquals("suspended", b.path("computeState").asText(), "computes come back on demand, not at start");
        }
        try (Connection a = connect(server.cliOk("connect", "dev/alex").strip()); Statement sql = a.createStatement()) {
            assertEquals(1001, queryLong(sql, "SELECT count(*) FROM users"));
            sql.execute("INSERT INTO users VALUES (3001, 'committed-before-kill@example.com')");
        }
        try (Connection d = connect(server.cliOk("connect", "development").strip()); Statement sql = d.createStatement()) {
            sql.execute("INSERT INTO users VALUES (3002, 'dev-before-kill@example.com')");
        }

        // 8b. kill -9 of the server while computes run, then restart.
        server.rememberComputePids();
        server.kill();
        server.restart();
        JsonNode afterKill = server.cliJson("branch", "list");
        assertSameBranches(before, afterKill);
        try (Connection a = connect(server.cliOk("connect", "dev/alex").strip()); Statement sql = a.createStatement()) {
            assertEquals(1, queryLong(sql, "SELECT count(*) FROM users WHERE id = 3001"), "committed before kill -9");
            assertEquals(1002, queryLong(sql, "SELECT count(*) FROM users"));
        }
        try (Connection d = connect(server.cliOk("connect", "development").strip()); Statement sql = d.createStatement()) {
            assertEquals(1, queryLong(sql, "SELECT count(*) FROM users WHERE id = 3002"), "committed before kill -9");
        }

        // Finally: every branch passes pg_amcheck --heapallindexed.
        String pgAmcheck = PostgresInstallation.detect().tool("pg_amcheck").toString();
        for (JsonNode b : afterKill.path("branches")) {
            String name = b.path("name").asText();
            URI uri = URI.create(server.cliOk("connect", name).strip());
            ProcessBuilder amcheck = new ProcessBuilder(pgAmcheck, "--heapallindexed", "--install-missing",
                    "-h", uri.getHost(), "-p", Integer.toString(uri.getPort()), "-U", "postgres", "postgres")
                    .redirectErrorStream(true);
            amcheck.environment().put("PGPASSWORD", uri.getUserInfo().split(":", 2)[1]);
            Process check = amcheck.start();
            String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(check.waitFor(5, TimeUnit.MINUTES));
            assertEquals(0, check.exitValue(), "pg_amcheck on " + name + ": " + output);
        }
        server.rememberComputePids();
    }

    @Test
    void aKill9DuringBranchCreatesLosesNoAcknowledgedBranchAndLeavesNoOrphanTimeline() throws Exception {
        server.start();
        ServerInfo info = server.info();
        String token = ApiToken.load(server.dataDirectory().resolve(ApiToken.FILE_NAME)).value();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<String> acknowledged = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread creator = Thread.ofPlatform().start(() -> {
            for (int i = 0; ; i++) {
                HttpRequest create = HttpRequest.newBuilder(URI.create(info.api() + "/v1/projects/default/branches"))
                        .header("Authorization", "Bearer " + token)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"crash/" + i + "\",\"parent\":\"production\"}"))
                        .build();
                try {
                    if (http.send(create, HttpResponse.BodyHandlers.ofString()).statusCode() != 201) {
                        return;
                    }
                    acknowledged.add("crash/" + i);
                } catch (IOException | InterruptedException e) {
                    return; // the server is gone
                }
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (acknowledged.size() < 15 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        server.kill(); // mid-create, most likely
        creator.join(30_000);
        assertTrue(acknowledged.size() >= 15, "creates were too slow: " + acknowledged.size());

        server.restart();
        JsonNode list = server.cliJson("branch", "list");
        Set<String> names = new HashSet<>();
        list.path("branches").forEach(b -> names.add(b.path("name").asText()));
        for (String name : List.copyOf(acknowledged)) {
            assertTrue(names.contains(name), "acknowledged branch " + name + " lost by the kill -9");
        }
        figures.put("kill -9 during API creates", acknowledged.size() + " creates acknowledged, "
                + names.stream().filter(n -> n.startsWith("crash/")).count() + " crash/* branches after restart");
        String metrics = server.metrics();
        long branchCount = ServerProcess.metric(metrics, "pgbranch_branches");
        assertEquals(names.size(), branchCount);
        // A timeline the kill left between the store and the catalog is never deleted on a guess:
        // it waits in the store's quarantine (not served) until an operator purges or adopts it.
        JsonNode orphans = server.cliJson("store", "quarantine", "list").path("timelines");
        assertEquals(branchCount + orphans.size(), ServerProcess.metric(metrics, "pgbranch_store_timelines"),
                "every timeline belongs to a branch or waits in quarantine\n" + metrics);
        assertTrue(orphans.size() <= 1, "one create at most was cut short: " + orphans);
        for (JsonNode orphan : orphans) {
            assertEquals(0, orphan.path("children").size(), orphan.toString());
            server.cliOk("store", "quarantine", "purge", orphan.path("timeline").asText());
        }
        assertEquals(branchCount, server.metric("pgbranch_store_timelines"), "purged: every timeline has a branch");
        String last = acknowledged.getLast();
        try (Connection c = connect(server.cliOk("connect", last).strip()); Statement sql = c.createStatement()) {
            assertEquals(1, queryLong(sql, "SELECT 1"));
        }
        for (String name : names) {
            if (name.startsWith("crash/")) {
                server.cliOk("branch", "delete", name);
            }
        }
        assertEquals(2, server.metric("pgbranch_store_timelines"), "deleted branches' timelines are gone");
        server.rememberComputePids();
    }

    // ---------------------------------------------------------------------------------------

    private void measureApiCreateLatency() throws Exception {
        // development's compute runs (so each create includes its CHECKPOINT); production's is stopped.
        figures.put("branch create via API from development (compute running, CHECKPOINT included), 5 runs",
                apiCreateLatency("development"));
        figures.put("branch create via API from production (compute stopped), 5 runs", apiCreateLatency("production"));
    }

    private String apiCreateLatency(String parent) throws Exception {
        ServerInfo info = server.info();
        String token = ApiToken.load(server.dataDirectory().resolve(ApiToken.FILE_NAME)).value();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        long[] micros = new long[5];
        for (int i = 0; i < micros.length; i++) {
            HttpRequest create = HttpRequest.newBuilder(URI.create(info.api() + "/v1/projects/default/branches"))
                    .header("Authorization", "Bearer " + token)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"bench/" + i + "\",\"parent\":\"" + parent + "\"}"))
                    .build();
            long start = System.nanoTime();
            HttpResponse<String> response = http.send(create, HttpResponse.BodyHandlers.ofString());
            micros[i] = (System.nanoTime() - start) / 1_000;
            assertEquals(201, response.statusCode(), response.body());
        }
        for (int i = 0; i < micros.length; i++) {
            assertEquals(0, server.cli("branch", "delete", "bench/" + i).code());
        }
        Arrays.sort(micros);
        return String.format("min %.1f ms, median %.1f ms, max %.1f ms", micros[0] / 1000.0, micros[2] / 1000.0,
                micros[4] / 1000.0);
    }

    /** The real ./pgbranch launcher script, on this test's classpath. */
    private JsonNode launcher(String... args) throws Exception {
        Path script = Path.of("").toAbsolutePath().getParent().resolve("pgbranch");
        assertTrue(Files.isExecutable(script), script + " is missing");
        List<String> command = new ArrayList<>(List.of(script.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("PGBRANCH_CLASSPATH", System.getProperty("java.class.path"));
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process process = builder.redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(2, TimeUnit.MINUTES));
        assertEquals(0, process.exitValue(), "./pgbranch " + String.join(" ", args) + ": " + out);
        return ServerProcess.parse(out);
    }

    private static Connection connect(String uri) throws SQLException {
        URI parsed = URI.create(uri);
        String[] user = parsed.getUserInfo().split(":", 2);
        return DriverManager.getConnection("jdbc:postgresql://" + parsed.getHost() + ":" + parsed.getPort()
                + parsed.getPath(), user[0], user[1]);
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

    /** Schema and content of the users table, to compare two branches exactly. */
    private static List<String> dump(String uri) throws SQLException {
        try (Connection c = connect(uri); Statement sql = c.createStatement()) {
            List<String> out = new ArrayList<>(rows(sql, "SELECT column_name || ' ' || data_type FROM information_schema.columns "
                    + "WHERE table_name = 'users' ORDER BY ordinal_position"));
            out.addAll(rows(sql, "SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE tablename = 'users' ORDER BY 1"));
            out.addAll(rows(sql, "SELECT md5(string_agg(u::text, ',' ORDER BY id)) FROM users u"));
            return out;
        }
    }

    private static JsonNode find(JsonNode list, String name) {
        for (JsonNode b : list.path("branches")) {
            if (b.path("name").asText().equals(name)) {
                return b;
            }
        }
        throw new AssertionError("no branch " + name + " in " + list);
    }

    private static void assertSameBranches(JsonNode expected, JsonNode actual) {
        Map<String, String> a = new LinkedHashMap<>();
        Map<String, String> b = new LinkedHashMap<>();
        for (JsonNode branch : expected.path("branches")) {
            a.put(branch.path("name").asText(), identity(branch));
        }
        for (JsonNode branch : actual.path("branches")) {
            b.put(branch.path("name").asText(), identity(branch));
        }
        assertEquals(a, b);
    }

    private static String identity(JsonNode b) {
        return b.path("parent").asText() + " " + b.path("timeline").asText() + " " + b.path("port").asInt() + " "
                + b.path("protected").asBoolean() + " " + b.path("parentLsn").asText() + " " + b.path("createdAt").asText();
    }
}

package dev.pgbranch.pageserver.review;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgbranch.pageserver.compute.PostgresInstallation;
import dev.pgbranch.pageserver.testing.ServerProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Schema diff and promote the way a user runs them: a real server in its own JVM, the CLI,
 * branches' real Postgres computes on FUSE reached through the proxy, and the throwaway base
 * compute for the three-way diff. The steps build on each other (one server, ordered tests);
 * after every diff and promote the base compute must be gone: no extra mount, no extra timeline.
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SchemaReviewWorkflowTest {

    private ServerProcess server;
    private final Map<String, String> figures = new LinkedHashMap<>();

    @BeforeAll
    void startServerWithUsersOnDevelopment() throws Exception {
        server = new ServerProcess("SchemaReviewWorkflowTest");
        server.start();
        try (Connection dev = server.connect("development"); Statement sql = dev.createStatement()) {
            sql.execute("CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL)");
            sql.execute("INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 1000) g");
        }
        server.cliJson("branch", "create", "dev/alex", "--parent", "development");
        try (Connection alex = server.connect("dev/alex"); Statement sql = alex.createStatement()) {
            sql.execute("ALTER TABLE users ADD COLUMN preferences JSONB DEFAULT '{}'");
            sql.execute("CREATE INDEX idx_users_preferences ON users USING GIN (preferences)");
        }
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
    void diffShowsExactlyTheAddedColumnAndIndexAndLeavesNoBaseComputeBehind() throws Exception {
        long timelines = server.metric("pgbranch_store_timelines");
        int mounts = server.mounts().size();

        long start = System.nanoTime();
        JsonNode report = server.cliJson("diff", "dev/alex");
        figures.put("diff dev/alex via CLI, three-way (wakes, base compute start + stop, 3 introspections)",
                (System.nanoTime() - start) / 1_000_000 + " ms; server timings " + report.path("timingsMs"));
        assertEquals("dev/alex", report.path("branch").asText());
        assertEquals("development", report.path("against").asText());
        assertTrue(report.path("threeWay").asBoolean());
        assertTrue(report.path("base").asText().startsWith("development@"), report.path("base").asText());
        JsonNode postgres = database(report, "postgres");
        List<String> expected = List.of("added column public.users.preferences", "added index public.idx_users_preferences");
        assertEquals(expected, changes(postgres.path("changes")));
        assertEquals(expected, changes(postgres.path("branch")), "changed on dev/alex");
        assertEquals(List.of(), changes(postgres.path("parent")), "nothing changed on development since");
        assertEquals(0, postgres.path("conflicts").size());
        JsonNode column = postgres.path("changes").get(0).path("after");
        assertEquals("jsonb", column.path("type").asText(), column.toString());
        assertTrue(column.path("default").asText().contains("'{}'"), column.toString());
        assertTrue(postgres.path("changes").get(1).path("after").toString().contains("USING gin (preferences)"),
                postgres.path("changes").get(1).toString());

        String unified = server.cliOk("diff", "dev/alex");
        List<String> hunks = unified.lines().filter(l -> l.startsWith("@@")).toList();
        assertEquals(List.of("@@ added column public.users.preferences @@", "@@ added index public.idx_users_preferences @@"),
                hunks, "changed on dev/alex; nothing on development\n" + unified);
        assertTrue(unified.contains("# changed on development since the branch point"), unified);
        String sql = server.cliOk("diff", "dev/alex", "--format", "sql");
        assertTrue(sql.contains("\n\\connect postgres\n"), sql);
        assertTrue(sql.contains("ADD COLUMN \"preferences\" jsonb") || sql.contains("ADD COLUMN preferences jsonb"), sql);
        String sideBySide = server.cliOk("diff", "dev/alex", "--format", "side-by-side");
        assertTrue(sideBySide.contains("== changed on dev/alex (2) =="), sideBySide);

        assertEquals(timelines, server.metric("pgbranch_store_timelines"), "the base timeline was deleted");
        assertEquals(mounts, server.mounts().size(), "no mount but the branches' own: " + server.mounts());
        assertTrue(server.mounts().stream().noneMatch(m -> m.contains("_base-")), "base compute unmounted: " + server.mounts());

        long[] millis = new long[5];
        for (int i = 0; i < millis.length; i++) {
            long t = System.nanoTime();
            assertEquals(expected, changes(database(server.cliJson("diff", "dev/alex"), "postgres").path("branch")));
            millis[i] = (System.nanoTime() - t) / 1_000_000;
        }
        java.util.Arrays.sort(millis);
        figures.put("diff dev/alex via CLI, three-way, computes running, 5 runs",
                "min " + millis[0] + " ms, median " + millis[2] + " ms, max " + millis[4] + " ms");
    }

    @Test
    @Order(2)
    void twoWayDiffAgainstAnotherBranchAndOneDatabase() {
        JsonNode report = server.cliJson("diff", "development", "--against", "dev/alex", "--database", "postgres");
        assertFalse(report.path("threeWay").asBoolean());
        assertTrue(report.path("base").isNull());
        assertEquals(List.of("removed column public.users.preferences", "removed index public.idx_users_preferences"),
                changes(database(report, "postgres").path("changes")));
    }

    @Test
    @Order(3)
    void theSqlFormatRunsInPsqlAndMakesTheOtherBranchEqual() throws Exception {
        String script = server.cliOk("diff", "dev/alex", "--format", "sql");
        server.cliJson("branch", "create", "check/sql", "--parent", "development");
        try {
            java.net.URI uri = java.net.URI.create(server.cliOk("connect", "check/sql").strip());
            java.nio.file.Path file = java.nio.file.Files.createTempFile("diff", ".sql");
            java.nio.file.Files.writeString(file, script);
            ProcessBuilder psql = new ProcessBuilder(PostgresInstallation.detect().tool("psql").toString(), "-X", "-v", "ON_ERROR_STOP=1", "-h", uri.getHost(),
                    "-p", Integer.toString(uri.getPort()), "-U", "postgres", "-d", "postgres", "-f", file.toString())
                    .redirectErrorStream(true);
            psql.environment().put("PGPASSWORD", uri.getUserInfo().split(":", 2)[1]);
            Process p = psql.start();
            String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(p.waitFor(2, java.util.concurrent.TimeUnit.MINUTES));
            java.nio.file.Files.delete(file);
            assertEquals(0, p.exitValue(), script + "\n" + output);
            JsonNode after = server.cliJson("diff", "dev/alex", "--against", "check/sql");
            assertTrue(after.path("identical").asBoolean(), after.toString());
        } finally {
            server.cliOk("branch", "delete", "check/sql");
        }
    }

    @Test
    @Order(4)
    void dryRunChangesNothing() throws Exception {
        long timelines = server.metric("pgbranch_store_timelines");
        JsonNode report = server.cliJson("promote", "dev/alex", "--dry-run");
        assertTrue(report.path("dryRun").asBoolean());
        assertFalse(report.path("applied").asBoolean());
        assertEquals(List.of("added column public.users.preferences", "added index public.idx_users_preferences"),
                changes(database(report, "postgres").path("promoted")));
        assertEquals(0, queryLong("development", "SELECT count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass"
                + " AND attname = 'preferences'"));
        assertEquals(0, queryLong("development", "SELECT count(*) FROM pg_class WHERE relname = 'idx_users_preferences'"));
        assertEquals(timelines, server.metric("pgbranch_store_timelines"));
    }

    @Test
    @Order(5)
    void promoteMakesDevelopmentsSchemaEqualAndTheDiffEmpty() throws Exception {
        long start = System.nanoTime();
        String out = server.cliOk("promote", "dev/alex");
        figures.put("promote dev/alex via CLI (base compute, plan, apply, verify)", (System.nanoTime() - start) / 1_000_000 + " ms");
        assertTrue(out.contains("promoted 2 change(s) from dev/alex into development"), out);
        assertTrue(out.contains("verified:"), out);
        assertEquals(1, queryLong("development", "SELECT count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass"
                + " AND attname = 'preferences' AND atttypid = 'jsonb'::regtype"));
        assertEquals(1000, queryLong("development", "SELECT count(*) FROM users WHERE preferences = '{}'"),
                "existing rows got the default");
        assertEquals(1, queryLong("development", "SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_users_preferences'"
                + " AND indexdef LIKE '%USING gin (preferences)%'"));
        JsonNode after = server.cliJson("diff", "dev/alex");
        assertTrue(after.path("identical").asBoolean(), after.toString());
        assertEquals(0, database(after, "postgres").path("changes").size());
        assertTrue(server.mounts().stream().noneMatch(m -> m.contains("_base-")), server.mounts().toString());
    }

    @Test
    @Order(6)
    void sameColumnAlteredDifferentlyOnBothSidesIsAConflictAndPromoteRefuses() throws Exception {
        server.cliJson("branch", "create", "dev/bob", "--parent", "development");
        exec("dev/bob", "ALTER TABLE users ALTER COLUMN email TYPE varchar(200)");
        exec("development", "ALTER TABLE users ALTER COLUMN email TYPE varchar(100)");

        server.cliJson("compute", "stop", "dev/bob"); // the diff wakes it
        JsonNode report = server.cliJson("diff", "dev/bob");
        figures.put("diff dev/bob, its compute suspended (wake included), server timings", report.path("timingsMs").toString());
        JsonNode conflicts = database(report, "postgres").path("conflicts");
        assertEquals(1, conflicts.size(), conflicts.toString());
        assertEquals("public.users.email", conflicts.get(0).path("object").asText());
        String text = server.cliOk("diff", "dev/bob");
        assertTrue(text.contains("# conflicts: 1"), text);

        ServerProcess.Result refused = server.cli("promote", "dev/bob");
        assertEquals(1, refused.code(), refused.out());
        assertTrue(refused.err().contains("conflicting change"), refused.err());
        ServerProcess.Result json = server.cli("promote", "dev/bob", "--output", "json");
        assertEquals("CONFLICT", ServerProcess.parse(json.err()).path("error").path("code").asText(), json.err());
        assertEquals("character varying(100)", queryText("development",
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'"),
                "the refused promote changed nothing");
        assertTrue(server.mounts().stream().noneMatch(m -> m.contains("_base-")), server.mounts().toString());
    }

    @Test
    @Order(7)
    void promoteIntoProtectedProductionIsRefusedWithoutForce() throws Exception {
        ServerProcess.Result refused = server.cli("promote", "development", "--output", "json");
        assertEquals(1, refused.code());
        JsonNode error = ServerProcess.parse(refused.err()).path("error");
        assertEquals("PROTECTED", error.path("code").asText());
        assertTrue(error.path("message").asText().contains("'production' is protected"), error.toString());
        assertEquals(0, queryLong("production", "SELECT count(*) FROM pg_class WHERE relname = 'users'"));
        JsonNode dryRun = server.cliJson("promote", "development", "--dry-run");
        assertTrue(dryRun.path("notes").toString().contains("'production' is protected"), dryRun.toString());
        assertTrue(database(dryRun, "postgres").path("sql").asText().contains("CREATE TABLE"), dryRun.toString());
        assertEquals(0, queryLong("production", "SELECT count(*) FROM pg_class WHERE relname = 'users'"));

        String forced = server.cliOk("promote", "development", "--force");
        assertTrue(forced.contains("verified:"), forced);
        assertEquals(1, queryLong("production", "SELECT count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass"
                + " AND attname = 'preferences'"));
        assertEquals(0, queryLong("production", "SELECT count(*) FROM users"), "schema promoted, never data");
    }

    @Test
    @Order(8)
    void aParentResetSinceTheBranchPointStillHasItsBaseAndTheReportSaysSo() throws Exception {
        long timelines = server.metric("pgbranch_store_timelines");
        // development now points at a new timeline; dev/alex still descends from the old, retired one.
        server.cliJson("branch", "reset", "development");
        long afterReset = server.metric("pgbranch_store_timelines");
        assertEquals(timelines + 1, afterReset, "the retired timeline stays while dev/alex and dev/bob descend from it");
        JsonNode report = server.cliJson("diff", "dev/alex");
        assertTrue(report.path("threeWay").asBoolean());
        String notes = report.path("notes").toString();
        assertTrue(notes.contains("was reset or restored after dev/alex was taken") && notes.contains("retired"), notes);
        // development was reset to production, which got development's schema by force: only the
        // email type (varchar(100) promoted to production) differs from dev/alex's text.
        List<String> changed = changes(database(report, "postgres").path("changes"));
        assertEquals(List.of("changed column public.users.email"), changed, report.toString());
        assertEquals(afterReset, server.metric("pgbranch_store_timelines"));
        assertTrue(server.mounts().stream().noneMatch(m -> m.contains("_base-")), server.mounts().toString());
    }

    @Test
    @Order(9)
    void badInputGetsClearErrors() throws Exception {
        ServerProcess.Result unknown = server.cli("diff", "dev/nobody", "--output", "json");
        assertEquals(1, unknown.code());
        assertEquals("NOT_FOUND", ServerProcess.parse(unknown.err()).path("error").path("code").asText());
        ServerProcess.Result noDb = server.cli("diff", "dev/alex", "--database", "nope");
        assertEquals(1, noDb.code());
        assertTrue(noDb.err().contains("database 'nope' does not exist on branch 'dev/alex'"), noDb.err());
        ServerProcess.Result root = server.cli("diff", "production");
        assertEquals(1, root.code());
        assertTrue(root.err().contains("has no parent"), root.err());
        ServerProcess.Result promoteRoot = server.cli("promote", "production");
        assertEquals(1, promoteRoot.code());
        assertTrue(promoteRoot.err().contains("no parent to promote into"), promoteRoot.err());
        ServerProcess.Result badFormat = server.cli("diff", "dev/alex", "--format", "xml");
        assertEquals(2, badFormat.code());
        assertTrue(badFormat.err().contains("unknown diff format 'xml'"), badFormat.err());
        ServerProcess.Result badName = server.cli("diff", "dev/../x");
        assertEquals(2, badName.code());

        String path = "/v1/projects/default/branches/dev%2Falex";
        assertError(server.api("GET", path + "/schema-diff?format=xml", null, null), 400, "BAD_REQUEST");
        assertError(server.api("GET", path + "/schema-diff?agianst=development", null, null), 400, "BAD_REQUEST");
        assertError(server.api("GET", path + "/schema-diff?against=dev%2Falex", null, null), 400, "BAD_REQUEST");
        assertError(server.api("POST", path + "/schema-diff", "{}", null), 405, "METHOD_NOT_ALLOWED");
        assertError(server.api("GET", path + "/schema-diff?format=json&format=sql", null, null), 400, "BAD_REQUEST");
        assertError(server.api("POST", path + "/promote", "{\"dryRun\": \"yes\"}", null), 400, "BAD_REQUEST");
        assertError(server.api("POST", path + "/promote", "{\"dryrun\": true}", null), 400, "BAD_REQUEST");
        assertError(server.api("POST", path + "/promote", "[1]", null), 400, "BAD_REQUEST");
        assertError(server.api("GET", "/v1/projects/nope/branches/dev%2Falex/schema-diff", null, null), 404, "NOT_FOUND");

        HttpResponse<String> text = server.api("GET", path + "/schema-diff?format=unified", null, "text/plain");
        assertEquals(200, text.statusCode(), text.body());
        assertTrue(text.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        assertTrue(text.body().contains("--- development@"), text.body());
        assertTrue(server.mounts().stream().noneMatch(m -> m.contains("_base-")), server.mounts().toString());
    }

    @Test
    @Order(10)
    void everyDatabaseIsComparedAndPromotedButADatabaseOnlyOnTheBranchBlocksAPromoteOfAll() throws Exception {
        exec("development", "CREATE DATABASE app");
        execIn("development", "app", "CREATE TABLE accounts (id bigint PRIMARY KEY)");
        server.cliJson("branch", "create", "dev/carol", "--parent", "development");
        exec("dev/carol", "CREATE TABLE audit (at timestamptz NOT NULL)");
        execIn("dev/carol", "app", "ALTER TABLE accounts ADD COLUMN owner text");
        exec("dev/carol", "CREATE DATABASE scratch");

        JsonNode report = server.cliJson("diff", "dev/carol");
        assertEquals(List.of("scratch"), strings(report.path("onlyOnBranch")));
        assertEquals(List.of("added column public.accounts.owner"), changes(database(report, "app").path("branch")));
        assertEquals(List.of("added table public.audit", "added column public.audit.at"),
                changes(database(report, "postgres").path("branch")));
        assertFalse(report.path("identical").asBoolean());

        ServerProcess.Result refused = server.cli("promote", "dev/carol");
        assertEquals(1, refused.code());
        assertTrue(refused.err().contains("[scratch] exist only on 'dev/carol'"), refused.err());
        assertEquals(0, queryLongIn("development", "app", "SELECT count(*) FROM pg_attribute WHERE attrelid = "
                + "'accounts'::regclass AND attname = 'owner'"), "nothing promoted");

        server.cliOk("promote", "dev/carol", "--database", "app");
        assertEquals(1, queryLongIn("development", "app", "SELECT count(*) FROM pg_attribute WHERE attrelid = "
                + "'accounts'::regclass AND attname = 'owner'"));
        assertEquals(0, queryLong("development", "SELECT count(*) FROM pg_class WHERE relname = 'audit'"),
                "only the database asked for");
        exec("dev/carol", "DROP DATABASE scratch");
        String out = server.cliOk("promote", "dev/carol");
        assertTrue(out.contains("database app: already up to date"), out);
        assertTrue(out.contains("verified:"), out);
        assertTrue(out.contains("database postgres: promoted 2 change(s)"), out);
        JsonNode after = server.cliJson("diff", "dev/carol");
        assertTrue(after.path("identical").asBoolean(), after.toString());
    }

    @Test
    @Order(11)
    void concurrentDiffsOfOneBranchTakeTurnsOnItsBaseAndOthersRunAlongside() throws Exception {
        long timelines = server.metric("pgbranch_store_timelines");
        List<String> branches = List.of("dev/alex", "dev/alex", "dev/alex", "dev/bob", "dev/bob");
        List<java.util.concurrent.Future<ServerProcess.Result>> results = new ArrayList<>();
        long start = System.nanoTime();
        try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (String b : branches) {
                results.add(executor.submit(() -> server.cli("diff", b, "--output", "json")));
            }
        }
        figures.put("5 concurrent diffs (3 of dev/alex, 2 of dev/bob)", (System.nanoTime() - start) / 1_000_000 + " ms");
        for (int i = 0; i < branches.size(); i++) {
            ServerProcess.Result r = results.get(i).get();
            assertEquals(0, r.code(), r.err());
            assertEquals(branches.get(i), ServerProcess.parse(r.out()).path("branch").asText());
        }
        assertEquals(timelines, server.metric("pgbranch_store_timelines"));
        assertTrue(server.mounts().stream().noneMatch(m -> m.contains("_base-")), server.mounts().toString());
    }

    @Test
    @Order(12)
    void aRestoredBranchStillFindsItsBranchPointThroughItsOwnEarlierTimeline() throws Exception {
        JsonNode before = server.cliJson("diff", "dev/carol");
        String lsn = server.cliJson("branch", "show", "dev/carol").path("headLsn").asText();
        exec("dev/carol", "CREATE TABLE later (x int)");
        List<String> withLater = changes(database(server.cliJson("diff", "dev/carol"), "postgres").path("branch"));
        assertTrue(withLater.contains("added table public.later"), withLater.toString());
        server.cliJson("branch", "restore", "dev/carol", "--at", lsn);
        JsonNode after = server.cliJson("diff", "dev/carol");
        assertEquals(before.path("base").asText(), after.path("base").asText(), "same branch point after the restore");
        assertEquals(changes(database(before, "postgres").path("branch")),
                changes(database(after, "postgres").path("branch")), "the table made after the point is gone");
        assertEquals("[]", after.path("notes").toString());
    }

    @Test
    @Order(13)
    void aKill9WhileTheBaseComputeRunsLeavesNoMountTimelineOrPostmasterAfterRestart() throws Exception {
        long timelines = server.metric("pgbranch_store_timelines");
        Thread diffs = Thread.ofVirtual().start(() -> {
            for (int i = 0; i < 50 && server.cli("diff", "dev/alex").code() == 0; i++) {
                // until the server dies under it
            }
        });
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        String baseMount = null;
        while (baseMount == null && System.nanoTime() < deadline) {
            baseMount = server.mounts().stream().filter(m -> m.contains("_base-")).findFirst().orElse(null);
            Thread.sleep(2);
        }
        assertTrue(baseMount != null, "no base compute seen");
        String mount = baseMount;
        List<ProcessHandle> postmasters = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(" -D " + mount + " ")).orElse(false)).toList();
        postmasters.forEach(p -> server.rememberPid(p.pid()));
        server.rememberComputePids();
        server.kill();
        server.restart();
        diffs.join(120_000);

        assertTrue(server.mounts().stream().noneMatch(m -> m.contains("_base-")), server.mounts().toString());
        for (ProcessHandle p : postmasters) {
            p.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertFalse(p.isAlive(), "base postmaster " + p.pid() + " killed at restart");
        }
        assertEquals(timelines, server.metric("pgbranch_store_timelines"), "the base timeline was deleted at restart");
        assertTrue(server.cliJson("diff", "dev/alex").path("threeWay").asBoolean(), "diff works after the restart");
    }

    // ---------------------------------------------------------------------------------------

    private static void assertError(HttpResponse<String> response, int status, String code) {
        assertEquals(status, response.statusCode(), response.body());
        assertEquals(code, ServerProcess.parse(response.body()).path("error").path("code").asText(), response.body());
    }

    private static JsonNode database(JsonNode report, String name) {
        for (JsonNode db : report.path("databases")) {
            if (db.path("database").asText().equals(name)) {
                return db;
            }
        }
        throw new AssertionError("no database " + name + " in " + report);
    }

    /** "added column public.users.preferences" per change. */
    private static List<String> changes(JsonNode list) {
        List<String> out = new ArrayList<>();
        for (JsonNode c : list) {
            out.add(c.path("change").asText() + " " + c.path("kind").asText() + " " + c.path("object").asText());
        }
        return out;
    }

    private void exec(String branch, String statement) throws SQLException {
        try (Connection c = server.connect(branch); Statement sql = c.createStatement()) {
            sql.execute(statement);
        }
    }

    private void execIn(String branch, String database, String statement) throws SQLException {
        try (Connection c = server.connect(branch, database); Statement sql = c.createStatement()) {
            sql.execute(statement);
        }
    }

    private long queryLongIn(String branch, String database, String query) throws SQLException {
        try (Connection c = server.connect(branch, database); Statement sql = c.createStatement();
             ResultSet rs = sql.executeQuery(query)) {
            assertTrue(rs.next(), query);
            return rs.getLong(1);
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private long queryLong(String branch, String query) throws SQLException {
        return Long.parseLong(queryText(branch, query));
    }

    private String queryText(String branch, String query) throws SQLException {
        try (Connection c = server.connect(branch); Statement sql = c.createStatement(); ResultSet rs = sql.executeQuery(query)) {
            assertTrue(rs.next(), query);
            return rs.getString(1);
        }
    }
}

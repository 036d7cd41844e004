package dev.pgbranch.pageserver.review;

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

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;

import static dev.pgbranch.pageserver.testing.Sql.queryLong;
import static dev.pgbranch.pageserver.testing.Sql.queryString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pgbranch branch rebase} the way a user runs it: a real server, the CLI and the API,
 * branches' computes on FUSE. The branch keeps its migration (schema and history row), gets the
 * parent's latest data, keeps its connection string; its old state is a backup branch; a
 * conflict changes nothing and leaves no timeline or mount behind.
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RebaseWorkflowTest {

    private ServerProcess server;

    @BeforeAll
    void startServerWithUsersOnDevelopment() throws Exception {
        server = new ServerProcess("RebaseWorkflowTest");
        server.start();
        try (Connection dev = server.connect("development"); Statement sql = dev.createStatement()) {
            sql.execute("CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL)");
            sql.execute("INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 100) g");
            sql.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)");
            sql.execute("INSERT INTO alembic_version VALUES ('a1')");
        }
    }

    @AfterAll
    void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    @Order(1)
    void rebaseKeepsTheBranchsMigrationAndBringsTheParentsLatestData() throws Exception {
        server.cliJson("branch", "create", "dev/alex", "--parent", "development");
        String connection = server.cliOk("connect", "dev/alex");
        try (Connection alex = server.connect("dev/alex"); Statement sql = alex.createStatement()) {
            sql.execute("ALTER TABLE users ADD COLUMN preferences jsonb DEFAULT '{}'");
            sql.execute("CREATE INDEX users_preferences ON users USING gin (preferences)");
            sql.execute("UPDATE alembic_version SET version_num = 'b2'");
            sql.execute("INSERT INTO users (id, email) VALUES (1000, 'only-on-alex@example.com')");
        }
        try (Connection dev = server.connect("development"); Statement sql = dev.createStatement()) {
            sql.execute("INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(101, 150) g");
            sql.execute("CREATE TABLE invoices (id int PRIMARY KEY, total numeric)");
        }
        String timeline = server.cliJson("branch", "show", "dev/alex").path("timeline").asText();

        JsonNode plan = server.cliJson("branch", "rebase", "dev/alex", "--dry-run");
        assertFalse(plan.path("rebased").asBoolean(), plan.toString());
        JsonNode db = plan.path("databases").get(0);
        assertEquals(2, db.path("promoted").size(), db.toString());
        assertEquals(2, db.path("historyRowsCarried").asInt(), "a1 removed, b2 added: " + db);
        JsonNode notCarried = plan.path("dataNotCarried");
        assertEquals(1, notCarried.size(), plan.toString());
        assertEquals("public.users", notCarried.get(0).path("table").asText());
        assertEquals(1, notCarried.get(0).path("added").asInt(), "alex's own row, from the data diff: " + notCarried);
        String text = server.cliOk("branch", "rebase", "dev/alex", "--dry-run");
        assertTrue(text.contains("would rebase dev/alex onto development's head"), text);
        assertTrue(text.contains("data changes not carried (they stay in the backup branch):\n  postgres public.users: +1 -0 ~0 row(s)"),
                text);
        assertEquals(timeline, server.cliJson("branch", "show", "dev/alex").path("timeline").asText(), "a dry run changes nothing");

        long timelines = server.metric("pgbranch_store_timelines");
        JsonNode done = server.cliJson("branch", "rebase", "dev/alex");
        assertTrue(done.path("rebased").asBoolean(), done.toString());
        String backup = done.path("backup").asText();
        assertTrue(backup.startsWith("dev/alex_old_"), backup);
        assertEquals(timelines + 1, server.metric("pgbranch_store_timelines"),
                "one new timeline (the rebased branch's); the old one is the backup's; no temporary one left");
        assertTrue(server.mounts().stream().noneMatch(m -> m.contains("rebase")), server.mounts().toString());

        assertEquals(connection, server.cliOk("connect", "dev/alex"), "same connection string");
        try (Connection alex = server.connect("dev/alex"); Statement sql = alex.createStatement()) {
            assertEquals(150, queryLong(sql, "SELECT count(*) FROM users"), "development's latest rows, not alex's own");
            assertEquals("{}", queryString(sql, "SELECT preferences::text FROM users WHERE id = 150"));
            assertEquals(1, queryLong(sql, "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_preferences'"));
            assertEquals(0, queryLong(sql, "SELECT count(*) FROM invoices"), "development's new table");
            assertEquals("b2", queryString(sql, "SELECT string_agg(version_num, ',') FROM alembic_version"));
        }
        try (Connection old = server.connect(backup); Statement sql = old.createStatement()) {
            assertEquals(1, queryLong(sql, "SELECT count(*) FROM users WHERE id = 1000"), "the backup keeps alex's data");
        }
        JsonNode diff = server.cliJson("diff", "dev/alex").path("databases").get(0);
        assertEquals(2, diff.path("branch").size(), diff.toString());
        assertEquals(0, diff.path("parent").size(), "the branch point is now development's head: " + diff);
    }

    @Test
    @Order(2)
    void aConflictChangesNothingAndIsReportedAsTheDiffShowsIt() throws Exception {
        server.cliJson("branch", "create", "dev/bob", "--parent", "development");
        try (Connection bob = server.connect("dev/bob"); Statement sql = bob.createStatement()) {
            sql.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(100)");
        }
        try (Connection dev = server.connect("development"); Statement sql = dev.createStatement()) {
            sql.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(200)");
        }
        String timeline = server.cliJson("branch", "show", "dev/bob").path("timeline").asText();
        long timelines = server.metric("pgbranch_store_timelines");
        int branches = server.cliJson("branch", "list").size();

        HttpResponse<String> refused = server.api("POST", "/v1/projects/default/branches/dev%2Fbob/rebase", "{}", null);
        assertEquals(409, refused.statusCode(), refused.body());
        JsonNode error = ServerProcess.parse(refused.body()).path("error");
        assertEquals("CONFLICT", error.path("code").asText());
        assertTrue(error.path("message").asText().contains("column public.users.email"), error.toString());

        assertEquals(timeline, server.cliJson("branch", "show", "dev/bob").path("timeline").asText());
        assertEquals(timelines, server.metric("pgbranch_store_timelines"), "no candidate timeline left");
        assertEquals(branches, server.cliJson("branch", "list").size(), "no backup branch");
        try (Connection bob = server.connect("dev/bob"); Statement sql = bob.createStatement()) {
            assertEquals("character varying(100)", queryString(sql,
                    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'"));
        }
    }

    @Test
    @Order(3)
    void aProtectedBranchIsNotRebased() {
        server.cliOk("branch", "protect", "dev/bob");
        ServerProcess.Result r = server.cli("branch", "rebase", "dev/bob");
        assertTrue(r.code() != 0 && r.err().contains("protected"), r.err());
        server.cliOk("branch", "unprotect", "dev/bob");
    }
}

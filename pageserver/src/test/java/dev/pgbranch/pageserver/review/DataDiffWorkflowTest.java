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
import java.time.Instant;

import static dev.pgbranch.pageserver.testing.Sql.queryLong;
import static dev.pgbranch.pageserver.testing.Sql.queryString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pgbranch diff --data} as a user runs it: table, JSON and SQL output through the CLI and
 * the API, the full-compare fallback when a relation file is replaced, and selective restore
 * from the branch's own history ({@code --against dev/alex@<time> --apply [--dry-run]}).
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DataDiffWorkflowTest {

    private ServerProcess server;

    @BeforeAll
    void start() throws Exception {
        server = new ServerProcess("DataDiffWorkflowTest");
        server.start();
        try (Connection dev = server.connect("development"); Statement sql = dev.createStatement()) {
            sql.execute("CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, plan text)");
            sql.execute("INSERT INTO users SELECT g, 'user' || g || '@example.com', 'free' FROM generate_series(1, 20000) g");
            sql.execute("CREATE TABLE audit (at int, what text)");
            sql.execute("INSERT INTO audit SELECT g, 'boot' FROM generate_series(1, 100) g");
        }
        server.cliJson("branch", "create", "dev/alex", "--parent", "development");
    }

    @AfterAll
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    @Order(1)
    void theDiffReadsFewPagesAndShowsRowsInEveryFormat() throws Exception {
        try (Connection alex = server.connect("dev/alex"); Statement sql = alex.createStatement()) {
            sql.execute("UPDATE users SET plan = 'pro' WHERE id = 7");
            sql.execute("DELETE FROM users WHERE id = 9");
            sql.execute("INSERT INTO users VALUES (20001, 'new@example.com', 'free')");
        }
        try (Connection dev = server.connect("development"); Statement sql = dev.createStatement()) {
            sql.execute("UPDATE users SET email = 'changed@example.com' WHERE id = 15000");
        }
        JsonNode diff = server.cliJson("diff", "dev/alex", "--data", "--table", "users");
        JsonNode users = diff.path("databases").get(0).path("tables").get(0);
        assertEquals("public.users", users.path("table").asText());
        assertTrue(users.path("read").path("blocks").asLong() < 10, users.path("read").toString());
        assertEquals(3, users.path("source").size(), users.toString());
        assertEquals(1, users.path("target").size(), users.toString());
        assertEquals(4, users.path("changes").size(), "two-way: the three of dev/alex and the one of development");

        String text = server.cliOk("diff", "dev/alex", "--data");
        assertTrue(text.contains("public.users (key id): +1 -1 ~2"), text);
        assertTrue(text.contains("~ id=7: plan 'free' -> 'pro'"), text);
        assertTrue(text.contains("- id=9"), text);
        assertTrue(text.contains("block(s) read per side"), text);

        String sql = server.cliOk("diff", "dev/alex", "--data", "--format", "sql");
        assertTrue(sql.contains("DELETE FROM public.users WHERE id = '9'::integer;"), sql);
        assertTrue(sql.contains("UPDATE public.users SET plan = 'pro'::text WHERE id = '7'::integer;"), sql);
        assertTrue(sql.contains("INSERT INTO public.users (id, email, plan) VALUES ('20001'::integer"), sql);
        assertFalse(sql.contains("15000"), "development's own change is not reverted:\n" + sql);

        HttpResponse<String> api = server.api("GET", "/v1/projects/default/branches/dev%2Falex/data-diff?table=users", null, null);
        assertEquals(200, api.statusCode(), api.body());
        assertEquals(3, ServerProcess.parse(api.body()).path("databases").get(0).path("tables").get(0).path("source").size());
    }

    @Test
    @Order(2)
    void aReplacedRelationFileFallsBackToAFullCompareAndSaysSo() throws Exception {
        try (Connection alex = server.connect("dev/alex"); Statement sql = alex.createStatement()) {
            sql.execute("VACUUM FULL audit");
            sql.execute("INSERT INTO audit VALUES (101, 'after vacuum full')");
        }
        JsonNode audit = server.cliJson("diff", "dev/alex", "--data", "--table", "audit")
                .path("databases").get(0).path("tables").get(0);
        assertTrue(audit.path("read").path("full").asText().contains("its file was replaced"), audit.path("read").toString());
        assertEquals(1, audit.path("changes").size(), audit.toString());
        assertTrue(server.cliOk("diff", "dev/alex", "--data", "--table", "audit").contains("full compare: its file was replaced"));
    }

    @Test
    @Order(3)
    void selectiveRestoreBringsDeletedRowsBackInOneTransaction() throws Exception {
        Thread.sleep(1500);
        String before = Instant.now().toString();
        Thread.sleep(1500);
        try (Connection alex = server.connect("dev/alex"); Statement sql = alex.createStatement()) {
            sql.execute("DELETE FROM users WHERE id BETWEEN 100 AND 109");
            sql.execute("UPDATE users SET plan = 'gone' WHERE id = 110");
        }
        String against = "dev/alex@" + before;
        String plan = server.cliOk("diff", "dev/alex", "--data", "--against", against, "--table", "users", "--format", "sql");
        assertTrue(plan.contains("INSERT INTO public.users (id, email, plan) VALUES ('105'::integer"), plan);

        String dry = server.cliOk("diff", "dev/alex", "--data", "--against", against, "--table", "users", "--apply", "--dry-run");
        assertTrue(dry.contains("dry run: 11 statement(s) would run"), dry);
        try (Connection alex = server.connect("dev/alex"); Statement sql = alex.createStatement()) {
            assertEquals(0, queryLong(sql, "SELECT count(*) FROM users WHERE id BETWEEN 100 AND 109"), "a dry run changes nothing");
        }

        String done = server.cliOk("diff", "dev/alex", "--data", "--against", against, "--table", "users", "--apply");
        assertTrue(done.contains("restored: 11 statement(s)"), done);
        try (Connection alex = server.connect("dev/alex"); Statement sql = alex.createStatement()) {
            assertEquals(10, queryLong(sql, "SELECT count(*) FROM users WHERE id BETWEEN 100 AND 109"));
            assertEquals("free", queryString(sql, "SELECT plan FROM users WHERE id = 110"));
            assertEquals("pro", queryString(sql, "SELECT plan FROM users WHERE id = 7"), "earlier changes are kept");
        }
        assertTrue(server.cliJson("diff", "dev/alex", "--data", "--against", against, "--table", "users").path("identical").asBoolean());
    }
}

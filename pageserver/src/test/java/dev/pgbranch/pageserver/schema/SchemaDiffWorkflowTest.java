package dev.pgbranch.pageserver.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgbranch.pageserver.testing.PostgresCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reference workflow against a real Postgres: a branch adds a JSONB column and a GIN index
 * to {@code users}; the diff shows exactly those two objects, every format says so, and
 * promote makes the parent's schema equal without touching its rows.
 */
@Tag("integration")
class SchemaDiffWorkflowTest {

    private static PostgresCluster pg;
    private static int round;
    private String parent;
    private String branch;
    private String base;

    @BeforeAll
    static void startPostgres() throws SQLException {
        pg = PostgresCluster.start();
        pg.createDatabase("wf_template");
        pg.execute("wf_template", """
                CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text);
                CREATE TABLE posts (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), body text);
                INSERT INTO users (email, name) SELECT 'u' || g || '@example.com', 'user ' || g FROM generate_series(1, 100) g;
                """);
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    @BeforeEach
    void branchFromTemplate() throws SQLException {
        round++;
        parent = "wf_parent_" + round;
        branch = "wf_branch_" + round;
        base = "wf_base_" + round;
        pg.createDatabase(parent, "wf_template");
        pg.createDatabase(base, parent);
        pg.createDatabase(branch, parent);
        pg.execute(branch, """
                ALTER TABLE users ADD COLUMN preferences JSONB DEFAULT '{}';
                CREATE INDEX idx_users_preferences ON users USING GIN (preferences);
                """);
    }

    private ConnectionSource side(String db) {
        return ConnectionSource.jdbc(db, pg.jdbcUrl(db), pg.user(), null);
    }

    @Test
    void diffShowsExactlyTheAddedColumnAndIndex() {
        SchemaDiff diff = SchemaDiffer.compare(side(branch), side(parent));

        List<Change> changes = diff.changes();
        assertEquals(2, changes.size(), diff.render(DiffFormat.UNIFIED));
        Change column = changes.get(0);
        assertEquals(Change.Type.ADDED, column.type());
        assertEquals(new ObjectId(ObjectKind.COLUMN, List.of("public", "users", "preferences")), column.id());
        assertEquals("jsonb", column.after().get("type"));
        assertEquals("'{}'::jsonb", column.after().get("default"));
        Change index = changes.get(1);
        assertEquals(Change.Type.ADDED, index.type());
        assertEquals(new ObjectId(ObjectKind.INDEX, List.of("public", "idx_users_preferences")), index.id());
        assertEquals("CREATE INDEX idx_users_preferences ON public.users USING gin (preferences)", index.after().get("definition"));
    }

    @Test
    void everyFormatDescribesTheTwoAdditions() throws Exception {
        SchemaDiff diff = SchemaDiffer.compare(side(branch), side(parent));

        String sql = diff.render(DiffFormat.SQL);
        assertTrue(sql.contains("ALTER TABLE public.users ADD COLUMN preferences jsonb DEFAULT '{}'::jsonb;\n"), sql);
        assertTrue(sql.contains("CREATE INDEX idx_users_preferences ON public.users USING gin (preferences);\n"), sql);
        assertTrue(sql.indexOf("ADD COLUMN preferences") < sql.indexOf("CREATE INDEX"), "column before its index:\n" + sql);

        String unified = diff.render(DiffFormat.UNIFIED);
        assertTrue(unified.startsWith("--- " + parent + "\n+++ " + branch + "\n"), unified);
        assertTrue(unified.contains("@@ added column public.users.preferences @@\n+default: '{}'::jsonb\n+type: jsonb\n"), unified);

        String sideBySide = diff.render(DiffFormat.SIDE_BY_SIDE);
        assertTrue(sideBySide.contains("+ column public.users.preferences\n"), sideBySide);
        assertTrue(sideBySide.matches("(?s).*type\\s+\\|\\s+\\| jsonb\n.*"), sideBySide);

        JsonNode json = new ObjectMapper().readTree(diff.render(DiffFormat.JSON));
        assertEquals(2, json.get("changes").size());
        assertEquals("added", json.get("changes").get(0).get("change").asText());
        assertEquals("public.users.preferences", json.get("changes").get(0).get("object").asText());
        assertEquals("index", json.get("changes").get(1).get("kind").asText());
        assertFalse(json.get("identical").asBoolean());
        assertEquals(2, json.get("migration").size());
    }

    @Test
    void promoteMakesTheParentSchemaEqualAndKeepsItsRows() throws SQLException {
        PromoteResult result = Promoter.promote(side(branch), side(parent), side(base), Promoter.Options.defaults());

        assertTrue(result.applied());
        assertEquals(2, result.promoted().size());
        SchemaDiff after = SchemaDiffer.compare(side(branch), side(parent));
        assertTrue(after.isEmpty(), after.render(DiffFormat.UNIFIED));
        assertEquals(100, count(parent, "SELECT count(*) FROM users WHERE preferences = '{}'"));
    }

    @Test
    void promoteResultJsonNamesWhatWasApplied() throws Exception {
        PromoteResult result = Promoter.promote(side(branch), side(parent), side(base), Promoter.Options.defaults());

        JsonNode json = new ObjectMapper().readTree(result.toJson());
        assertTrue(json.get("applied").asBoolean());
        assertEquals(branch, json.get("branch").asText());
        assertEquals(List.of("public.users.preferences", "public.idx_users_preferences"),
                List.of(json.get("promoted").get(0).get("object").asText(), json.get("promoted").get(1).get("object").asText()));
        assertEquals("in_transaction", json.get("migration").get(0).get("phase").asText());
        assertTrue(json.get("sql").asText().startsWith("BEGIN;\n"));
    }

    @Test
    void promotingAnUnchangedBranchDoesNothing() {
        Promoter.promote(side(branch), side(parent), side(base), Promoter.Options.defaults());

        PromoteResult again = Promoter.promote(side(branch), side(parent), side(base), Promoter.Options.defaults());

        assertFalse(again.applied());
        assertTrue(again.migration().isEmpty());
        assertEquals("-- no schema changes\n", again.migration().toSql());
    }

    @Test
    void dryRunPlansTheMigrationButLeavesTheParentAlone() {
        PromoteResult result = Promoter.promote(side(branch), side(parent), side(base),
                new Promoter.Options(true, false, false, false));

        assertFalse(result.applied());
        assertEquals(2, result.migration().statements().size());
        assertEquals(2, SchemaDiffer.compare(side(branch), side(parent)).changes().size());
    }

    @Test
    void protectedParentIsRefusedUnlessForced() {
        SchemaException e = assertThrows(SchemaException.class, () -> Promoter.promote(side(branch), side(parent), side(base),
                new Promoter.Options(false, false, true, false)));
        assertEquals(SchemaException.Code.PROTECTED, e.code());
        assertEquals(2, SchemaDiffer.compare(side(branch), side(parent)).changes().size());

        PromoteResult forced = Promoter.promote(side(branch), side(parent), side(base), new Promoter.Options(false, true, true, false));
        assertTrue(forced.applied());
        assertTrue(SchemaDiffer.compare(side(branch), side(parent)).isEmpty());
    }

    @Test
    void concurrentIndexBuildRunsAfterTheTransaction() {
        PromoteResult result = Promoter.promote(side(branch), side(parent), side(base), new Promoter.Options(false, false, false, true));

        assertEquals(List.of("CREATE INDEX CONCURRENTLY idx_users_preferences ON public.users USING gin (preferences)"),
                result.migration().sql(MigrationStatement.Phase.AFTER_TRANSACTION));
        assertTrue(SchemaDiffer.compare(side(branch), side(parent)).isEmpty());
    }

    @Test
    void threeWayDiffSeparatesBranchAndParentChanges() throws SQLException {
        pg.execute(parent, "ALTER TABLE posts ADD COLUMN published boolean NOT NULL DEFAULT false");

        SchemaDiff diff = SchemaDiffer.compare(side(branch), side(parent), side(base));

        assertEquals(List.of("added column public.users.preferences", "added index public.idx_users_preferences"),
                diff.branchChanges().stream().map(c -> c.type().name().toLowerCase() + " " + c.id()).toList());
        assertEquals(List.of("added column public.posts.published"),
                diff.parentChanges().stream().map(c -> c.type().name().toLowerCase() + " " + c.id()).toList());
        assertTrue(diff.conflicts().isEmpty());
        String text = diff.render(DiffFormat.SIDE_BY_SIDE);
        assertTrue(text.contains("== changed on " + branch + " (2) =="), text);
        assertTrue(text.contains("== changed on " + parent + " since the branch point (1) =="), text);

        // Promote carries only the branch's changes: the parent's new column survives.
        Promoter.promote(side(branch), side(parent), side(base), Promoter.Options.defaults());
        SchemaDiff after = SchemaDiffer.compare(side(branch), side(parent), side(base));
        assertEquals(1, after.changes().size(), after.render(DiffFormat.UNIFIED));
        // Changes read target (parent) → source (branch): the branch lacks the parent's column.
        assertEquals(Change.Type.REMOVED, after.changes().get(0).type());
        assertEquals("published", after.changes().get(0).id().name());
    }

    @Test
    void unknownDatabaseIsAClearIntrospectionError() {
        SchemaException e = assertThrows(SchemaException.class,
                () -> SchemaDiffer.compare(side("no_such_db"), side(parent)));
        assertEquals(SchemaException.Code.INTROSPECTION_FAILED, e.code());
        assertTrue(e.getMessage().contains("no_such_db"), e.getMessage());
        assertEquals("3D000", e.sqlState());
        assertNotNull(DiffFormat.parse("side-by-side"));
        assertEquals(SchemaException.Code.BAD_REQUEST, assertThrows(SchemaException.class, () -> DiffFormat.parse("xml")).code());
    }

    private static long count(String db, String sql) throws SQLException {
        try (Connection c = pg.connect(db); ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}

package dev.pgbranch.pageserver.schema;

import dev.pgbranch.pageserver.testing.PostgresCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three-way conflicts against a real Postgres: base (parent at the branch point), branch and
 * parent are three databases copied from one template.
 */
@Tag("integration")
class SchemaConflictTest {

    private static PostgresCluster pg;
    private static int round;
    private String base;
    private String branch;
    private String parent;

    @BeforeAll
    static void startPostgres() throws SQLException {
        pg = PostgresCluster.start();
        pg.createDatabase("cf_template");
        pg.execute("cf_template", """
                CREATE TABLE users (id bigserial PRIMARY KEY, email varchar(100) NOT NULL, name text);
                CREATE TABLE posts (id bigserial PRIMARY KEY, user_id bigint REFERENCES users (id), title text);
                INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com');
                """);
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    @BeforeEach
    void threeCopies() throws SQLException {
        round++;
        base = "cf_base_" + round;
        branch = "cf_branch_" + round;
        parent = "cf_parent_" + round;
        pg.createDatabase(base, "cf_template");
        pg.createDatabase(branch, "cf_template");
        pg.createDatabase(parent, "cf_template");
    }

    private ConnectionSource side(String db) {
        return ConnectionSource.jdbc(db, pg.jdbcUrl(db), pg.user(), null);
    }

    @Test
    void sameColumnAlteredDifferentlyOnBothSidesIsAConflictAndPromoteRefuses() throws SQLException {
        pg.execute(branch, "ALTER TABLE users ALTER COLUMN email TYPE varchar(200)");
        pg.execute(parent, "ALTER TABLE users ALTER COLUMN email TYPE varchar(300)");

        SchemaDiff diff = SchemaDiffer.compare(side(branch), side(parent), side(base));

        assertEquals(1, diff.conflicts().size(), diff.render(DiffFormat.SIDE_BY_SIDE));
        Conflict c = diff.conflicts().get(0);
        assertEquals(new ObjectId(ObjectKind.COLUMN, List.of("public", "users", "email")), c.id());
        assertEquals("character varying(200)", c.onBranch().after().get("type"));
        assertEquals("character varying(300)", c.onParent().after().get("type"));
        assertTrue(diff.render(DiffFormat.SIDE_BY_SIDE).contains("== conflicts (1) ==\n! column public.users.email\n"));
        assertTrue(diff.render(DiffFormat.JSON).contains("\"conflicts\" : [ {"));

        SchemaException e = assertThrows(SchemaException.class,
                () -> Promoter.promote(side(branch), side(parent), side(base), Promoter.Options.defaults()));
        assertEquals(SchemaException.Code.CONFLICT, e.code());
        assertTrue(e.getMessage().contains("column public.users.email"), e.getMessage());
        // Refused means untouched.
        assertEquals("character varying(300)", SchemaDiffer.snapshot(side(parent))
                .get(ObjectId.of(ObjectKind.COLUMN, "public", "users", "email")).prop("type"));

        SchemaException dry = assertThrows(SchemaException.class, () -> Promoter.promote(side(branch), side(parent), side(base),
                new Promoter.Options(true, false, false, false)));
        assertEquals(SchemaException.Code.CONFLICT, dry.code());
    }

    @Test
    void forcedPromoteLetsTheBranchWinAndKeepsTheParentsOtherChanges() throws SQLException {
        pg.execute(branch, "ALTER TABLE users ALTER COLUMN email TYPE varchar(200); ALTER TABLE users ADD COLUMN bio text");
        pg.execute(parent, "ALTER TABLE users ALTER COLUMN email TYPE varchar(300); CREATE INDEX posts_title ON posts (title)");

        PromoteResult r = Promoter.promote(side(branch), side(parent), side(base), new Promoter.Options(false, true, false, false));

        assertTrue(r.applied());
        assertEquals(1, r.overridden().size());
        SchemaSnapshot after = SchemaDiffer.snapshot(side(parent));
        assertEquals("character varying(200)", after.get(ObjectId.of(ObjectKind.COLUMN, "public", "users", "email")).prop("type"));
        assertTrue(after.objects().containsKey(ObjectId.of(ObjectKind.COLUMN, "public", "users", "bio")));
        assertTrue(after.objects().containsKey(ObjectId.of(ObjectKind.INDEX, "public", "posts_title")), "parent's own index kept");
    }

    @Test
    void identicalChangesOnBothSidesAreNotAConflict() throws SQLException {
        pg.execute(branch, "ALTER TABLE users ALTER COLUMN name SET DEFAULT 'anonymous'");
        pg.execute(parent, "ALTER TABLE users ALTER COLUMN name SET DEFAULT 'anonymous'");

        SchemaDiff diff = SchemaDiffer.compare(side(branch), side(parent), side(base));

        assertTrue(diff.conflicts().isEmpty());
        assertEquals(1, diff.branchChanges().size());
        assertTrue(diff.isEmpty());
    }

    @Test
    void branchChangeToATableTheParentDroppedIsAConflict() throws SQLException {
        pg.execute(branch, "ALTER TABLE posts ADD COLUMN body text");
        pg.execute(parent, "DROP TABLE posts");

        SchemaDiff diff = SchemaDiffer.compare(side(branch), side(parent), side(base));

        assertEquals(List.of(ObjectId.of(ObjectKind.COLUMN, "public", "posts", "body")),
                diff.conflicts().stream().map(Conflict::id).toList(), diff.render(DiffFormat.UNIFIED));
        assertEquals(SchemaException.Code.CONFLICT, assertThrows(SchemaException.class,
                () -> Promoter.promote(side(branch), side(parent), side(base), Promoter.Options.defaults())).code());
    }

    @Test
    void lockedParentTableTimesOutCleanlyInsteadOfQueueing() throws SQLException {
        pg.execute(branch, "ALTER TABLE users ADD COLUMN bio text");
        try (Connection holder = pg.connect(parent); Statement s = holder.createStatement()) {
            holder.setAutoCommit(false);
            s.execute("LOCK TABLE users IN ACCESS SHARE MODE"); // a long report query, say

            SchemaException e = assertThrows(SchemaException.class, () -> Promoter.promote(side(branch), side(parent), side(base),
                    new Promoter.Options(false, false, false, false, Duration.ofMillis(300))));

            assertEquals(SchemaException.Code.APPLY_FAILED, e.code());
            assertEquals("55P03", e.sqlState());
            holder.rollback();
        }
        assertTrue(SchemaDiffer.compare(side(parent), side(base)).isEmpty(), "nothing applied");
    }

    @Test
    void failingStatementRollsBackTheWholePromote() throws SQLException {
        // The branch adds a unique constraint the parent's rows violate: the ADD CONSTRAINT
        // fails after the column was added, and nothing of the promote may remain.
        pg.execute(branch, "ALTER TABLE users ADD COLUMN nick text; ALTER TABLE users ADD CONSTRAINT users_name_key UNIQUE (name)");
        pg.execute(parent, "INSERT INTO users (email, name) VALUES ('c@example.com', 'dup'), ('d@example.com', 'dup')");

        SchemaException e = assertThrows(SchemaException.class,
                () -> Promoter.promote(side(branch), side(parent), side(base), Promoter.Options.defaults()));

        assertEquals(SchemaException.Code.APPLY_FAILED, e.code());
        assertEquals("23505", e.sqlState());
        SchemaDiff parentSinceBase = SchemaDiffer.compare(side(parent), side(base));
        assertTrue(parentSinceBase.isEmpty(), parentSinceBase.render(DiffFormat.UNIFIED));
    }
}

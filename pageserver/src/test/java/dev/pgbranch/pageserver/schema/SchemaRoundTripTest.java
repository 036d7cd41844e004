package dev.pgbranch.pageserver.schema;

import dev.pgbranch.pageserver.testing.PostgresCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Round-trip property of diff + migration against a real Postgres: for a schema change applied
 * to one copy of a rich schema, "diff → apply the migration to the other copy → diff" is empty,
 * in both directions (the change forward, and its undo). Every change is tried alone (so a
 * failure names it), then random combinations of two to four from seeded generators.
 *
 * <p>The base schema has every modelled kind, with rows, and dependencies between them
 * (a view and a materialized view over a column whose type changes, a foreign key to a
 * primary key that is dropped, a serial sequence, a default using a standalone sequence...).
 */
@Tag("integration")
class SchemaRoundTripTest {

    private static final String TEMPLATE = "rt_template";
    /** A read-only copy of the template: the source that undoes a change. */
    private static final String PRISTINE = "rt_pristine";

    private static final String BASE_SCHEMA = """
            CREATE ROLE rt_owner NOLOGIN;
            CREATE EXTENSION citext;
            CREATE SCHEMA app;
            CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
            CREATE TYPE app.address AS (street text, city text);
            CREATE SEQUENCE app.ticket_seq START 100 INCREMENT 5;
            CREATE DOMAIN app.positive AS numeric(10, 2) DEFAULT 1 CHECK (VALUE > 0);
            CREATE TABLE app.users (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                email citext NOT NULL UNIQUE,
                name text DEFAULT 'anon',
                mood app.mood DEFAULT 'sad',
                home app.address,
                score int CHECK (score >= 0),
                created timestamptz NOT NULL DEFAULT now(),
                name_len int GENERATED ALWAYS AS (length(name)) STORED);
            CREATE TABLE app.orders (
                id serial PRIMARY KEY,
                user_id bigint NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,
                ticket int DEFAULT nextval('app.ticket_seq'),
                amount numeric(10, 2) NOT NULL,
                during tstzrange,
                discount app.positive,
                EXCLUDE USING gist (during WITH &&));
            CREATE INDEX orders_user_idx ON app.orders (user_id);
            CREATE INDEX orders_big_idx ON app.orders (amount) WHERE amount > 100;
            CREATE VIEW app.user_orders AS
                SELECT u.id, u.email, u.name, count(o.id) AS n FROM app.users u LEFT JOIN app.orders o ON o.user_id = u.id
                GROUP BY u.id, u.email, u.name;
            CREATE MATERIALIZED VIEW app.order_totals AS SELECT user_id, sum(amount) AS total FROM app.orders GROUP BY user_id;
            CREATE UNIQUE INDEX order_totals_user ON app.order_totals (user_id);
            CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.created := now(); RETURN NEW; END$$;
            CREATE TRIGGER users_touch BEFORE UPDATE ON app.users FOR EACH ROW EXECUTE FUNCTION app.touch();
            CREATE TRIGGER score_guard BEFORE UPDATE OF score ON app.users FOR EACH ROW
                WHEN (OLD.score IS DISTINCT FROM NEW.score) EXECUTE FUNCTION app.touch();
            CREATE FUNCTION app.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
            CREATE PROCEDURE app.reset_scores() LANGUAGE sql AS $$UPDATE app.users SET score = 0$$;
            COMMENT ON TABLE app.users IS 'people';
            COMMENT ON COLUMN app.users.email IS 'login';
            INSERT INTO app.users (email, name, mood, score) SELECT 'u' || g || '@example.com', 'user ' || g,
                CASE WHEN g % 2 = 0 THEN 'sad' ELSE 'happy' END::app.mood, g FROM generate_series(1, 50) g;
            INSERT INTO app.orders (user_id, amount, discount) SELECT 1 + g % 50, g * 3.5, g FROM generate_series(1, 200) g;
            REFRESH MATERIALIZED VIEW app.order_totals;
            """;

    /** Schema changes a developer makes on a branch, each one statement group. */
    static final List<String> MUTATIONS = List.of(
            "ALTER TABLE app.users ADD COLUMN preferences jsonb DEFAULT '{}'",
            "CREATE INDEX users_name_idx ON app.users (lower(name)) WHERE name IS NOT NULL",
            "ALTER TABLE app.users DROP COLUMN score CASCADE",
            // A trigger's WHEN clause uses the column: it must be rebuilt around the type change.
            "DROP TRIGGER score_guard ON app.users; ALTER TABLE app.users ALTER COLUMN score TYPE bigint;"
                    + " CREATE TRIGGER score_guard BEFORE UPDATE OF score ON app.users FOR EACH ROW"
                    + " WHEN (OLD.score IS DISTINCT FROM NEW.score) EXECUTE FUNCTION app.touch()",
            "ALTER TABLE app.users ALTER COLUMN name DROP DEFAULT",
            "ALTER TABLE app.users ALTER COLUMN name SET NOT NULL",
            "ALTER TABLE app.orders DROP CONSTRAINT orders_user_id_fkey",
            "ALTER TABLE app.orders ADD CONSTRAINT amount_positive CHECK (amount > 0)",
            "DROP INDEX app.orders_big_idx",
            "DROP INDEX app.orders_big_idx; CREATE INDEX orders_big_idx ON app.orders USING btree (amount DESC) WHERE amount > 500",
            "CREATE OR REPLACE VIEW app.user_orders AS SELECT u.id, u.email, u.name, count(o.id) AS n, sum(o.amount) AS total"
                    + " FROM app.users u LEFT JOIN app.orders o ON o.user_id = u.id GROUP BY u.id, u.email, u.name",
            "DROP VIEW app.user_orders",
            "DROP MATERIALIZED VIEW app.order_totals",
            "CREATE MATERIALIZED VIEW app.mood_counts AS SELECT mood, count(*) AS n FROM app.users GROUP BY mood WITH NO DATA",
            "ALTER TYPE app.mood ADD VALUE 'ecstatic' AFTER 'happy'",
            "ALTER TYPE app.mood ADD VALUE 'meh' BEFORE 'ok'",
            // An enum losing a label: the real-world way, by swapping the type.
            "ALTER TABLE app.users ALTER COLUMN mood DROP DEFAULT; ALTER TYPE app.mood RENAME TO mood_old;"
                    + " CREATE TYPE app.mood AS ENUM ('sad', 'happy');"
                    + " ALTER TABLE app.users ALTER COLUMN mood TYPE app.mood USING mood::text::app.mood;"
                    + " ALTER TABLE app.users ALTER COLUMN mood SET DEFAULT 'happy'; DROP TYPE app.mood_old",
            "ALTER TYPE app.address ADD ATTRIBUTE zip text",
            "CREATE TYPE app.color AS ENUM ('red', 'green'); ALTER TABLE app.users ADD COLUMN color app.color DEFAULT 'red'",
            "CREATE TABLE app.audit (id bigserial PRIMARY KEY, user_id bigint REFERENCES app.users (id),"
                    + " at timestamptz DEFAULT now(), note text COLLATE \"C\"); COMMENT ON COLUMN app.audit.note IS 'free text'",
            "DROP TABLE app.orders CASCADE",
            "ALTER SEQUENCE app.ticket_seq INCREMENT BY 10 MAXVALUE 100000 CYCLE",
            "DROP FUNCTION app.add(int, int)",
            "CREATE OR REPLACE FUNCTION app.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT b + a'",
            "DROP FUNCTION app.add(int, int); CREATE FUNCTION app.add(a int, b int) RETURNS bigint LANGUAGE sql AS 'SELECT a::bigint + b'",
            "ALTER TABLE app.users DISABLE TRIGGER users_touch",
            "DROP TRIGGER users_touch ON app.users;"
                    + " CREATE TRIGGER users_touch BEFORE INSERT OR UPDATE ON app.users FOR EACH ROW EXECUTE FUNCTION app.touch()",
            "COMMENT ON TABLE app.users IS 'customers'; COMMENT ON COLUMN app.users.email IS NULL",
            "ALTER TABLE app.users ALTER COLUMN id SET GENERATED BY DEFAULT",
            // A column type change under a view: the developer drops and recreates the view.
            "DROP MATERIALIZED VIEW app.order_totals; ALTER TABLE app.orders ALTER COLUMN amount TYPE numeric(12, 2);"
                    + " CREATE MATERIALIZED VIEW app.order_totals AS SELECT user_id, sum(amount) AS total FROM app.orders GROUP BY user_id;"
                    + " CREATE UNIQUE INDEX order_totals_user ON app.order_totals (user_id)",
            "CREATE SCHEMA reporting; CREATE VIEW reporting.big_orders AS SELECT id, amount FROM app.orders WHERE amount > 100",
            "CREATE EXTENSION hstore; ALTER TABLE app.users ADD COLUMN attrs public.hstore",
            "ALTER TABLE app.users ALTER COLUMN name_len DROP EXPRESSION",
            "ALTER TABLE app.users DROP COLUMN name_len;"
                    + " ALTER TABLE app.users ADD COLUMN name_len int GENERATED ALWAYS AS (length(name) * 2) STORED",
            "ALTER TABLE app.orders ALTER COLUMN ticket SET DEFAULT 0; DROP SEQUENCE app.ticket_seq",
            "CREATE UNLOGGED TABLE app.cache (k text PRIMARY KEY, v jsonb) WITH (fillfactor = 70)",
            "ALTER TABLE app.orders SET (fillfactor = 80)",
            "CREATE PROCEDURE app.noop() LANGUAGE sql AS $$SELECT 1$$; COMMENT ON PROCEDURE app.noop() IS 'does nothing'",
            "ALTER TABLE app.users ADD CONSTRAINT users_name_key UNIQUE (name) DEFERRABLE INITIALLY DEFERRED",
            "ALTER TABLE app.users DROP CONSTRAINT users_pkey CASCADE",
            "ALTER TABLE app.users OWNER TO rt_owner; ALTER FUNCTION app.add(int, int) OWNER TO rt_owner",
            "ALTER VIEW app.user_orders SET (security_barrier = true)",
            "CREATE FUNCTION app.user_count() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM app.users; END",
            "DROP VIEW app.user_orders; ALTER TABLE app.users ALTER COLUMN email TYPE text;"
                    + " CREATE VIEW app.user_orders AS SELECT u.id, u.email, u.name, count(o.id) AS n FROM app.users u"
                    + " LEFT JOIN app.orders o ON o.user_id = u.id GROUP BY u.id, u.email, u.name",
            "ALTER TABLE app.users ALTER COLUMN created DROP NOT NULL; ALTER TABLE app.users ALTER COLUMN created SET DEFAULT clock_timestamp()",
            "CREATE SEQUENCE app.invoice_seq AS integer; ALTER TABLE app.orders ADD COLUMN invoice int DEFAULT nextval('app.invoice_seq');"
                    + " ALTER SEQUENCE app.invoice_seq OWNED BY app.orders.invoice",
            "ALTER TABLE app.orders ADD COLUMN code int GENERATED BY DEFAULT AS IDENTITY",
            "ALTER TABLE app.users ALTER COLUMN id DROP IDENTITY",
            "CREATE VIEW app.rich AS SELECT id, email FROM app.users WHERE score > 10 WITH LOCAL CHECK OPTION",
            "CREATE VIEW app.rich AS SELECT id, email, score FROM app.users WHERE score > 10;"
                    + " CREATE FUNCTION app.rich_insert() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;"
                    + " CREATE TRIGGER rich_insert INSTEAD OF INSERT ON app.rich FOR EACH ROW EXECUTE FUNCTION app.rich_insert()",
            "CREATE TRIGGER orders_touch AFTER INSERT ON app.orders FOR EACH STATEMENT EXECUTE FUNCTION app.touch();"
                    + " COMMENT ON TRIGGER orders_touch ON app.orders IS 'audit'",
            "ALTER TABLE app.orders DROP CONSTRAINT orders_during_excl;"
                    + " ALTER TABLE app.orders ADD CONSTRAINT orders_during_excl EXCLUDE USING gist (during WITH &&) WHERE (amount > 10)",
            "ALTER TYPE app.mood ADD VALUE 'furious' BEFORE 'sad'; ALTER TYPE app.mood ADD VALUE 'angry' AFTER 'furious'",
            "DROP FUNCTION app.add(int, int); CREATE FUNCTION app.add(x int, y int) RETURNS int LANGUAGE sql AS 'SELECT x + y'",
            "ALTER TABLE app.users ADD COLUMN \"order\" int, ADD COLUMN \"Mixed Case\" text;"
                    + " CREATE INDEX \"Users By Order\" ON app.users (\"order\", \"Mixed Case\")",
            "CREATE FUNCTION app.score_of(u app.users) RETURNS int LANGUAGE sql STABLE AS 'SELECT u.score';"
                    + " ALTER TABLE app.users ADD CONSTRAINT score_small CHECK (score < 100000)",
            "ALTER TABLE app.users ALTER COLUMN home TYPE text USING home::text",
            // A generated column and a view over the re-typed column.
            "DROP VIEW app.user_orders; ALTER TABLE app.users DROP COLUMN name_len;"
                    + " ALTER TABLE app.users ALTER COLUMN name TYPE varchar(300);"
                    + " ALTER TABLE app.users ADD COLUMN name_len int GENERATED ALWAYS AS (length(name)) STORED;"
                    + " CREATE VIEW app.user_orders AS SELECT u.id, u.email, u.name, count(o.id) AS n FROM app.users u"
                    + " LEFT JOIN app.orders o ON o.user_id = u.id GROUP BY u.id, u.email, u.name",
            "GRANT SELECT, INSERT ON app.users TO rt_owner; GRANT USAGE ON SCHEMA app TO PUBLIC;"
                    + " GRANT SELECT ON app.user_orders TO PUBLIC",
            "REVOKE EXECUTE ON FUNCTION app.add(int, int) FROM PUBLIC; GRANT EXECUTE ON FUNCTION app.add(int, int) TO rt_owner",
            "GRANT SELECT, UPDATE ON SEQUENCE app.ticket_seq TO rt_owner WITH GRANT OPTION; REVOKE TRUNCATE ON app.orders FROM postgres",
            "CREATE TABLE app.secret (k int); REVOKE ALL ON app.secret FROM postgres; GRANT SELECT ON app.secret TO rt_owner",
            "CREATE DOMAIN app.email_address AS text COLLATE \"C\" NOT NULL CHECK (VALUE LIKE '%@%');"
                    + " ALTER TABLE app.users ADD COLUMN backup app.email_address DEFAULT 'x@example.com'",
            "ALTER DOMAIN app.positive ADD CONSTRAINT positive_small CHECK (VALUE < 1000000); ALTER DOMAIN app.positive SET NOT NULL",
            "ALTER DOMAIN app.positive SET DEFAULT 5; ALTER DOMAIN app.positive DROP CONSTRAINT positive_check",
            "ALTER TABLE app.orders ALTER COLUMN discount TYPE numeric; DROP DOMAIN app.positive;"
                    + " CREATE DOMAIN app.positive AS numeric(12, 3) CHECK (VALUE > 0);"
                    + " ALTER TABLE app.orders ALTER COLUMN discount TYPE app.positive",
            "DROP SCHEMA app CASCADE");

    private static PostgresCluster pg;
    private static int round;

    @BeforeAll
    static void startPostgres() throws SQLException {
        pg = PostgresCluster.start();
        pg.createDatabase(TEMPLATE);
        pg.execute(TEMPLATE, BASE_SCHEMA);
        pg.createDatabase(PRISTINE, TEMPLATE);
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    static IntStream eachMutation() {
        return IntStream.range(0, MUTATIONS.size());
    }

    @ParameterizedTest(name = "mutation {0}")
    @MethodSource("eachMutation")
    void eachChangeRoundTripsBothWays(int mutation) throws SQLException {
        roundTrip(List.of(MUTATIONS.get(mutation)), true);
    }

    static Stream<Long> seeds() {
        return LongStream.rangeClosed(1, 12).boxed();
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomCombinationsRoundTripBothWays(long seed) throws SQLException {
        Random random = new Random(seed);
        int n = 2 + random.nextInt(3);
        List<String> picked = new ArrayList<>();
        while (picked.size() < n) {
            String m = MUTATIONS.get(random.nextInt(MUTATIONS.size() - 1)); // never DROP SCHEMA app in a combination
            if (!picked.contains(m)) {
                picked.add(m);
            }
        }
        roundTrip(picked, false);
    }

    static Stream<Long> threeWaySeeds() {
        return LongStream.rangeClosed(101, 112).boxed();
    }

    /**
     * Three-way promote: one random change on the branch, another on the parent, the template as
     * the base. Either the diff reports a conflict and promote refuses, or the promote fails on a
     * statement and leaves the parent exactly as it was, or it succeeds and then every object
     * the branch changed equals the branch's version while everything else keeps the parent's.
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("threeWaySeeds")
    void threeWayPromoteCarriesOnlyTheBranchChanges(long seed) throws SQLException {
        Random random = new Random(seed);
        String onBranch = MUTATIONS.get(random.nextInt(MUTATIONS.size() - 1));
        String onParent = MUTATIONS.get(random.nextInt(MUTATIONS.size() - 1));
        int r = ++round;
        String branch = "rt_branch_" + r;
        String parent = "rt_parent_" + r;
        pg.createDatabase(branch, TEMPLATE);
        pg.createDatabase(parent, TEMPLATE);
        try {
            pg.execute(branch, onBranch);
            if (!onParent.equals(onBranch)) {
                pg.execute(parent, onParent);
            }
            SchemaDiff before = SchemaDiffer.compare(side(branch), side(parent), side(PRISTINE));
            SchemaSnapshot parentBefore = before.target;
            String context = "branch: " + onBranch + "\nparent: " + onParent + "\n" + before.render(DiffFormat.UNIFIED);
            PromoteResult result;
            try {
                result = Promoter.promote(side(branch), side(parent), side(PRISTINE), Promoter.Options.defaults());
            } catch (SchemaException e) {
                if (e.code() == SchemaException.Code.CONFLICT) {
                    assertFalse(before.conflicts().isEmpty(), context);
                    System.out.println("seed " + seed + ": conflict " + before.conflicts());
                    return;
                }
                System.out.println("seed " + seed + ": refused " + e.getMessage());
                assertTrue(e.code() == SchemaException.Code.APPLY_FAILED, () -> e + "\n" + context);
                assertTrue(Change.between(parentBefore, SchemaDiffer.snapshot(side(parent))).isEmpty(),
                        "a failed promote must leave the parent unchanged\n" + context);
                return;
            }
            assertTrue(before.conflicts().isEmpty(), context);
            SchemaSnapshot parentAfter = SchemaDiffer.snapshot(side(parent));
            Set<ObjectId> branchChanged = new HashSet<>();
            for (Change c : before.branchChanges()) {
                branchChanged.add(c.id());
                DbObject want = before.source.get(c.id());
                DbObject got = parentAfter.get(c.id());
                assertTrue(want == null ? got == null : want.sameAs(got), () -> c.id() + " not promoted\n" + context
                        + "\n" + result.migration().toSql());
            }
            Set<ObjectId> all = new HashSet<>(parentBefore.objects().keySet());
            all.addAll(parentAfter.objects().keySet());
            for (ObjectId id : all) {
                DbObject was = parentBefore.get(id);
                DbObject is = parentAfter.get(id);
                if (!branchChanged.contains(id)) {
                    assertTrue(was == null ? is == null : was.sameAs(is), () -> "parent's " + id + " changed by promote\n" + context
                            + "\n" + result.migration().toSql());
                }
            }
            System.out.println("seed " + seed + ": promoted " + result.promoted().size() + " change(s)");
        } finally {
            pg.dropDatabase(branch);
            pg.dropDatabase(parent);
        }
    }

    /**
     * Applies {@code mutations} to copy A; promotes A into copy B (forward) and the pristine copy
     * into A (undo); after each, a fresh diff must be empty.
     */
    private void roundTrip(List<String> mutations, boolean mustApply) throws SQLException {
        int r = ++round;
        String a = "rt_a_" + r;
        String b = "rt_b_" + r;
        String c = PRISTINE;
        pg.createDatabase(a, TEMPLATE);
        pg.createDatabase(b, TEMPLATE);
        try {
            int applied = 0;
            try (Connection conn = pg.connect(a); Statement s = conn.createStatement()) {
                for (String m : mutations) {
                    try {
                        s.execute(m);
                        applied++;
                    } catch (SQLException e) {
                        // In a combination an earlier change may have removed what this one needs.
                        if (mustApply) {
                            throw e;
                        }
                    }
                }
            }
            PromoteResult forward = promoteAndCheck(a, b, mutations);
            if (applied > 0) {
                assertFalse(forward.diff().isEmpty(), "the change must be visible to the diff: " + mutations);
            }
            promoteAndCheck(c, a, mutations);
        } finally {
            pg.dropDatabase(a);
            pg.dropDatabase(b);
        }
    }

    /** Promote (diff + migration + apply) and an independent diff afterwards, which must be empty. */
    private PromoteResult promoteAndCheck(String source, String target, List<String> mutations) {
        PromoteResult result;
        try {
            result = Promoter.promote(side(source), side(target), null, Promoter.Options.defaults());
        } catch (SchemaException e) {
            SchemaDiff before = SchemaDiffer.compare(side(source), side(target));
            throw new AssertionError("promote " + source + " -> " + target + " failed for " + mutations + "\n" + e.getMessage()
                    + "\n-- diff:\n" + before.render(DiffFormat.UNIFIED) + "\n-- migration:\n" + before.migration().toSql(), e);
        }
        SchemaDiff after = SchemaDiffer.compare(side(source), side(target));
        assertTrue(after.isEmpty(), () -> "not equal after applying the migration for " + mutations + "\n-- remaining:\n"
                + after.render(DiffFormat.UNIFIED) + "\n-- migration was:\n" + result.migration().toSql());
        return result;
    }

    private static ConnectionSource side(String db) {
        return ConnectionSource.jdbc(db, pg.jdbcUrl(db), pg.user(), null);
    }
}

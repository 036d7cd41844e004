package dev.pgbranch.pageserver.review;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgbranch.pageserver.testing.PostgresCluster;
import dev.pgbranch.pageserver.testing.ServerProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The data diff reads only the pages changed since the branch point; its answer must still be
 * exactly a full compare's. Random inserts, updates and deletes on a branch and on its parent,
 * then {@code pgbranch diff --data} (three-way) against an oracle: both sides' (and the branch
 * point's) tables copied whole into a scratch Postgres and compared with {@code EXCEPT}.
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DataDiffPropertyTest {

    private static final int ROWS = 6000;
    private ServerProcess server;
    private PostgresCluster oracle;

    @BeforeAll
    void start() throws Exception {
        oracle = PostgresCluster.start();
        oracle.createDatabase("oracle");
        server = new ServerProcess("DataDiffPropertyTest");
        server.start();
        try (Connection dev = server.connect("development"); Statement sql = dev.createStatement()) {
            sql.execute("CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL, note text)");
            sql.execute("INSERT INTO items SELECT g, g % 97, repeat('x', g % 50) FROM generate_series(1, " + ROWS + ") g");
            sql.execute("CREATE TABLE tags (tag text, n int)"); // no primary key: rows compared whole, as a multiset
            sql.execute("INSERT INTO tags SELECT 'tag' || (g % 40), g % 3 FROM generate_series(1, 2000) g");
            // Sets the hint bits a first read would set on every page (a page write each: correct
            // for the diff, but every block would count as changed).
            sql.execute("VACUUM FREEZE items, tags");
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (oracle != null) {
            oracle.close();
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void theDiffOfChangedPagesEqualsAFullExceptCompare(long seed) throws Exception {
        String branch = "prop/" + seed;
        server.cliJson("branch", "create", branch, "--parent", "development");
        copy("development", "items", "base_items_" + seed);
        copy("development", "tags", "base_tags_" + seed);
        Random random = new Random(seed);
        mutate(branch, random, 60);
        mutate("development", random, 40);
        copy(branch, "items", "a_items_" + seed);
        copy("development", "items", "b_items_" + seed);
        copy(branch, "tags", "a_tags_" + seed);
        copy("development", "tags", "b_tags_" + seed);

        JsonNode diff = server.cliJson("diff", branch, "--data");
        assertTrue(diff.path("threeWay").asBoolean());
        JsonNode items = table(diff, "public.items");
        assertTrue(items.path("read").has("blocks"), "read by changed blocks: " + items.path("read"));
        long blocks = items.path("read").path("blocks").asLong();
        long tableBlocks = queryLong("development", "SELECT pg_relation_size('items') / 8192");
        assertTrue(blocks < tableBlocks, blocks + " of " + tableBlocks + " blocks read");

        assertEquals(except("a_items_" + seed, "b_items_" + seed), rowsOf(items.path("changes"), "after"), "source - target");
        assertEquals(except("b_items_" + seed, "a_items_" + seed), rowsOf(items.path("changes"), "before"), "target - source");
        assertEquals(except("a_items_" + seed, "base_items_" + seed), rowsOf(items.path("source"), "after"), "changed on the branch");
        assertEquals(except("base_items_" + seed, "a_items_" + seed), rowsOf(items.path("source"), "before"));
        assertEquals(except("b_items_" + seed, "base_items_" + seed), rowsOf(items.path("target"), "after"), "changed on the parent");
        assertEquals(except("base_items_" + seed, "b_items_" + seed), rowsOf(items.path("target"), "before"));

        JsonNode tags = table(diff, "public.tags");
        assertEquals(exceptAll("a_tags_" + seed, "b_tags_" + seed), rowsOf(tags.path("changes"), "after"), "whole rows, multiset");
        assertEquals(exceptAll("b_tags_" + seed, "a_tags_" + seed), rowsOf(tags.path("changes"), "before"));
        server.cliOk("branch", "delete", branch);
    }

    /** Random single-row inserts, updates and deletes (some of the same rows on both sides). */
    private void mutate(String branch, Random random, int operations) throws SQLException {
        try (Connection c = server.connect(branch); Statement s = c.createStatement()) {
            for (int i = 0; i < operations; i++) {
                int id = 1 + random.nextInt(ROWS + 200);
                switch (random.nextInt(4)) {
                    case 0 -> s.execute("INSERT INTO items VALUES (" + id + ", " + random.nextInt(1000) + ", 'new')"
                            + " ON CONFLICT (id) DO UPDATE SET v = excluded.v");
                    case 1 -> s.execute("UPDATE items SET v = " + random.nextInt(1000) + " WHERE id = " + id);
                    case 2 -> s.execute("DELETE FROM items WHERE id = " + id);
                    default -> {
                        if (random.nextBoolean()) {
                            s.execute("INSERT INTO tags VALUES ('tag" + random.nextInt(40) + "', " + random.nextInt(3) + ")");
                        } else {
                            s.execute("DELETE FROM tags WHERE ctid = (SELECT ctid FROM tags WHERE tag = 'tag"
                                    + random.nextInt(40) + "' LIMIT 1)");
                        }
                    }
                }
            }
        }
    }

    private void copy(String branch, String table, String into) throws SQLException {
        try (Connection from = server.connect(branch); Statement s = from.createStatement();
             Connection to = oracle.connect("oracle")) {
            boolean items = table.equals("items");
            try (Statement ddl = to.createStatement()) {
                ddl.execute(items ? "CREATE TABLE " + into + " (id int, v int, note text)" : "CREATE TABLE " + into + " (tag text, n int)");
            }
            to.setAutoCommit(false);
            try (ResultSet rs = s.executeQuery("SELECT * FROM " + table);
                 PreparedStatement ins = to.prepareStatement("INSERT INTO " + into + " VALUES (" + (items ? "?, ?, ?" : "?, ?") + ")")) {
                int columns = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    for (int i = 1; i <= columns; i++) {
                        ins.setObject(i, rs.getObject(i));
                    }
                    ins.addBatch();
                }
                ins.executeBatch();
            }
            to.commit();
        }
    }

    private TreeSet<String> except(String a, String b) throws SQLException {
        return query("SELECT id || '|' || v || '|' || coalesce(note, 'NULL') FROM (SELECT * FROM " + a + " EXCEPT SELECT * FROM "
                + b + ") x");
    }

    private TreeSet<String> exceptAll(String a, String b) throws SQLException {
        return query("SELECT tag || '|' || n || '#' || row_number() OVER (PARTITION BY tag, n) FROM (SELECT * FROM " + a
                + " EXCEPT ALL SELECT * FROM " + b + ") x");
    }

    private TreeSet<String> query(String sql) throws SQLException {
        TreeSet<String> out = new TreeSet<>();
        try (Connection c = oracle.connect("oracle"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** The rows of the diff's changes on one side, as the oracle writes them ({@code tags}: with an occurrence count). */
    private static TreeSet<String> rowsOf(JsonNode changes, String side) {
        TreeSet<String> out = new TreeSet<>();
        java.util.Map<String, Integer> seen = new java.util.HashMap<>();
        for (JsonNode c : changes) {
            JsonNode row = c.path(side);
            if (row.isNull() || row.isMissingNode()) {
                continue;
            }
            if (row.has("id")) {
                out.add(row.path("id").asText() + "|" + row.path("v").asText() + "|"
                        + (row.path("note").isNull() ? "NULL" : row.path("note").asText()));
            } else {
                String r = row.path("tag").asText() + "|" + row.path("n").asText();
                out.add(r + "#" + seen.merge(r, 1, Integer::sum));
            }
        }
        return out;
    }

    private static JsonNode table(JsonNode diff, String name) {
        for (JsonNode t : diff.path("databases").get(0).path("tables")) {
            if (t.path("table").asText().equals(name)) {
                return t;
            }
        }
        throw new AssertionError("no table " + name + " in " + diff);
    }

    private long queryLong(String branch, String sql) throws SQLException {
        try (Connection c = server.connect(branch); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}

package dev.pgbranch.pageserver.console;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SqlScriptTest {

    private static List<String> texts(String script) {
        return SqlScript.split(script).stream().map(SqlScript.Statement::sql).toList();
    }

    @Test
    void topLevelSemicolonsSplitAndEachStatementKeepsItsOffset() {
        String script = "SELECT 1;\n  SELECT 2 ;SELECT 3";
        assertEquals(List.of(new SqlScript.Statement("SELECT 1", 0), new SqlScript.Statement("SELECT 2", 12),
                new SqlScript.Statement("SELECT 3", 22)), SqlScript.split(script));
    }

    @Test
    void semicolonsInStringsIdentifiersCommentsAndDollarQuotesDoNotSplit() {
        assertEquals(List.of("SELECT 'a;b', E'c\\';d', \"x;y\"", "SELECT 2"),
                texts("SELECT 'a;b', E'c\\';d', \"x;y\"; SELECT 2"));
        assertEquals(List.of("SELECT 1 -- not; here\n + 1", "SELECT /* a; /* nested; */ b; */ 2"),
                texts("SELECT 1 -- not; here\n + 1; SELECT /* a; /* nested; */ b; */ 2;"));
        assertEquals(List.of("CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql", "SELECT $$;$$"),
                texts("CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql; SELECT $$;$$"));
        assertEquals(List.of("SELECT 'it''s; fine'"), texts("SELECT 'it''s; fine'"));
    }

    @Test
    void parametersAndIdentifiersWithDollarsAreNotQuotes() {
        assertEquals(List.of("PREPARE p AS SELECT $1", "SELECT a$b FROM t"), texts("PREPARE p AS SELECT $1; SELECT a$b FROM t"));
    }

    @Test
    void blankAndCommentOnlyPiecesAreNoStatements() {
        assertEquals(List.of(), texts(" ;; -- just a comment\n /* and this */ ;"));
        assertEquals(List.of("SELECT 1"), texts("SELECT 1; -- trailing comment"));
    }

    @Test
    void anUnterminatedQuoteRunsToTheEndAsOneStatementForPostgresToRefuse() {
        assertEquals(List.of("SELECT 'open; SELECT 2"), texts("SELECT 'open; SELECT 2"));
    }
}

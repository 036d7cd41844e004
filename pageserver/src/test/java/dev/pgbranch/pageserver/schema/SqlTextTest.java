package dev.pgbranch.pageserver.schema;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Pure text helpers and ordering: no database needed. */
class SqlTextTest {

    @Test
    void identifiersAreQuotedExactlyWhenPostgresWouldNeedIt() {
        assertEquals("users", Sql.ident("users"));
        assertEquals("\"Users\"", Sql.ident("Users"));
        assertEquals("\"order\"", Sql.ident("order"));
        assertEquals("\"int\"", Sql.ident("int"));
        assertEquals("\"a b\"", Sql.ident("a b"));
        assertEquals("\"say \"\"hi\"\"\"", Sql.ident("say \"hi\""));
        assertEquals("\"1st\"", Sql.ident("1st"));
        assertEquals("'it''s'", Sql.literal("it's"));
        assertEquals("NULL", Sql.literal(null));
    }

    @Test
    void enumLabelsSurviveFormatAndParseWithQuotesAndCommas() {
        List<String> labels = List.of("sad", "it's", "a, b", "", "''");
        assertEquals(labels, EnumLabels.parse(EnumLabels.format(labels)));
        assertEquals(List.of(), EnumLabels.parse(""));
    }

    @Test
    void dependenciesComeFirstAndTiesFollowKindOrder() {
        ObjectId table = ObjectId.of(ObjectKind.TABLE, "s", "t");
        ObjectId type = ObjectId.of(ObjectKind.ENUM_TYPE, "s", "e");
        ObjectId view = ObjectId.of(ObjectKind.VIEW, "s", "a_view");
        ObjectId fn = ObjectId.of(ObjectKind.FUNCTION, "s", "f", "");
        Map<ObjectId, DbObject> objects = new TreeMap<>();
        for (ObjectId id : List.of(table, type, view, fn)) {
            objects.put(id, DbObject.builder(id).build());
        }
        // The function depends on the view (a SQL-standard body): it must come after it,
        // although functions otherwise sort before tables and views.
        SchemaSnapshot graph = new SchemaSnapshot(new TreeMap<>(objects),
                Map.of(view, Set.of(table), fn, Set.of(view), table, Set.of(type)), "postgres");

        assertEquals(List.of(type, table, view, fn), MigrationPlanner.topologicalOrder(graph, id -> id));
    }

    @Test
    void formatNamesParseInAnySpelling() {
        assertEquals(DiffFormat.SIDE_BY_SIDE, DiffFormat.parse("side-by-side"));
        assertEquals(DiffFormat.SIDE_BY_SIDE, DiffFormat.parse("SIDE_BY_SIDE"));
        assertEquals(DiffFormat.SQL, DiffFormat.parse(" sql "));
    }
}

package dev.pgbranch.pageserver.schema;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads one database's schema from {@code pg_catalog} into a {@link SchemaSnapshot}.
 *
 * <p>Everything is read in one {@code REPEATABLE READ, READ ONLY} transaction with
 * {@code search_path} set to empty, so that {@code format_type} and the {@code pg_get_*def}
 * functions schema-qualify every non-builtin name: the text is then comparable across
 * databases and executable whatever the session's search path. When the caller's connection is
 * already inside a transaction (promote verifies inside its own transaction), that transaction
 * is used as is and only {@code search_path} is changed, with {@code SET LOCAL}.
 *
 * <p>Skipped: system schemas ({@code pg_catalog}, {@code information_schema}, {@code pg_toast},
 * temporary schemas), objects that belong to an extension ({@code pg_depend.deptype = 'e'}),
 * identity sequences (part of their column), indexes that implement a constraint, partitions
 * and inheritance children (not modelled, see {@link SchemaDiffer}).
 *
 * <p>Not thread-safe (uses the caller's connection); stateless between calls.
 */
final class CatalogReader {

    // Fixed OIDs of the system catalogs that pg_depend refers to (stable across major versions).
    private static final long PG_CLASS = 1259;
    private static final long PG_TYPE = 1247;
    private static final long PG_PROC = 1255;
    private static final long PG_NAMESPACE = 2615;
    private static final long PG_CONSTRAINT = 2606;
    private static final long PG_TRIGGER = 2620;
    private static final long PG_REWRITE = 2618;
    private static final long PG_ATTRDEF = 2604;
    private static final long PG_EXTENSION = 3079;

    private static final String USER_SCHEMA = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
            + " AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'";

    private static String notInExtension(String catalog, String oidExpr) {
        return " NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '" + catalog + "'::regclass"
                + " AND e.objid = " + oidExpr + " AND e.deptype = 'e')";
    }

    /** Catalog address of a row, as pg_depend names it. */
    private record Address(long classId, long objId, int subId) {
    }

    private final Map<ObjectId, DbObject.Builder> builders = new TreeMap<>();
    private final Map<Address, ObjectId> addresses = new HashMap<>();
    private final Map<ObjectId, Set<ObjectId>> edges = new HashMap<>();
    /** Tables, views and materialized views by OID: the owners of columns, constraints, indexes, triggers. */
    private final Map<Long, ObjectId> relations = new HashMap<>();

    private CatalogReader() {
    }

    /** Reads the schema visible on {@code connection}; leaves the connection as it found it. */
    static SchemaSnapshot read(Connection connection) throws SQLException {
        boolean ownTransaction = connection.getAutoCommit();
        int isolation = connection.getTransactionIsolation();
        boolean readOnly = connection.isReadOnly();
        if (ownTransaction) {
            connection.setAutoCommit(false);
            connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            connection.setReadOnly(true);
        }
        try {
            SchemaSnapshot snapshot = new CatalogReader().readAll(connection);
            if (ownTransaction) {
                connection.commit();
            }
            return snapshot;
        } catch (SQLException | RuntimeException e) {
            if (ownTransaction) {
                connection.rollback();
            }
            throw e;
        } finally {
            if (ownTransaction) {
                connection.setAutoCommit(true);
                connection.setReadOnly(readOnly);
                connection.setTransactionIsolation(isolation);
            }
        }
    }

    private SchemaSnapshot readAll(Connection c) throws SQLException {
        String currentUser;
        try (Statement s = c.createStatement()) {
            s.execute("SET LOCAL search_path = ''");
            try (ResultSet rs = s.executeQuery("SELECT current_user")) {
                rs.next();
                currentUser = rs.getString(1);
            }
            readSchemas(s);
            readExtensions(s);
            readTypes(s);
            readDomains(s);
            readSequences(s);
            readRelations(s);
            readColumns(s);
            readConstraints(s);
            readIndexes(s);
            readRoutines(s);
            readTriggers(s);
            readDependencies(s);
        }
        Map<ObjectId, DbObject> objects = new TreeMap<>();
        builders.forEach((id, b) -> objects.put(id, b.build()));
        // Implicit edges: a child depends on its parent (a column on its table, ...), except a
        // serial sequence, whose "parent" is the owning column that depends on it.
        for (DbObject o : objects.values()) {
            if (o.parent() != null && o.id().kind() != ObjectKind.SEQUENCE && objects.containsKey(o.parent())) {
                edges.computeIfAbsent(o.id(), k -> new HashSet<>()).add(o.parent());
            }
        }
        return new SchemaSnapshot(new TreeMap<>(objects), edges, currentUser);
    }

    private DbObject.Builder add(ObjectId id, Address... at) {
        DbObject.Builder b = DbObject.builder(id);
        builders.put(id, b);
        for (Address a : at) {
            addresses.put(a, id);
        }
        return b;
    }

    /**
     * SQL for an object's privileges, normalized: a NULL ACL (never granted or revoked) is
     * replaced by the built-in default for its owner, so "default" and "explicitly the default"
     * compare equal. Format: one {@code grantee=PRIVILEGE} line per privilege, {@code *} appended
     * when grantable, grantee quoted like an identifier or {@code PUBLIC}, lines sorted.
     */
    private static String privilegesCol(String acl, char type, String owner, String alias) {
        String entry = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END"
                + " || '=' || a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END";
        String agg = "(SELECT string_agg(" + entry + ", E'\\n' ORDER BY " + entry + ") FROM aclexplode(%s) a)";
        return agg.formatted("coalesce(" + acl + ", acldefault('" + type + "', " + owner + "))") + " AS " + alias + ", "
                + agg.formatted("acldefault('" + type + "', " + owner + ")") + " AS " + alias + "_default";
    }

    private static void privileges(DbObject.Builder b, ResultSet rs) throws SQLException {
        b.prop("privileges", rs.getString("privileges")).layout("default privileges", rs.getString("privileges_default"));
    }

    private static String ownerCol(String expr) {
        return "pg_get_userbyid(" + expr + ")";
    }

    private void readSchemas(Statement s) throws SQLException {
        String q = "SELECT n.oid, n.nspname, " + ownerCol("n.nspowner") + " AS owner,"
                + " " + privilegesCol("n.nspacl", 'n', "n.nspowner", "privileges") + ","
                + " obj_description(n.oid, 'pg_namespace') AS comment FROM pg_namespace n WHERE " + USER_SCHEMA
                + " AND" + notInExtension("pg_namespace", "n.oid");
        try (ResultSet rs = s.executeQuery(q)) {
            while (rs.next()) {
                DbObject.Builder b = add(ObjectId.of(ObjectKind.SCHEMA, rs.getString("nspname")), new Address(PG_NAMESPACE, rs.getLong("oid"), 0))
                        .prop("owner", rs.getString("owner"))
                        .prop("comment", rs.getString("comment"));
                privileges(b, rs);
            }
        }
    }

    private void readExtensions(Statement s) throws SQLException {
        String q = "SELECT x.oid, x.extname, n.nspname, x.extversion, obj_description(x.oid, 'pg_extension') AS comment"
                + " FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace";
        try (ResultSet rs = s.executeQuery(q)) {
            while (rs.next()) {
                add(ObjectId.of(ObjectKind.EXTENSION, rs.getString("extname")), new Address(PG_EXTENSION, rs.getLong("oid"), 0))
                        .prop("schema", rs.getString("nspname"))
                        .prop("version", rs.getString("extversion"))
                        .prop("comment", rs.getString("comment"));
            }
        }
    }

    private void readTypes(Statement s) throws SQLException {
        String q = "SELECT t.oid, t.typarray, t.typrelid, n.nspname, t.typname, t.typtype, " + ownerCol("t.typowner") + " AS owner,"
                + " obj_description(t.oid, 'pg_type') AS comment"
                + " FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
                + " WHERE " + USER_SCHEMA + " AND (t.typtype = 'e' OR (t.typtype = 'c'"
                + "   AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))"
                + " AND" + notInExtension("pg_type", "t.oid");
        Map<Long, DbObject.Builder> enums = new HashMap<>();
        Map<Long, DbObject.Builder> composites = new HashMap<>();
        try (ResultSet rs = s.executeQuery(q)) {
            while (rs.next()) {
                boolean isEnum = "e".equals(rs.getString("typtype"));
                ObjectId id = ObjectId.of(isEnum ? ObjectKind.ENUM_TYPE : ObjectKind.COMPOSITE_TYPE,
                        rs.getString("nspname"), rs.getString("typname"));
                DbObject.Builder b = add(id, new Address(PG_TYPE, rs.getLong("oid"), 0),
                        new Address(PG_TYPE, rs.getLong("typarray"), 0), new Address(PG_CLASS, rs.getLong("typrelid"), 0))
                        .prop("owner", rs.getString("owner"))
                        .prop("comment", rs.getString("comment"));
                (isEnum ? enums : composites).put(isEnum ? rs.getLong("oid") : rs.getLong("typrelid"), b);
            }
        }
        if (!enums.isEmpty()) {
            Map<Long, List<String>> labels = new HashMap<>();
            try (ResultSet rs = s.executeQuery("SELECT enumtypid, enumlabel FROM pg_enum ORDER BY enumtypid, enumsortorder")) {
                while (rs.next()) {
                    labels.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(rs.getString(2));
                }
            }
            enums.forEach((oid, b) -> b.prop("labels", EnumLabels.format(labels.getOrDefault(oid, List.of()))));
        }
        if (!composites.isEmpty()) {
            String aq = "SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type"
                    + " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                    + " WHERE c.relkind = 'c' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum";
            try (ResultSet rs = s.executeQuery(aq)) {
                while (rs.next()) {
                    DbObject.Builder b = composites.get(rs.getLong("attrelid"));
                    if (b != null) {
                        b.prop("attribute " + rs.getString("attname"), rs.getString("type"));
                        b.layout("position " + rs.getString("attname"), Integer.toString(rs.getInt("attnum")));
                    }
                }
            }
        }
    }

    private void readDomains(Statement s) throws SQLException {
        String q = "SELECT t.oid, t.typarray, n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod) AS base,"
                + " t.typnotnull, pg_get_expr(t.typdefaultbin, 0) AS def, " + ownerCol("t.typowner") + " AS owner,"
                + " obj_description(t.oid, 'pg_type') AS comment,"
                + " CASE WHEN t.typcollation <> b.typcollation THEN"
                + "   (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co"
                + "     JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation) END AS collation"
                + " FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_type b ON b.oid = t.typbasetype"
                + " WHERE t.typtype = 'd' AND " + USER_SCHEMA + " AND" + notInExtension("pg_type", "t.oid");
        Map<Long, ObjectId> domains = new HashMap<>();
        try (ResultSet rs = s.executeQuery(q)) {
            while (rs.next()) {
                ObjectId id = ObjectId.of(ObjectKind.DOMAIN, rs.getString("nspname"), rs.getString("typname"));
                add(id, new Address(PG_TYPE, rs.getLong("oid"), 0), new Address(PG_TYPE, rs.getLong("typarray"), 0))
                        .prop("type", rs.getString("base"))
                        .prop("collation", rs.getString("collation"))
                        .prop("default", rs.getString("def"))
                        .prop("not null", rs.getBoolean("typnotnull") ? "true" : null)
                        .prop("owner", rs.getString("owner"))
                        .prop("comment", rs.getString("comment"));
                domains.put(rs.getLong("oid"), id);
            }
        }
        if (domains.isEmpty()) {
            return;
        }
        String cq = "SELECT oid, contypid, conname, pg_get_constraintdef(oid, true) AS definition FROM pg_constraint"
                + " WHERE contypid <> 0 AND contype = 'c'";
        try (ResultSet rs = s.executeQuery(cq)) {
            while (rs.next()) {
                ObjectId domain = domains.get(rs.getLong("contypid"));
                if (domain != null) {
                    builders.get(domain).prop("constraint " + rs.getString("conname"), rs.getString("definition"));
                    addresses.put(new Address(PG_CONSTRAINT, rs.getLong("oid"), 0), domain);
                }
            }
        }
    }

    private void readSequences(Statement s) throws SQLException {
        String q = "SELECT c.oid, n.nspname, c.relname, format_type(q.seqtypid, NULL) AS type, q.seqstart, q.seqincrement,"
                + " q.seqmin, q.seqmax, q.seqcache, q.seqcycle, " + ownerCol("c.relowner") + " AS owner,"
                + " " + privilegesCol("c.relacl", 's', "c.relowner", "privileges") + ","
                + " obj_description(c.oid, 'pg_class') AS comment,"
                + " (SELECT array[dn.nspname, dc.relname, a.attname]::text[] FROM pg_depend d"
                + "    JOIN pg_class dc ON dc.oid = d.refobjid JOIN pg_namespace dn ON dn.oid = dc.relnamespace"
                + "    JOIN pg_attribute a ON a.attrelid = dc.oid AND a.attnum = d.refobjsubid"
                + "   WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass"
                + "     AND d.deptype = 'a' AND d.refobjsubid > 0 LIMIT 1) AS owned_by"
                + " FROM pg_sequence q JOIN pg_class c ON c.oid = q.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE " + USER_SCHEMA + " AND" + notInExtension("pg_class", "c.oid")
                + " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid"
                + "   AND d.deptype = 'i')";
        try (ResultSet rs = s.executeQuery(q)) {
            while (rs.next()) {
                ObjectId id = ObjectId.of(ObjectKind.SEQUENCE, rs.getString("nspname"), rs.getString("relname"));
                DbObject.Builder b = add(id, new Address(PG_CLASS, rs.getLong("oid"), 0))
                        .prop("type", rs.getString("type"))
                        .prop("start", rs.getString("seqstart"))
                        .prop("increment", rs.getString("seqincrement"))
                        .prop("minvalue", rs.getString("seqmin"))
                        .prop("maxvalue", rs.getString("seqmax"))
                        .prop("cache", rs.getString("seqcache"))
                        .prop("cycle", rs.getBoolean("seqcycle") ? "true" : "false")
                        .prop("owner", rs.getString("owner"))
                        .prop("comment", rs.getString("comment"));
                privileges(b, rs);
                java.sql.Array owned = rs.getArray("owned_by");
                if (owned != null) {
                    String[] p = (String[]) owned.getArray();
                    ObjectId column = ObjectId.of(ObjectKind.COLUMN, p);
                    b.parent(column).prop("owned by", column.displayName());
                }
            }
        }
    }

    private void readRelations(Statement s) throws SQLException {
        String q = "SELECT c.oid, c.reltype, c.relkind, c.relpersistence, c.relispopulated, n.nspname, c.relname,"
                + " " + ownerCol("c.relowner") + " AS owner, obj_description(c.oid, 'pg_class') AS comment,"
                + " " + privilegesCol("c.relacl", 'r', "c.relowner", "privileges") + ","
                + " array_to_string(c.reloptions, ', ') AS options,"
                + " CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS definition,"
                + " (SELECT r.oid FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename = '_RETURN') AS rule"
                + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE c.relkind IN ('r', 'v', 'm') AND NOT c.relispartition"
                + " AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)"
                + " AND " + USER_SCHEMA + " AND" + notInExtension("pg_class", "c.oid");
        try (ResultSet rs = s.executeQuery(q)) {
            while (rs.next()) {
                String relkind = rs.getString("relkind");
                ObjectKind kind = switch (relkind) {
                    case "r" -> ObjectKind.TABLE;
                    case "v" -> ObjectKind.VIEW;
                    default -> ObjectKind.MATERIALIZED_VIEW;
                };
                ObjectId id = ObjectId.of(kind, rs.getString("nspname"), rs.getString("relname"));
                long oid = rs.getLong("oid");
                DbObject.Builder b = add(id, new Address(PG_CLASS, oid, 0), new Address(PG_TYPE, rs.getLong("reltype"), 0),
                        new Address(PG_REWRITE, rs.getLong("rule"), 0))
                        .prop("owner", rs.getString("owner"))
                        .prop("comment", rs.getString("comment"));
                privileges(b, rs);
                String options = rs.getString("options");
                b.prop("options", options == null || options.isEmpty() ? null : options);
                if (kind == ObjectKind.TABLE) {
                    b.prop("unlogged", "u".equals(rs.getString("relpersistence")) ? "true" : null);
                } else {
                    b.prop("definition", stripSemicolon(rs.getString("definition")));
                    if (kind == ObjectKind.MATERIALIZED_VIEW) {
                        b.prop("populated", rs.getBoolean("relispopulated") ? "true" : "false");
                    }
                }
                relations.put(oid, id);
            }
        }
    }

    private static String stripSemicolon(String sql) {
        if (sql == null) {
            return null;
        }
        String t = sql.strip();
        return t.endsWith(";") ? t.substring(0, t.length() - 1) : t;
    }

    private void readColumns(Statement s) throws SQLException {
        String q = "SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,"
                + " a.attidentity, a.attgenerated, d.oid AS defoid, pg_get_expr(d.adbin, d.adrelid) AS expr,"
                + " CASE WHEN a.attcollation <> t.typcollation THEN"
                + "   (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co"
                + "     JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END AS collation,"
                + " col_description(a.attrelid, a.attnum) AS comment"
                + " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid"
                + " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                + " WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped";
        try (ResultSet rs = s.executeQuery(q)) {
            while (rs.next()) {
                ObjectId table = relations.get(rs.getLong("attrelid"));
                if (table == null || table.kind() != ObjectKind.TABLE) {
                    continue;
                }
                ObjectId id = ObjectId.of(ObjectKind.COLUMN, table.schema(), table.name(), rs.getString("attname"));
                long relid = rs.getLong("attrelid");
                DbObject.Builder b = add(id, new Address(PG_CLASS, relid, rs.getInt("attnum")),
                        new Address(PG_ATTRDEF, rs.getLong("defoid"), 0))
                        .parent(table)
                        .prop("type", rs.getString("type"))
                        .prop("collation", rs.getString("collation"))
                        .prop("not null", rs.getBoolean("attnotnull") ? "true" : null)
                        .prop("comment", rs.getString("comment"))
                        .layout("position", Integer.toString(rs.getInt("attnum")));
                String identity = rs.getString("attidentity");
                b.prop("identity", "a".equals(identity) ? "always" : "d".equals(identity) ? "by default" : null);
                if ("s".equals(rs.getString("attgenerated"))) {
                    b.prop("generated", rs.getString("expr"));
                } else {
                    b.prop("default", rs.getString("expr"));
                }
            }
        }
    }

    private void readConstraints(Statement s) throws SQLException {
        String q = "SELECT con.oid, con.conrelid, con.conname, con.contype, con.conindid,"
                + " pg_get_constraintdef(con.oid, true) AS definition, obj_description(con.oid, 'pg_constraint') AS comment"
                + " FROM pg_constraint con WHERE con.conrelid <> 0 AND con.contype IN ('p', 'u', 'f', 'c', 'x')"
                + " AND con.conislocal";
        try (ResultSet rs = s.executeQuery(q)) {
            while (rs.next()) {
                ObjectId table = relations.get(rs.getLong("conrelid"));
                if (table == null || table.kind() != ObjectKind.TABLE) {
                    continue;
                }
                String type = rs.getString("contype");
                ObjectId id = ObjectId.of(ObjectKind.CONSTRAINT, table.schema(), table.name(), rs.getString("conname"));
                List<Address> at = new ArrayList<>();
                at.add(new Address(PG_CONSTRAINT, rs.getLong("oid"), 0));
                if ("pux".contains(type)) {
                    // The implementing index is this constraint for dependency purposes: a
                    // foreign key depends on the referenced key's index.
                    at.add(new Address(PG_CLASS, rs.getLong("conindid"), 0));
                }
                add(id, at.toArray(Address[]::new))
                        .parent(table)
                        .prop("definition", rs.getString("definition"))
                        .prop("comment", rs.getString("comment"))
                        .layout("type", type);
            }
        }
    }

    private void readIndexes(Statement s) throws SQLException {
        String q = "SELECT i.indexrelid, i.indrelid, ic.relname, pg_get_indexdef(i.indexrelid) AS definition,"
                + " obj_description(i.indexrelid, 'pg_class') AS comment"
                + " FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid"
                + " WHERE NOT ic.relispartition AND NOT EXISTS (SELECT 1 FROM pg_constraint con"
                + "   WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))";
        try (ResultSet rs = s.executeQuery(q)) {
            while (rs.next()) {
                ObjectId table = relations.get(rs.getLong("indrelid"));
                if (table == null || (table.kind() != ObjectKind.TABLE && table.kind() != ObjectKind.MATERIALIZED_VIEW)) {
                    continue;
                }
                ObjectId id = ObjectId.of(ObjectKind.INDEX, table.schema(), rs.getString("relname"));
                add(id, new Address(PG_CLASS, rs.getLong("indexrelid"), 0))
                        .parent(table)
                        .prop("table", table.displayName())
                        .prop("definition", rs.getString("definition"))
                        .prop("comment", rs.getString("comment"));
            }
        }
    }

    private void readRoutines(Statement s) throws SQLException {
        String q = "SELECT p.oid, n.nspname, p.proname, p.prokind, oidvectortypes(p.proargtypes) AS ident,"
                + " pg_get_function_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS result,"
                + " pg_get_functiondef(p.oid) AS definition, " + ownerCol("p.proowner") + " AS owner,"
                + " " + privilegesCol("p.proacl", 'f', "p.proowner", "privileges") + ","
                + " obj_description(p.oid, 'pg_proc') AS comment"
                + " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                + " WHERE p.prokind IN ('f', 'p') AND " + USER_SCHEMA + " AND" + notInExtension("pg_proc", "p.oid");
        try (ResultSet rs = s.executeQuery(q)) {
            while (rs.next()) {
                ObjectKind kind = "p".equals(rs.getString("prokind")) ? ObjectKind.PROCEDURE : ObjectKind.FUNCTION;
                ObjectId id = ObjectId.of(kind, rs.getString("nspname"), rs.getString("proname"), rs.getString("ident"));
                DbObject.Builder b = add(id, new Address(PG_PROC, rs.getLong("oid"), 0))
                        .prop("arguments", rs.getString("args"))
                        .prop("result", rs.getString("result"))
                        .prop("definition", rs.getString("definition").strip())
                        .prop("owner", rs.getString("owner"))
                        .prop("comment", rs.getString("comment"));
                privileges(b, rs);
            }
        }
    }

    private void readTriggers(Statement s) throws SQLException {
        String q = "SELECT t.oid, t.tgrelid, t.tgname, t.tgenabled, pg_get_triggerdef(t.oid, true) AS definition,"
                + " obj_description(t.oid, 'pg_trigger') AS comment FROM pg_trigger t"
                + " WHERE NOT t.tgisinternal AND t.tgparentid = 0";
        try (ResultSet rs = s.executeQuery(q)) {
            while (rs.next()) {
                ObjectId relation = relations.get(rs.getLong("tgrelid"));
                if (relation == null) {
                    continue;
                }
                ObjectId id = ObjectId.of(ObjectKind.TRIGGER, relation.schema(), relation.name(), rs.getString("tgname"));
                String enabled = switch (rs.getString("tgenabled")) {
                    case "D" -> "disabled";
                    case "R" -> "replica";
                    case "A" -> "always";
                    default -> null;
                };
                add(id, new Address(PG_TRIGGER, rs.getLong("oid"), 0))
                        .parent(relation)
                        .prop("definition", rs.getString("definition"))
                        .prop("enabled", enabled)
                        .prop("comment", rs.getString("comment"));
            }
        }
    }

    private void readDependencies(Statement s) throws SQLException {
        // 16384 = FirstNormalObjectId: only user objects can be modelled on either end.
        String q = "SELECT classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype FROM pg_depend"
                + " WHERE deptype IN ('n', 'a', 'i') AND objid >= 16384 AND refobjid >= 16384";
        try (ResultSet rs = s.executeQuery(q)) {
            while (rs.next()) {
                ObjectId from = resolve(rs.getLong(1), rs.getLong(2), rs.getInt(3));
                ObjectId to = resolve(rs.getLong(4), rs.getLong(5), rs.getInt(6));
                if (from == null || to == null || from.equals(to)) {
                    continue;
                }
                // A serial sequence is "auto"-owned by its column while the column's default
                // uses the sequence: ownership is a property (written after both exist), the
                // default is the ordering edge.
                if (from.kind() == ObjectKind.SEQUENCE && to.kind() == ObjectKind.COLUMN) {
                    continue;
                }
                edges.computeIfAbsent(from, k -> new HashSet<>()).add(to);
            }
        }
    }

    private ObjectId resolve(long classId, long objId, int subId) {
        ObjectId id = addresses.get(new Address(classId, objId, subId));
        return id != null || subId == 0 ? id : addresses.get(new Address(classId, objId, 0));
    }
}

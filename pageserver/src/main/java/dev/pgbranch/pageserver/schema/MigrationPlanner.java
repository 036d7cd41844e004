package dev.pgbranch.pageserver.schema;

import dev.pgbranch.pageserver.schema.MigrationStatement.Phase;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Plans the DDL that turns the {@code current} schema into the {@code desired} one.
 *
 * <p>Statements are emitted in five groups, each ordered by dependencies:
 * <pre>
 *   1. before the transaction   ALTER TYPE ... ADD VALUE
 *   2. release                  column DROP DEFAULT / DROP IDENTITY, sequence OWNED BY NONE,
 *                               enum renamed aside: let go of what is about to be dropped
 *   3. drops                    dependents before what they depend on (current graph, reversed)
 *   4. builds                   creates and alters, dependencies first (desired graph)
 *   5. finish                   sequence OWNED BY, old enum types dropped
 * </pre>
 * Objects that cannot be altered in place (view text, index or constraint definition, a
 * function's signature, a generated expression) are <em>replaced</em>:
 * dropped in 3 and created in 4. Types that columns use (an enum losing a label, a domain
 * with a new base type) are <em>swapped</em> instead: renamed aside in 2, created in 4, columns
 * re-typed in 4, the old type dropped in 5. Every object that depends, in the current database, on
 * something dropped or re-typed is replaced too (a view on a column whose type changes), except
 * columns, which are never dropped for a dependency: their default is released and set again.
 * Children of a dropped object (a dropped table's columns, indexes, constraints, triggers; a
 * column's serial sequence) are dropped by Postgres and get no statement of their own; the
 * columns of a new table are written inline in its {@code CREATE TABLE}.
 *
 * <p>Single use, not thread-safe.
 */
final class MigrationPlanner {

    private static final String OLD_TYPE_SUFFIX = "__pgbranch_old";

    private final SchemaSnapshot current;
    private final SchemaSnapshot desired;
    private final boolean concurrentIndexes;

    private final List<String> beforeTx = new ArrayList<>();
    private final List<String> release = new ArrayList<>();
    private final Set<ObjectId> drops = new LinkedHashSet<>();
    private final Set<ObjectId> recreate = new LinkedHashSet<>();
    private final Map<ObjectId, List<String>> builds = new LinkedHashMap<>();
    private final List<String> finish = new ArrayList<>();
    private final List<String> afterTx = new ArrayList<>();
    /** Columns whose type changes (or whose enum type is swapped): their dependent views must be rebuilt. */
    private final Set<ObjectId> retyped = new LinkedHashSet<>();
    private final Set<ObjectId> defaultReset = new LinkedHashSet<>();
    /** Enum types renamed aside and created anew: what used the old one must be rebuilt. */
    private final Set<ObjectId> swapped = new LinkedHashSet<>();
    private Map<ObjectId, List<DbObject>> columnsByTable;

    private MigrationPlanner(SchemaSnapshot current, SchemaSnapshot desired, boolean concurrentIndexes) {
        this.current = current;
        this.desired = desired;
        this.concurrentIndexes = concurrentIndexes;
    }

    static Migration plan(SchemaSnapshot current, SchemaSnapshot desired, boolean concurrentIndexes) {
        return new MigrationPlanner(current, desired, concurrentIndexes).plan();
    }

    private Migration plan() {
        TreeSet<ObjectId> ids = new TreeSet<>(current.objects().keySet());
        ids.addAll(desired.objects().keySet());
        // Enum swaps first: they decide which columns are re-typed.
        for (ObjectId id : ids) {
            DbObject c = current.get(id);
            DbObject d = desired.get(id);
            if (id.kind() == ObjectKind.ENUM_TYPE && c != null && d != null && !c.sameAs(d)) {
                alterEnum(c, d);
            } else if (id.kind() == ObjectKind.DOMAIN && c != null && d != null && !c.sameAs(d)) {
                alterDomain(c, d);
            }
        }
        for (ObjectId id : ids) {
            DbObject c = current.get(id);
            DbObject d = desired.get(id);
            if (c == null) {
                if (!absorbed(d)) {
                    build(id).addAll(create(d));
                }
            } else if (d == null) {
                drops.add(id);
            } else if (id.kind() == ObjectKind.COLUMN && (!c.sameAs(d) || retyped.contains(id))) {
                alterColumn(c, d);
            } else if (id.kind() != ObjectKind.ENUM_TYPE && id.kind() != ObjectKind.DOMAIN && !c.sameAs(d)) {
                alter(c, d);
            }
        }
        closeOverDependents();
        return assemble();
    }

    // ---------------------------------------------------------------- closure

    private void closeOverDependents() {
        Map<ObjectId, Set<ObjectId>> dependents = current.dependents();
        Deque<ObjectId> work = new ArrayDeque<>(drops);
        work.addAll(retyped);
        work.addAll(swapped);
        Set<ObjectId> seen = new LinkedHashSet<>(work);
        while (!work.isEmpty()) {
            ObjectId disturbed = work.poll();
            // ALTER COLUMN ... TYPE rebuilds the column's indexes and constraints itself; views,
            // rules, triggers, routines and generated columns that use it must be rebuilt by us.
            boolean onlyRetyped = retyped.contains(disturbed) && !drops.contains(disturbed);
            for (ObjectId dep : dependents.getOrDefault(disturbed, Set.of())) {
                if (drops.contains(dep) || (onlyRetyped && (dep.kind() == ObjectKind.INDEX || dep.kind() == ObjectKind.CONSTRAINT))
                        || !seen.add(dep)) {
                    continue;
                }
                switch (dep.kind()) {
                    case COLUMN -> {
                        DbObject c = current.get(dep);
                        DbObject d = desired.get(dep);
                        if (c.prop("generated") != null && d != null && d.prop("generated") != null) {
                            replaceColumn(dep);
                            work.add(dep);
                        } else {
                            resetDefault(dep);
                        }
                    }
                    case TABLE, SCHEMA, EXTENSION, SEQUENCE, ENUM_TYPE, COMPOSITE_TYPE, DOMAIN -> {
                        // Containers: they do not stop existing because something they hold or
                        // use is rebuilt; their own diff (if any) is planned separately.
                    }
                    default -> {
                        if (desired.get(dep) != null) {
                            replace(dep);
                        } else {
                            drops.add(dep);
                        }
                        work.add(dep);
                    }
                }
            }
        }
    }

    /** A column's default uses something being dropped: release it first, set it again at the end. */
    private void resetDefault(ObjectId column) {
        DbObject c = current.get(column);
        DbObject d = desired.get(column);
        if (c == null || c.prop("default") == null || d == null || drops.contains(column) || !defaultReset.add(column)) {
            return;
        }
        if (!Objects.equals(c.prop("default"), d.prop("default")) || retyped.contains(column)) {
            return; // alterColumn already releases and sets it
        }
        release.add(alterColumnSql(column) + " DROP DEFAULT");
        build(column).add(alterColumnSql(column) + " SET DEFAULT " + d.prop("default"));
    }

    private void replace(ObjectId id) {
        drops.add(id);
        recreate.add(id);
        List<String> b = build(id);
        b.clear();
        b.addAll(create(desired.get(id)));
    }

    // ---------------------------------------------------------------- assembly

    private Migration assemble() {
        List<MigrationStatement> out = new ArrayList<>();
        beforeTx.forEach(s -> out.add(new MigrationStatement(s, Phase.BEFORE_TRANSACTION)));
        release.forEach(s -> out.add(new MigrationStatement(s, Phase.IN_TRANSACTION)));
        // Drops: only the top-most dropped object of each family gets a statement; its dropped
        // children's dependencies count as its own (a table holding a foreign key to another
        // dropped table goes first).
        List<ObjectId> dropOrder = topologicalOrder(current, this::dropRepresentative);
        for (int i = dropOrder.size() - 1; i >= 0; i--) {
            out.add(new MigrationStatement(dropSql(current.get(dropOrder.get(i))), Phase.IN_TRANSACTION));
        }
        for (ObjectId id : topologicalOrder(desired, this::buildRepresentative)) {
            for (String sql : builds.get(id)) {
                boolean concurrent = sql.startsWith("CREATE INDEX CONCURRENTLY ") || sql.startsWith("CREATE UNIQUE INDEX CONCURRENTLY ");
                out.add(new MigrationStatement(sql, concurrent ? Phase.AFTER_TRANSACTION : Phase.IN_TRANSACTION));
            }
        }
        finish.forEach(s -> out.add(new MigrationStatement(s, Phase.IN_TRANSACTION)));
        afterTx.forEach(s -> out.add(new MigrationStatement(s, Phase.AFTER_TRANSACTION)));
        return new Migration(out);
    }

    /** The object whose DROP statement removes {@code id}: its top-most dropped ancestor; null if not dropped. */
    private ObjectId dropRepresentative(ObjectId id) {
        if (!drops.contains(id)) {
            return null;
        }
        ObjectId rep = id;
        for (ObjectId p = current.get(id).parent(); p != null; ) {
            if (drops.contains(p)) {
                rep = p;
            }
            DbObject po = current.get(p);
            p = po == null ? null : po.parent();
        }
        return rep;
    }

    /** The object whose statements create {@code id}: itself, or a new table for its inline columns. */
    private ObjectId buildRepresentative(ObjectId id) {
        if (builds.containsKey(id)) {
            return id;
        }
        DbObject d = desired.get(id);
        return d != null && current.get(id) == null && absorbed(d) && builds.containsKey(d.parent()) ? d.parent() : null;
    }

    /** A new table's columns are written in its CREATE TABLE. */
    private boolean absorbed(DbObject d) {
        return d.id().kind() == ObjectKind.COLUMN && d.parent() != null && current.get(d.parent()) == null
                && desired.get(d.parent()) != null;
    }

    /**
     * Kahn's algorithm over {@code graph}'s edges, lifted to representatives: every object with a
     * representative stands for it (an inline column for its new table), the result holds the
     * distinct representatives, dependencies first. Ties (and cycles, which well-formed catalogs
     * do not have) are broken by kind order, then name.
     */
    static List<ObjectId> topologicalOrder(SchemaSnapshot graph, java.util.function.Function<ObjectId, ObjectId> representative) {
        Set<ObjectId> nodes = new TreeSet<>();
        Map<ObjectId, Set<ObjectId>> deps = new HashMap<>();
        for (ObjectId id : graph.objects().keySet()) {
            ObjectId rep = representative.apply(id);
            if (rep == null) {
                continue;
            }
            nodes.add(rep);
            for (ObjectId dep : graph.dependenciesOf(id)) {
                ObjectId depRep = representative.apply(dep);
                if (depRep != null && !depRep.equals(rep)) {
                    deps.computeIfAbsent(rep, k -> new HashSet<>()).add(depRep);
                }
            }
        }
        Map<ObjectId, Integer> pending = new HashMap<>();
        Map<ObjectId, List<ObjectId>> unlocks = new HashMap<>();
        for (ObjectId n : nodes) {
            Set<ObjectId> d = deps.getOrDefault(n, Set.of());
            pending.put(n, d.size());
            for (ObjectId dep : d) {
                unlocks.computeIfAbsent(dep, k -> new ArrayList<>()).add(n);
            }
        }
        PriorityQueue<ObjectId> ready = new PriorityQueue<>(Comparator.naturalOrder());
        pending.forEach((n, c) -> {
            if (c == 0) {
                ready.add(n);
            }
        });
        List<ObjectId> out = new ArrayList<>();
        TreeSet<ObjectId> left = new TreeSet<>(nodes);
        while (!left.isEmpty()) {
            ObjectId next = ready.isEmpty() ? left.first() : ready.poll();
            if (!left.remove(next)) {
                continue;
            }
            out.add(next);
            for (ObjectId u : unlocks.getOrDefault(next, List.of())) {
                if (pending.merge(u, -1, Integer::sum) == 0 && left.contains(u)) {
                    ready.add(u);
                }
            }
        }
        return out;
    }

    private List<String> build(ObjectId id) {
        return builds.computeIfAbsent(id, k -> new ArrayList<>());
    }

    // ---------------------------------------------------------------- create / drop

    private List<String> create(DbObject d) {
        ObjectId id = d.id();
        List<String> s = new ArrayList<>();
        switch (id.kind()) {
            case SCHEMA -> s.add("CREATE SCHEMA " + id.sqlName());
            case EXTENSION -> s.add("CREATE EXTENSION " + id.sqlName() + " WITH SCHEMA " + Sql.ident(d.prop("schema"))
                    + " VERSION " + Sql.literal(d.prop("version")));
            case ENUM_TYPE -> s.add("CREATE TYPE " + id.sqlName() + " AS ENUM (" + d.prop("labels") + ")");
            case COMPOSITE_TYPE -> s.add("CREATE TYPE " + id.sqlName() + " AS (" + String.join(", ", attributes(d)) + ")");
            case DOMAIN -> s.add(createDomainSql(d));
            case SEQUENCE -> {
                s.add("CREATE SEQUENCE " + id.sqlName() + " AS " + d.prop("type") + " INCREMENT BY " + d.prop("increment")
                        + " MINVALUE " + d.prop("minvalue") + " MAXVALUE " + d.prop("maxvalue") + " START WITH " + d.prop("start")
                        + " CACHE " + d.prop("cache") + ("true".equals(d.prop("cycle")) ? " CYCLE" : " NO CYCLE"));
                if (d.prop("owned by") != null) {
                    finish.add("ALTER SEQUENCE " + id.sqlName() + " OWNED BY " + ownedBySql(d));
                }
            }
            case FUNCTION, PROCEDURE -> s.add(d.prop("definition"));
            case TABLE -> {
                List<String> cols = new ArrayList<>();
                List<DbObject> columns = columnsOf(id);
                for (DbObject col : columns) {
                    cols.add(columnDefinition(col));
                }
                s.add("CREATE " + ("true".equals(d.prop("unlogged")) ? "UNLOGGED " : "") + "TABLE " + id.sqlName()
                        + " (" + String.join(", ", cols) + ")" + (d.prop("options") != null ? " WITH (" + d.prop("options") + ")" : ""));
                for (DbObject col : columns) {
                    if (col.prop("comment") != null) {
                        s.add(commentSql(col.id(), col.prop("comment")));
                    }
                }
            }
            case COLUMN -> s.add("ALTER TABLE " + id.sqlTable() + " ADD COLUMN " + columnDefinition(d));
            case CONSTRAINT -> s.add("ALTER TABLE " + id.sqlTable() + " ADD CONSTRAINT " + id.sqlName() + " " + d.prop("definition"));
            case INDEX -> {
                String def = d.prop("definition");
                boolean onExistingTable = d.parent() != null && current.get(d.parent()) != null && !recreate.contains(d.parent());
                if (concurrentIndexes && onExistingTable) {
                    def = def.replaceFirst("^CREATE (UNIQUE )?INDEX ", "CREATE $1INDEX CONCURRENTLY ");
                }
                s.add(def);
            }
            case VIEW -> s.add("CREATE VIEW " + id.sqlName() + withOptions(d) + " AS\n" + d.prop("definition"));
            case MATERIALIZED_VIEW -> s.add("CREATE MATERIALIZED VIEW " + id.sqlName() + withOptions(d) + " AS\n"
                    + d.prop("definition") + ("false".equals(d.prop("populated")) ? "\nWITH NO DATA" : "\nWITH DATA"));
            case TRIGGER -> {
                s.add(d.prop("definition"));
                if (d.prop("enabled") != null) {
                    s.add(triggerEnableSql(d));
                }
            }
        }
        if (d.prop("owner") != null && id.kind() != ObjectKind.EXTENSION && !d.prop("owner").equals(current.currentUser())) {
            s.add(ownerSql(id, d.prop("owner")));
        }
        if (d.prop("comment") != null) {
            s.add(commentSql(id, d.prop("comment")));
        }
        if (d.prop("privileges") != null) {
            // A new object starts with the built-in default ACL of its owner.
            s.addAll(privilegeSql(id, lines(d.layout().get("default privileges")), lines(d.prop("privileges"))));
        }
        return s;
    }

    private static Set<String> lines(String text) {
        Set<String> out = new TreeSet<>();
        if (text != null && !text.isEmpty()) {
            out.addAll(List.of(text.split("\n")));
        }
        return out;
    }

    /**
     * GRANT/REVOKE that turn the ACL {@code have} into {@code want}; entries are
     * {@code grantee=PRIVILEGE} with {@code *} for the grant option (see CatalogReader).
     */
    private static List<String> privilegeSql(ObjectId id, Set<String> have, Set<String> want) {
        String on = switch (id.kind()) {
            case TABLE, VIEW, MATERIALIZED_VIEW -> "TABLE ";
            default -> id.kind().sqlKeyword() + " ";
        } + id.sqlName();
        Map<String, Boolean> haveGrants = grants(have);
        Map<String, Boolean> wantGrants = grants(want);
        List<String> out = new ArrayList<>();
        haveGrants.forEach((key, grantable) -> {
            String[] gp = key.split("=", 2);
            Boolean wanted = wantGrants.get(key);
            if (wanted == null) {
                out.add("REVOKE " + gp[1] + " ON " + on + " FROM " + gp[0]);
            } else if (grantable && !wanted) {
                out.add("REVOKE GRANT OPTION FOR " + gp[1] + " ON " + on + " FROM " + gp[0]);
            }
        });
        wantGrants.forEach((key, grantable) -> {
            String[] gp = key.split("=", 2);
            Boolean had = haveGrants.get(key);
            if (had == null || (grantable && !had)) {
                out.add("GRANT " + gp[1] + " ON " + on + " TO " + gp[0] + (grantable ? " WITH GRANT OPTION" : ""));
            }
        });
        return out;
    }

    /** {@code grantee=PRIVILEGE} → grantable; the grantee part may itself contain '=' when quoted. */
    private static Map<String, Boolean> grants(Set<String> entries) {
        Map<String, Boolean> out = new TreeMap<>();
        for (String e : entries) {
            boolean grantable = e.endsWith("*");
            String key = grantable ? e.substring(0, e.length() - 1) : e;
            int eq = key.lastIndexOf('=');
            out.put(key.substring(0, eq) + "=" + key.substring(eq + 1), grantable);
        }
        return out;
    }

    /** Desired columns of a table in their attribute order; the index is built on first use. */
    private List<DbObject> columnsOf(ObjectId table) {
        if (columnsByTable == null) {
            columnsByTable = new HashMap<>();
            for (DbObject o : desired.objects().values()) {
                if (o.id().kind() == ObjectKind.COLUMN && o.parent() != null) {
                    columnsByTable.computeIfAbsent(o.parent(), k -> new ArrayList<>()).add(o);
                }
            }
            columnsByTable.values().forEach(cols ->
                    cols.sort(Comparator.comparingInt(o -> Integer.parseInt(o.layout().getOrDefault("position", "0")))));
        }
        return columnsByTable.getOrDefault(table, List.of());
    }

    private static String withOptions(DbObject d) {
        return d.prop("options") == null ? "" : " WITH (" + d.prop("options") + ")";
    }

    private static List<String> attributes(DbObject d) {
        List<Map.Entry<String, String>> attrs = new ArrayList<>();
        d.props().forEach((k, v) -> {
            if (k.startsWith("attribute ")) {
                attrs.add(Map.entry(k.substring("attribute ".length()), v));
            }
        });
        attrs.sort(Comparator.comparingInt(e -> Integer.parseInt(d.layout().getOrDefault("position " + e.getKey(), "0"))));
        return attrs.stream().map(e -> Sql.ident(e.getKey()) + " " + e.getValue()).toList();
    }

    private static String columnDefinition(DbObject col) {
        StringBuilder sb = new StringBuilder(Sql.ident(col.id().name())).append(' ').append(col.prop("type"));
        if (col.prop("collation") != null) {
            sb.append(" COLLATE ").append(col.prop("collation"));
        }
        if (col.prop("generated") != null) {
            sb.append(" GENERATED ALWAYS AS (").append(col.prop("generated")).append(") STORED");
        }
        if (col.prop("default") != null) {
            sb.append(" DEFAULT ").append(col.prop("default"));
        }
        if (col.prop("not null") != null) {
            sb.append(" NOT NULL");
        }
        if (col.prop("identity") != null) {
            sb.append(" GENERATED ").append(col.prop("identity").toUpperCase(java.util.Locale.ROOT)).append(" AS IDENTITY");
        }
        return sb.toString();
    }

    private static String dropSql(DbObject c) {
        ObjectId id = c.id();
        return switch (id.kind()) {
            case COLUMN -> "ALTER TABLE " + id.sqlTable() + " DROP COLUMN " + id.sqlName();
            case CONSTRAINT -> "ALTER TABLE " + id.sqlTable() + " DROP CONSTRAINT " + id.sqlName();
            case TRIGGER -> "DROP TRIGGER " + id.sqlName() + " ON " + id.sqlTable();
            default -> "DROP " + id.kind().sqlKeyword() + " " + id.sqlName();
        };
    }

    private static String ownedBySql(DbObject seq) {
        ObjectId col = seq.parent();
        return col.sqlTable() + "." + Sql.ident(col.name());
    }

    private static String ownerSql(ObjectId id, String owner) {
        return "ALTER " + id.kind().sqlKeyword() + " " + id.sqlName() + " OWNER TO " + Sql.ident(owner);
    }

    private static String commentSql(ObjectId id, String comment) {
        String target = switch (id.kind()) {
            case COLUMN -> "COLUMN " + id.sqlTable() + "." + id.sqlName();
            case CONSTRAINT, TRIGGER -> id.kind().sqlKeyword() + " " + id.sqlName() + " ON " + id.sqlTable();
            default -> id.kind().sqlKeyword() + " " + id.sqlName();
        };
        return "COMMENT ON " + target + " IS " + Sql.literal(comment);
    }

    private static String triggerEnableSql(DbObject t) {
        String mode = t.prop("enabled");
        String verb = mode == null ? "ENABLE" : switch (mode) {
            case "disabled" -> "DISABLE";
            case "replica" -> "ENABLE REPLICA";
            case "always" -> "ENABLE ALWAYS";
            default -> "ENABLE";
        };
        return "ALTER TABLE " + t.id().sqlTable() + " " + verb + " TRIGGER " + t.id().sqlName();
    }

    private static String alterColumnSql(ObjectId column) {
        return "ALTER TABLE " + column.sqlTable() + " ALTER COLUMN " + column.sqlName();
    }

    // ---------------------------------------------------------------- alters

    /** Owner and comment, which every kind alters the same way. */
    private void alterCommon(DbObject c, DbObject d, List<String> out) {
        ObjectId id = d.id();
        if (!Objects.equals(c.prop("owner"), d.prop("owner")) && d.prop("owner") != null && id.kind() != ObjectKind.EXTENSION) {
            out.add(ownerSql(id, d.prop("owner")));
        }
        if (!Objects.equals(c.prop("comment"), d.prop("comment"))) {
            out.add(commentSql(id, d.prop("comment")));
        }
        if (d.prop("privileges") != null && !Objects.equals(c.prop("privileges"), d.prop("privileges"))) {
            // ALTER ... OWNER TO hands the old owner's entries to the new owner: start from that.
            Set<String> have = lines(c.prop("privileges"));
            if (!Objects.equals(c.prop("owner"), d.prop("owner")) && c.prop("owner") != null && d.prop("owner") != null) {
                String from = Sql.ident(c.prop("owner")) + "=";
                String to = Sql.ident(d.prop("owner")) + "=";
                Set<String> moved = new TreeSet<>();
                for (String e : have) {
                    moved.add(e.startsWith(from) ? to + e.substring(from.length()) : e);
                }
                have = moved;
            }
            out.addAll(privilegeSql(id, have, lines(d.prop("privileges"))));
        }
    }

    private boolean differs(DbObject c, DbObject d, String... keys) {
        for (String k : keys) {
            if (!Objects.equals(c.prop(k), d.prop(k))) {
                return true;
            }
        }
        return false;
    }

    private void alter(DbObject c, DbObject d) {
        ObjectId id = d.id();
        List<String> out = new ArrayList<>();
        switch (id.kind()) {
            case EXTENSION -> {
                if (differs(c, d, "schema")) {
                    out.add("ALTER EXTENSION " + id.sqlName() + " SET SCHEMA " + Sql.ident(d.prop("schema")));
                }
                if (differs(c, d, "version")) {
                    out.add("ALTER EXTENSION " + id.sqlName() + " UPDATE TO " + Sql.literal(d.prop("version")));
                }
            }
            case COMPOSITE_TYPE -> {
                List<String> actions = new ArrayList<>();
                TreeSet<String> keys = new TreeSet<>(c.props().keySet());
                keys.addAll(d.props().keySet());
                for (String k : keys) {
                    if (!k.startsWith("attribute ") || Objects.equals(c.prop(k), d.prop(k))) {
                        continue;
                    }
                    String attr = Sql.ident(k.substring("attribute ".length()));
                    if (d.prop(k) == null) {
                        actions.add("DROP ATTRIBUTE " + attr);
                    } else if (c.prop(k) == null) {
                        actions.add("ADD ATTRIBUTE " + attr + " " + d.prop(k));
                    } else {
                        actions.add("ALTER ATTRIBUTE " + attr + " TYPE " + d.prop(k));
                    }
                }
                if (!actions.isEmpty()) {
                    out.add("ALTER TYPE " + id.sqlName() + " " + String.join(", ", actions));
                }
            }
            case SEQUENCE -> {
                StringBuilder sb = new StringBuilder();
                if (differs(c, d, "type")) {
                    sb.append(" AS ").append(d.prop("type"));
                }
                if (differs(c, d, "increment")) {
                    sb.append(" INCREMENT BY ").append(d.prop("increment"));
                }
                if (differs(c, d, "type", "minvalue")) {
                    sb.append(" MINVALUE ").append(d.prop("minvalue"));
                }
                if (differs(c, d, "type", "maxvalue")) {
                    sb.append(" MAXVALUE ").append(d.prop("maxvalue"));
                }
                if (differs(c, d, "start")) {
                    sb.append(" START WITH ").append(d.prop("start"));
                }
                if (differs(c, d, "cache")) {
                    sb.append(" CACHE ").append(d.prop("cache"));
                }
                if (differs(c, d, "cycle")) {
                    sb.append("true".equals(d.prop("cycle")) ? " CYCLE" : " NO CYCLE");
                }
                if (!sb.isEmpty()) {
                    out.add("ALTER SEQUENCE " + id.sqlName() + sb);
                }
                if (differs(c, d, "owned by")) {
                    if (c.prop("owned by") != null) {
                        release.add("ALTER SEQUENCE " + id.sqlName() + " OWNED BY NONE");
                    }
                    if (d.prop("owned by") != null) {
                        finish.add("ALTER SEQUENCE " + id.sqlName() + " OWNED BY " + ownedBySql(d));
                    }
                }
            }
            case FUNCTION, PROCEDURE -> {
                if (differs(c, d, "arguments", "result")) {
                    replace(id);
                    return;
                }
                if (differs(c, d, "definition")) {
                    out.add(d.prop("definition"));
                }
            }
            case TABLE -> {
                if (differs(c, d, "unlogged")) {
                    out.add("ALTER TABLE " + id.sqlName() + ("true".equals(d.prop("unlogged")) ? " SET UNLOGGED" : " SET LOGGED"));
                }
                if (differs(c, d, "options")) {
                    if (c.prop("options") != null) {
                        List<String> names = new ArrayList<>();
                        for (String opt : c.prop("options").split(", ")) {
                            names.add(opt.substring(0, opt.indexOf('=')));
                        }
                        out.add("ALTER TABLE " + id.sqlName() + " RESET (" + String.join(", ", names) + ")");
                    }
                    if (d.prop("options") != null) {
                        out.add("ALTER TABLE " + id.sqlName() + " SET (" + d.prop("options") + ")");
                    }
                }
            }
            case CONSTRAINT, INDEX -> {
                if (differs(c, d, "definition", "table")) {
                    replace(id);
                    return;
                }
            }
            case VIEW -> {
                if (differs(c, d, "definition", "options")) {
                    replace(id);
                    return;
                }
            }
            case MATERIALIZED_VIEW -> {
                if (differs(c, d, "definition", "options")) {
                    replace(id);
                    return;
                }
                if (differs(c, d, "populated")) {
                    out.add("REFRESH MATERIALIZED VIEW " + id.sqlName() + ("false".equals(d.prop("populated")) ? " WITH NO DATA" : ""));
                }
            }
            case TRIGGER -> {
                if (differs(c, d, "definition")) {
                    replace(id);
                    return;
                }
                if (differs(c, d, "enabled")) {
                    out.add(triggerEnableSql(d));
                }
            }
            default -> {
                // SCHEMA: owner and comment only. ENUM_TYPE, DOMAIN and COLUMN have their own methods.
            }
        }
        alterCommon(c, d, out);
        build(id).addAll(out);
    }

    /**
     * Labels only added (old labels a subsequence of the new list, in order): {@code ADD VALUE}
     * each, placed next to a neighbour. Anything else (a label removed or reordered) swaps the
     * type: rename the old one aside, create the new one, re-type every column that used it
     * through text, drop the old one.
     */
    private void alterEnum(DbObject c, DbObject d) {
        ObjectId id = d.id();
        List<String> old = EnumLabels.parse(c.prop("labels"));
        List<String> neu = EnumLabels.parse(d.prop("labels"));
        List<String> out = new ArrayList<>();
        if (!Objects.equals(c.prop("labels"), d.prop("labels"))) {
            if (isSubsequence(old, neu)) {
                for (int i = 0; i < neu.size(); i++) {
                    String label = neu.get(i);
                    if (old.contains(label)) {
                        continue;
                    }
                    // After the previous label (existing, or added just before); a new first
                    // label goes before the first label that already exists.
                    String where = i > 0 ? " AFTER " + Sql.literal(neu.get(i - 1))
                            : old.isEmpty() ? "" : " BEFORE " + Sql.literal(old.get(0));
                    beforeTx.add("ALTER TYPE " + id.sqlName() + " ADD VALUE " + Sql.literal(label) + where);
                }
            } else {
                swapType(id, "CREATE TYPE " + id.sqlName() + " AS ENUM (" + d.prop("labels") + ")", out);
            }
        }
        alterCommon(c, d, out);
        build(id).addAll(out);
    }

    /**
     * Replaces a type that columns may use without dropping those columns: rename the old type
     * aside, create the new one, re-type every column that used the old one (through text),
     * drop the old one at the end. Everything else that used it (functions, views) is rebuilt by
     * the closure.
     */
    private void swapType(ObjectId id, String createSql, List<String> out) {
        String aside = id.name() + OLD_TYPE_SUFFIX;
        release.add("ALTER " + id.kind().sqlKeyword() + " " + id.sqlName() + " RENAME TO " + Sql.ident(aside));
        out.add(createSql);
        finish.add("DROP " + id.kind().sqlKeyword() + " " + Sql.ident(id.schema()) + "." + Sql.ident(aside));
        for (ObjectId user : current.dependents().getOrDefault(id, Set.of())) {
            if (user.kind() == ObjectKind.COLUMN && desired.get(user) != null) {
                retyped.add(user);
            }
        }
        swapped.add(id);
    }

    private static String createDomainSql(DbObject d) {
        StringBuilder sb = new StringBuilder("CREATE DOMAIN ").append(d.id().sqlName()).append(" AS ").append(d.prop("type"));
        if (d.prop("collation") != null) {
            sb.append(" COLLATE ").append(d.prop("collation"));
        }
        if (d.prop("default") != null) {
            sb.append(" DEFAULT ").append(d.prop("default"));
        }
        if (d.prop("not null") != null) {
            sb.append(" NOT NULL");
        }
        d.props().forEach((k, v) -> {
            if (k.startsWith("constraint ")) {
                sb.append(" CONSTRAINT ").append(Sql.ident(k.substring("constraint ".length()))).append(' ').append(v);
            }
        });
        return sb.toString();
    }

    /**
     * Default, NOT NULL and CHECK constraints alter in place (a new constraint is validated
     * against existing rows); a new base type or collation swaps the domain like an enum.
     */
    private void alterDomain(DbObject c, DbObject d) {
        ObjectId id = d.id();
        List<String> out = new ArrayList<>();
        String alter = "ALTER DOMAIN " + id.sqlName();
        if (differs(c, d, "type", "collation")) {
            swapType(id, createDomainSql(d), out);
        } else {
            if (differs(c, d, "default")) {
                out.add(alter + (d.prop("default") == null ? " DROP DEFAULT" : " SET DEFAULT " + d.prop("default")));
            }
            if (differs(c, d, "not null")) {
                out.add(alter + (d.prop("not null") == null ? " DROP NOT NULL" : " SET NOT NULL"));
            }
            TreeSet<String> keys = new TreeSet<>(c.props().keySet());
            keys.addAll(d.props().keySet());
            for (String k : keys) {
                if (!k.startsWith("constraint ") || !differs(c, d, k)) {
                    continue;
                }
                String name = Sql.ident(k.substring("constraint ".length()));
                if (c.prop(k) != null) {
                    out.add(alter + " DROP CONSTRAINT " + name);
                }
                if (d.prop(k) != null) {
                    out.add(alter + " ADD CONSTRAINT " + name + " " + d.prop(k));
                }
            }
        }
        alterCommon(c, d, out);
        build(id).addAll(out);
    }

    private static boolean isSubsequence(List<String> sub, List<String> full) {
        int j = 0;
        for (String s : full) {
            if (j < sub.size() && sub.get(j).equals(s)) {
                j++;
            }
        }
        return j == sub.size() && full.containsAll(sub);
    }

    private void alterColumn(DbObject c, DbObject d) {
        ObjectId id = d.id();
        String col = alterColumnSql(id);
        if (d.prop("generated") != null && !Objects.equals(c.prop("generated"), d.prop("generated"))) {
            // A generation expression cannot be changed in place (PG 15): the column is derived
            // data, so dropping and adding it loses nothing.
            replaceColumn(id);
            return;
        }
        List<String> out = new ArrayList<>();
        if (c.prop("generated") != null && d.prop("generated") == null) {
            out.add(col + " DROP EXPRESSION");
        }
        boolean typeChanged = differs(c, d, "type", "collation") || retyped.contains(id);
        if (typeChanged) {
            retyped.add(id);
        }
        if (c.prop("identity") != null && d.prop("identity") == null) {
            release.add(col + " DROP IDENTITY");
        }
        if (c.prop("default") != null && (typeChanged || !Objects.equals(c.prop("default"), d.prop("default")))) {
            release.add(col + " DROP DEFAULT");
            defaultReset.add(id);
        }
        if (typeChanged) {
            String type = d.prop("type");
            String name = Sql.ident(id.name());
            // Built-in types convert with plain casts; user types (an enum swapped for its new
            // version, a domain) go through their text form.
            boolean viaText = !type.equals("text")
                    && (!differs(c, d, "type") || c.prop("type").contains(".") || type.contains("."));
            String using = viaText ? name + (type.endsWith("[]") ? "::text[]::" : "::text::") + type : name + "::" + type;
            out.add(col + " TYPE " + type + (d.prop("collation") != null ? " COLLATE " + d.prop("collation") : "") + " USING " + using);
        }
        if (c.prop("not null") != null && d.prop("not null") == null) {
            out.add(col + " DROP NOT NULL");
        } else if (c.prop("not null") == null && d.prop("not null") != null) {
            out.add(col + " SET NOT NULL");
        }
        if (d.prop("default") != null && (typeChanged || !Objects.equals(c.prop("default"), d.prop("default")))) {
            out.add(col + " SET DEFAULT " + d.prop("default"));
        }
        if (d.prop("identity") != null && !Objects.equals(c.prop("identity"), d.prop("identity"))) {
            String mode = d.prop("identity").toUpperCase(java.util.Locale.ROOT);
            out.add(c.prop("identity") == null ? col + " ADD GENERATED " + mode + " AS IDENTITY" : col + " SET GENERATED " + mode);
        }
        alterCommon(c, d, out);
        build(id).addAll(out);
    }

    private void replaceColumn(ObjectId id) {
        drops.add(id);
        recreate.add(id);
        List<String> b = build(id);
        b.clear();
        DbObject d = desired.get(id);
        b.add("ALTER TABLE " + id.sqlTable() + " ADD COLUMN " + columnDefinition(d));
        if (d.prop("comment") != null) {
            b.add(commentSql(id, d.prop("comment")));
        }
    }
}

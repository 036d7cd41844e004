package dev.pgbranch.pageserver.schema;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Text and JSON renderings of a {@link SchemaDiff}. Formats:
 * <pre>
 * side by side                          unified
 *   + column public.users.preferences     --- development
 *     property | development | dev/alex   +++ dev/alex
 *     type     |             | jsonb      @@ added column public.users.preferences @@
 *                                         +type: jsonb
 * JSON
 *   {"source", "target", "base", "identical", "changes": [change], "branch": [change],
 *    "parent": [change], "conflicts": [{"object", "kind", "branch": change, "parent": change}],
 *    "migration": [{"sql", "phase"}]}
 *   change = {"change": "added|removed|changed", "kind", "object", "path": [..],
 *             "properties": [changed names], "before": {..}|null, "after": {..}|null}
 * </pre>
 * Stateless, thread-safe.
 */
final class DiffRenderer {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private DiffRenderer() {
    }

    private static String marker(Change c) {
        return switch (c.type()) {
            case ADDED -> "+";
            case REMOVED -> "-";
            case CHANGED -> "~";
        };
    }

    private static String verb(Change.Type t) {
        return t.name().toLowerCase(Locale.ROOT);
    }

    // ---------------------------------------------------------------- side by side

    static String sideBySide(SchemaDiff d) {
        StringBuilder sb = new StringBuilder();
        if (!d.hasBase()) {
            sb.append("schema diff: ").append(d.targetLabel()).append(" (old) | ").append(d.sourceLabel()).append(" (new)\n");
            section(sb, null, d.changes(), d.targetLabel(), d.sourceLabel());
            historyText(sb, d.history(), d);
            return sb.toString();
        }
        sb.append("schema diff: ").append(d.sourceLabel()).append(" against ").append(d.targetLabel())
                .append(", base ").append(d.baseLabel()).append('\n');
        section(sb, "changed on " + d.sourceLabel(), d.branchChanges(), d.baseLabel(), d.sourceLabel());
        section(sb, "changed on " + d.targetLabel() + " since the branch point", d.parentChanges(), d.baseLabel(), d.targetLabel());
        sb.append("\n== conflicts (").append(d.conflicts().size()).append(") ==\n");
        for (Conflict c : d.conflicts()) {
            sb.append("! ").append(c.id()).append('\n');
            sb.append("  on ").append(d.sourceLabel()).append(":\n");
            table(sb, c.onBranch(), d.baseLabel(), d.sourceLabel(), "    ");
            sb.append("  on ").append(d.targetLabel()).append(":\n");
            table(sb, c.onParent(), d.baseLabel(), d.targetLabel(), "    ");
        }
        historyText(sb, d.history(), d);
        return sb.toString();
    }

    /**
     * The migration-history section, the same in both text formats:
     * <pre>
     * == migration history ==
     * public.django_migrations (django)
     *   changed on dev/alex:  + app=shop, name=0002_order_note
     *   changed on development since the branch point:  + app=blog, name=0001_initial
     *   carried by promote: 1 row(s)
     * </pre>
     */
    private static void historyText(StringBuilder sb, HistoryDiff h, SchemaDiff d) {
        if (h.tables().isEmpty()) {
            return;
        }
        sb.append("\n== migration history ==\n");
        for (HistoryDiff.TableDiff t : h.tables()) {
            sb.append(t.table()).append(" (").append(t.tool().name().toLowerCase(Locale.ROOT)).append(")\n");
            if (!h.threeWay()) {
                rows(sb, "  " + d.targetLabel() + " -> " + d.sourceLabel() + ":", t, t.changes());
                continue;
            }
            rows(sb, "  changed on " + d.sourceLabel() + ":", t, t.branchChanges());
            rows(sb, "  changed on " + d.targetLabel() + " since the branch point:", t, t.parentChanges());
            for (HistoryDiff.RowConflict c : t.conflicts()) {
                sb.append("  ! conflict: ").append(t.describe(c.key())).append(" changed on both\n");
            }
            sb.append("  carried by promote: ").append(t.toCarry().size()).append(" row(s)\n");
        }
    }

    private static void rows(StringBuilder sb, String title, HistoryDiff.TableDiff t, List<HistoryDiff.RowChange> changes) {
        sb.append(title).append(changes.isEmpty() ? " none\n" : "\n");
        for (HistoryDiff.RowChange c : changes) {
            sb.append("    ").append(c.type() == Change.Type.ADDED ? "+" : c.type() == Change.Type.REMOVED ? "-" : "~")
                    .append(' ').append(t.describe(c.key())).append('\n');
        }
    }

    /** The history statements as a psql script section (empty when there are none). */
    static String historySql(List<String> statements) {
        if (statements.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder("-- migration history rows\nBEGIN;\n");
        statements.forEach(st -> sb.append(st).append(";\n"));
        return sb.append("COMMIT;\n").toString();
    }

    private static void section(StringBuilder sb, String title, List<Change> changes, String oldLabel, String newLabel) {
        if (title != null) {
            sb.append("\n== ").append(title).append(" (").append(changes.size()).append(") ==\n");
        } else if (changes.isEmpty()) {
            sb.append("no differences\n");
        }
        for (Change c : changes) {
            sb.append(marker(c)).append(' ').append(c.id()).append('\n');
            table(sb, c, oldLabel, newLabel, "    ");
        }
    }

    private static void table(StringBuilder sb, Change c, String oldLabel, String newLabel, String indent) {
        List<String> keys = c.changedProperties();
        int keyWidth = "property".length();
        int leftWidth = oldLabel.length();
        for (String k : keys) {
            keyWidth = Math.max(keyWidth, k.length());
            for (String line : lines(c.before(), k)) {
                leftWidth = Math.max(leftWidth, line.length());
            }
        }
        leftWidth = Math.min(leftWidth, 60);
        sb.append(indent).append(pad("property", keyWidth)).append(" | ").append(pad(oldLabel, leftWidth)).append(" | ").append(newLabel).append('\n');
        for (String k : keys) {
            List<String> left = lines(c.before(), k);
            List<String> right = lines(c.after(), k);
            for (int i = 0; i < Math.max(left.size(), right.size()); i++) {
                String l = i < left.size() ? left.get(i) : "";
                String r = i < right.size() ? right.get(i) : "";
                sb.append(indent).append(pad(i == 0 ? k : "", keyWidth)).append(" | ").append(pad(l, leftWidth)).append(" | ").append(r)
                        .append('\n');
            }
        }
    }

    private static List<String> lines(Map<String, String> props, String key) {
        String v = props == null ? null : props.get(key);
        return v == null ? List.of() : List.of(v.split("\n", -1));
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }

    // ---------------------------------------------------------------- unified

    static String unified(SchemaDiff d) {
        StringBuilder sb = new StringBuilder();
        if (!d.hasBase()) {
            hunks(sb, d.changes(), d.targetLabel(), d.sourceLabel());
            historyText(sb, d.history(), d);
            return sb.toString();
        }
        sb.append("# changed on ").append(d.sourceLabel()).append('\n');
        hunks(sb, d.branchChanges(), d.baseLabel(), d.sourceLabel());
        sb.append("# changed on ").append(d.targetLabel()).append(" since the branch point\n");
        hunks(sb, d.parentChanges(), d.baseLabel(), d.targetLabel());
        sb.append("# conflicts: ").append(d.conflicts().size()).append('\n');
        for (Conflict c : d.conflicts()) {
            sb.append("! ").append(c).append('\n');
        }
        historyText(sb, d.history(), d);
        return sb.toString();
    }

    private static void hunks(StringBuilder sb, List<Change> changes, String oldLabel, String newLabel) {
        sb.append("--- ").append(oldLabel).append('\n').append("+++ ").append(newLabel).append('\n');
        for (Change c : changes) {
            sb.append("@@ ").append(verb(c.type())).append(' ').append(c.id()).append(" @@\n");
            TreeSet<String> keys = new TreeSet<>();
            if (c.before() != null) {
                keys.addAll(c.before().keySet());
            }
            if (c.after() != null) {
                keys.addAll(c.after().keySet());
            }
            List<String> changed = c.changedProperties();
            for (String k : keys) {
                if (!changed.contains(k)) {
                    prefixed(sb, " ", k, c.after().get(k));
                    continue;
                }
                if (c.before() != null && c.before().get(k) != null) {
                    prefixed(sb, "-", k, c.before().get(k));
                }
                if (c.after() != null && c.after().get(k) != null) {
                    prefixed(sb, "+", k, c.after().get(k));
                }
            }
        }
    }

    private static void prefixed(StringBuilder sb, String prefix, String key, String value) {
        String[] lines = value.split("\n", -1);
        sb.append(prefix).append(key).append(": ").append(lines[0]).append('\n');
        for (int i = 1; i < lines.length; i++) {
            sb.append(prefix).append("    ").append(lines[i]).append('\n');
        }
    }

    // ---------------------------------------------------------------- JSON

    static String json(SchemaDiff d) {
        ObjectNode root = JSON.createObjectNode();
        root.put("source", d.sourceLabel());
        root.put("target", d.targetLabel());
        root.put("base", d.baseLabel());
        root.put("identical", d.isEmpty());
        root.set("changes", changes(d.changes()));
        if (d.hasBase()) {
            root.set("branch", changes(d.branchChanges()));
            root.set("parent", changes(d.parentChanges()));
            root.set("conflicts", conflicts(d.conflicts()));
        }
        root.set("migration", migration(d.migration()));
        root.set("history", history(d.history()));
        return write(root);
    }

    static String promoteJson(PromoteResult r) {
        ObjectNode root = JSON.createObjectNode();
        root.put("branch", r.diff().sourceLabel());
        root.put("parent", r.diff().targetLabel());
        root.put("base", r.diff().baseLabel());
        root.put("applied", r.applied());
        root.set("promoted", changes(r.promoted()));
        root.set("overriddenConflicts", conflicts(r.overridden()));
        root.set("migration", migration(r.migration()));
        root.put("sql", r.migration().toSql());
        root.set("history", history(r.diff().history()));
        root.put("historyRowsCarried", r.historyRowsCarried());
        return write(root);
    }

    /**
     * {@code [{"table", "tool", "targetHasTable", "changes": [row], "branch": [row], "parent": [row],
     * "conflicts": [{"key", "branch": row, "parent": row}], "carried": [row], "sql": [text]}]},
     * row = {@code {"change", "key": {col: value}, "before": {..}|null, "after": {..}|null}}.
     */
    private static ArrayNode history(HistoryDiff h) {
        ArrayNode out = JSON.createArrayNode();
        for (HistoryDiff.TableDiff t : h.tables()) {
            ObjectNode n = out.addObject();
            n.put("table", t.table().toString());
            n.put("tool", t.tool().name().toLowerCase(Locale.ROOT));
            n.put("targetHasTable", t.targetHasTable());
            n.set("changes", rowChanges(t, t.changes()));
            if (h.threeWay()) {
                n.set("branch", rowChanges(t, t.branchChanges()));
                n.set("parent", rowChanges(t, t.parentChanges()));
                ArrayNode conflicts = n.putArray("conflicts");
                for (HistoryDiff.RowConflict c : t.conflicts()) {
                    ObjectNode cn = conflicts.addObject();
                    cn.set("key", key(t, c.key()));
                    cn.set("branch", rowChange(t, c.onBranch()));
                    cn.set("parent", rowChange(t, c.onParent()));
                }
            }
            n.set("carried", rowChanges(t, t.toCarry()));
        }
        return out;
    }

    private static ArrayNode rowChanges(HistoryDiff.TableDiff t, List<HistoryDiff.RowChange> changes) {
        ArrayNode out = JSON.createArrayNode();
        changes.forEach(c -> out.add(rowChange(t, c)));
        return out;
    }

    private static ObjectNode rowChange(HistoryDiff.TableDiff t, HistoryDiff.RowChange c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("change", verb(c.type()));
        n.set("key", key(t, c.key()));
        n.set("before", c.before() == null ? null : JSON.valueToTree(c.before()));
        n.set("after", c.after() == null ? null : JSON.valueToTree(c.after()));
        return n;
    }

    private static ObjectNode key(HistoryDiff.TableDiff t, List<String> key) {
        ObjectNode n = JSON.createObjectNode();
        for (int i = 0; i < key.size(); i++) {
            n.put(t.source().key().get(i), key.get(i));
        }
        return n;
    }

    private static String write(ObjectNode root) {
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("JSON tree cannot fail to serialize", e);
        }
    }

    private static ArrayNode conflicts(List<Conflict> conflicts) {
        ArrayNode out = JSON.createArrayNode();
        for (Conflict c : conflicts) {
            ObjectNode n = out.addObject();
            n.put("object", c.id().displayName());
            n.put("kind", c.id().kind().label());
            n.set("branch", change(c.onBranch()));
            n.set("parent", change(c.onParent()));
        }
        return out;
    }

    static ArrayNode migration(Migration m) {
        ArrayNode out = JSON.createArrayNode();
        for (MigrationStatement s : m.statements()) {
            out.addObject().put("sql", s.sql()).put("phase", s.phase().name().toLowerCase(Locale.ROOT));
        }
        return out;
    }

    private static ArrayNode changes(List<Change> changes) {
        ArrayNode out = JSON.createArrayNode();
        changes.forEach(c -> out.add(change(c)));
        return out;
    }

    private static ObjectNode change(Change c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("change", verb(c.type()));
        n.put("kind", c.id().kind().label());
        n.put("object", c.id().displayName());
        ArrayNode path = n.putArray("path");
        c.id().path().forEach(path::add);
        ArrayNode props = n.putArray("properties");
        c.changedProperties().forEach(props::add);
        n.set("before", c.before() == null ? null : JSON.valueToTree(c.before()));
        n.set("after", c.after() == null ? null : JSON.valueToTree(c.after()));
        return n;
    }
}

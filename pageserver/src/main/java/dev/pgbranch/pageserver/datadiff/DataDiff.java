package dev.pgbranch.pageserver.datadiff;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A data diff of one source against one target (and base), database by database, table by
 * table. Renders as:
 * <pre>
 * table   one block per table: "public.users (key id): +2 -1 ~3, 12 of 12,800 blocks read" then
 *         the rows, "+ id=7", "- id=9", "~ id=3: email 'a@x' -> 'b@x'"
 * json    {"source", "target", "base", "threeWay", "identical", "databases": [{"database",
 *          "tables": [{"table", "key", "read": {"blocks": n}|{"full": reason}, "added", "removed",
 *          "changed", "changes": [row], "source": [row], "sourceCounts": {"added", "removed",
 *          "changed"}, "target": [row], "targetCounts", "conflicts": [row], "truncated", "notes"}]}],
 *          "notes", "timingsMs"}
 *         row = {"change", "key": {col: value}, "before": {col: value}|null, "after": ...}
 * sql     "\connect db", then per table one transaction of DELETE, UPDATE, INSERT that applies
 *         the source's changes to the target (conflicting rows as comments)
 * </pre>
 * Immutable, thread-safe.
 */
public final class DataDiff {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** One database's tables. */
    public record Database(String name, List<TableDataDiff> tables) {
        public Database {
            tables = List.copyOf(tables);
        }
    }

    /** Output formats. */
    public enum Format {
        TABLE, JSON, SQL;

        public static Format parse(String s) {
            return switch (s == null ? "table" : s.toLowerCase(Locale.ROOT)) {
                case "table", "text" -> TABLE;
                case "json" -> JSON;
                case "sql" -> SQL;
                default -> throw new DataDiffException(DataDiffException.Code.BAD_REQUEST, "unknown data diff format '" + s
                        + "' (expected table, json or sql)", null, null);
            };
        }
    }

    private final String source;
    private final String target;
    private final String base;
    private final List<Database> databases;
    private final List<String> notes;
    private final Map<String, Long> timingsMs;
    private final int rowLimit;

    public DataDiff(String source, String target, String base, List<Database> databases, List<String> notes,
                    Map<String, Long> timingsMs) {
        this(source, target, base, databases, notes, timingsMs, Integer.MAX_VALUE);
    }

    private DataDiff(String source, String target, String base, List<Database> databases, List<String> notes,
                     Map<String, Long> timingsMs, int rowLimit) {
        this.rowLimit = rowLimit;
        this.source = source;
        this.target = target;
        this.base = base;
        this.databases = List.copyOf(databases);
        this.notes = List.copyOf(notes);
        this.timingsMs = new LinkedHashMap<>(timingsMs);
    }

    public List<Database> databases() {
        return databases;
    }

    /**
     * The same diff, listing at most {@code limit} rows per list and table in the table and JSON
     * formats (the counts stay complete; JSON says {@code "truncated": true}). The SQL format is
     * always complete.
     */
    public DataDiff withRowLimit(int limit) {
        if (limit < 0) {
            throw new DataDiffException(DataDiffException.Code.BAD_REQUEST, "the row limit must be 0 or more: " + limit,
                    null, null);
        }
        return new DataDiff(source, target, base, databases, notes, timingsMs, limit);
    }

    public boolean identical() {
        return databases.stream().allMatch(d -> d.tables().stream().allMatch(t -> t.changes().isEmpty()));
    }

    public String render(Format format) {
        return switch (format) {
            case TABLE -> text();
            case JSON -> json();
            case SQL -> sql();
        };
    }

    private String text() {
        StringBuilder sb = new StringBuilder();
        notes.forEach(n -> sb.append("note: ").append(n).append('\n'));
        sb.append("data diff: ").append(source).append(" against ").append(target)
                .append(base == null ? " (two-way)" : ", base " + base).append('\n');
        for (Database d : databases) {
            sb.append("=== database ").append(d.name()).append(" ===\n");
            int shown = 0;
            for (TableDataDiff t : d.tables()) {
                if (t.changes().isEmpty() && t.onTarget().isEmpty()) {
                    continue;
                }
                shown++;
                sb.append(t.table()).append(t.key().isEmpty() ? " (no primary key: whole rows)" : " (key " + String.join(", ", t.key()) + ")")
                        .append(": ").append(counts(t, t.changes())).append(", ").append(read(t)).append('\n');
                t.notes().forEach(n -> sb.append("  note: ").append(n).append('\n'));
                if (base == null) {
                    rows(sb, "  ", t, t.changes(), rowLimit);
                } else {
                    sb.append("  changed on ").append(source).append(": ").append(counts(t, t.onSource())).append('\n');
                    rows(sb, "    ", t, t.onSource(), rowLimit);
                    sb.append("  changed on ").append(target).append(" since the branch point: ").append(counts(t, t.onTarget())).append('\n');
                    rows(sb, "    ", t, t.onTarget(), rowLimit);
                    for (TableDataDiff.RowChange c : t.conflicts()) {
                        sb.append("  ! conflict: ").append(t.describe(c)).append(" changed on both\n");
                    }
                }
            }
            if (shown == 0) {
                sb.append("no row differences (").append(d.tables().size()).append(" table(s) compared)\n");
            }
        }
        return sb.toString();
    }

    private static String counts(TableDataDiff t, List<TableDataDiff.RowChange> list) {
        return "+" + t.count(list, TableDataDiff.Type.ADDED) + " -" + t.count(list, TableDataDiff.Type.REMOVED) + " ~"
                + t.count(list, TableDataDiff.Type.CHANGED);
    }

    private static String read(TableDataDiff t) {
        return t.fullReason() != null ? "full compare: " + t.fullReason() : t.blocksRead() + " block(s) read per side";
    }

    private static void rows(StringBuilder sb, String indent, TableDataDiff t, List<TableDataDiff.RowChange> changes,
                             int limit) {
        if (changes.size() > limit) {
            rows(sb, indent, t, changes.subList(0, limit), limit);
            sb.append(indent).append("... ").append(changes.size() - limit).append(" more\n");
            return;
        }
        for (TableDataDiff.RowChange c : changes) {
            sb.append(indent).append(switch (c.type()) {
                case ADDED -> "+ ";
                case REMOVED -> "- ";
                case CHANGED -> "~ ";
            }).append(t.describe(c));
            if (c.type() == TableDataDiff.Type.CHANGED) {
                sb.append(':');
                for (int i = 0; i < t.columns().size(); i++) {
                    if (!java.util.Objects.equals(c.before().get(i), c.after().get(i))) {
                        sb.append(' ').append(t.columns().get(i).name()).append(' ').append(quote(c.before().get(i)))
                                .append(" -> ").append(quote(c.after().get(i)));
                    }
                }
            }
            sb.append('\n');
        }
    }

    private static String quote(String v) {
        return v == null ? "NULL" : "'" + v + "'";
    }

    private String sql() {
        StringBuilder sb = new StringBuilder();
        sb.append("-- applies the data changes of ").append(source).append(" to ").append(target)
                .append(base == null ? " (every difference)" : " (only ones made since the branch point; " + target
                        + "'s own are kept)").append('\n');
        notes.forEach(n -> sb.append("-- note: ").append(n).append('\n'));
        for (Database d : databases) {
            sb.append("\\connect ").append(d.name().matches("[A-Za-z0-9_]+") ? d.name() : "'" + d.name().replace("'", "\\'") + "'")
                    .append('\n');
            for (TableDataDiff t : d.tables()) {
                List<String> statements = t.statements();
                for (TableDataDiff.RowChange c : t.conflicts()) {
                    sb.append("-- conflict, not applied: ").append(t.table()).append(' ').append(t.describe(c)).append('\n');
                }
                if (statements.isEmpty()) {
                    continue;
                }
                sb.append("-- ").append(t.table()).append(": ").append(statements.size()).append(" row(s)\nBEGIN;\n");
                statements.forEach(s -> sb.append(s).append(";\n"));
                sb.append("COMMIT;\n");
            }
        }
        return sb.toString();
    }

    private String json() {
        ObjectNode root = JSON.createObjectNode();
        root.put("source", source);
        root.put("target", target);
        root.put("base", base);
        root.put("threeWay", base != null);
        root.put("identical", identical());
        ArrayNode dbs = root.putArray("databases");
        for (Database d : databases) {
            ObjectNode dn = dbs.addObject();
            dn.put("database", d.name());
            ArrayNode tables = dn.putArray("tables");
            for (TableDataDiff t : d.tables()) {
                ObjectNode tn = tables.addObject();
                tn.put("table", t.table());
                ArrayNode key = tn.putArray("key");
                t.key().forEach(key::add);
                ObjectNode read = tn.putObject("read");
                if (t.fullReason() != null) {
                    read.put("full", t.fullReason());
                } else {
                    read.put("blocks", t.blocksRead());
                }
                tn.put("added", t.count(t.changes(), TableDataDiff.Type.ADDED));
                tn.put("removed", t.count(t.changes(), TableDataDiff.Type.REMOVED));
                tn.put("changed", t.count(t.changes(), TableDataDiff.Type.CHANGED));
                tn.set("changes", rows(t, t.changes()));
                boolean truncated = t.changes().size() > rowLimit;
                if (base != null) {
                    tn.set("source", rows(t, t.onSource()));
                    tn.set("sourceCounts", counts(t.onSource(), t));
                    tn.set("target", rows(t, t.onTarget()));
                    tn.set("targetCounts", counts(t.onTarget(), t));
                    tn.set("conflicts", rows(t, t.conflicts()));
                    truncated |= t.onSource().size() > rowLimit || t.onTarget().size() > rowLimit
                            || t.conflicts().size() > rowLimit;
                }
                tn.put("truncated", truncated);
                ArrayNode notesNode = tn.putArray("notes");
                t.notes().forEach(notesNode::add);
            }
        }
        ArrayNode n = root.putArray("notes");
        notes.forEach(n::add);
        ObjectNode timings = root.putObject("timingsMs");
        timingsMs.forEach(timings::put);
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("JSON tree cannot fail to serialize", e);
        }
    }

    private static ObjectNode counts(List<TableDataDiff.RowChange> list, TableDataDiff t) {
        ObjectNode n = JSON.createObjectNode();
        n.put("added", t.count(list, TableDataDiff.Type.ADDED));
        n.put("removed", t.count(list, TableDataDiff.Type.REMOVED));
        n.put("changed", t.count(list, TableDataDiff.Type.CHANGED));
        return n;
    }

    private ArrayNode rows(TableDataDiff t, List<TableDataDiff.RowChange> changes) {
        ArrayNode out = JSON.createArrayNode();
        for (TableDataDiff.RowChange c : changes.subList(0, Math.min(changes.size(), rowLimit))) {
            ObjectNode r = out.addObject();
            r.put("change", c.type().name().toLowerCase(Locale.ROOT));
            ObjectNode key = r.putObject("key");
            if (t.key().isEmpty()) {
                List<String> row = c.after() != null ? c.after() : c.before();
                for (int i = 0; i < t.columns().size(); i++) {
                    key.put(t.columns().get(i).name(), row.get(i));
                }
            } else {
                for (int i = 0; i < t.key().size(); i++) {
                    key.put(t.key().get(i), c.key().get(i));
                }
            }
            r.set("before", row(t, c.before()));
            r.set("after", row(t, c.after()));
        }
        return out;
    }

    private static ObjectNode row(TableDataDiff t, List<String> values) {
        if (values == null) {
            return null;
        }
        ObjectNode n = JSON.createObjectNode();
        for (int i = 0; i < t.columns().size(); i++) {
            n.put(t.columns().get(i).name(), values.get(i));
        }
        return n;
    }
}

package dev.pgbranch.pageserver.review;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgbranch.pageserver.schema.DiffFormat;
import dev.pgbranch.pageserver.schema.SchemaDiff;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The schema diff of a branch against another branch, database by database. With a base (the
 * branch was compared with its parent) every database's diff is three-way: "changed on the
 * branch", "changed on the parent since", conflicts.
 *
 * <pre>
 * JSON: {"branch", "against", "base": "parent@X/Y"|null, "threeWay", "identical",
 *        "databases": [{"database", ...the schema library's diff JSON: "changes", "branch",
 *                       "parent", "conflicts", "migration"...}],
 *        "onlyOnBranch": [db], "onlyOnAgainst": [db], "notes": [text],
 *        "timingsMs": {"wake", "baseCompute", "introspection", "total"},
 *        "format", "rendered": text (when a text format was asked for)}
 * text: one section per database, headed "=== database NAME ===" (side by side, unified) or
 *       "\connect NAME" (SQL, so that the script runs in psql as is)
 * </pre>
 *
 * <p>Immutable, thread-safe.
 */
public final class DiffReport {

    /** One database's diff. */
    public record DatabaseDiff(String database, SchemaDiff diff) {
        public DatabaseDiff {
            Objects.requireNonNull(database, "database");
            Objects.requireNonNull(diff, "diff");
        }
    }

    private final String branch;
    private final String against;
    private final String base;
    private final List<DatabaseDiff> databases;
    private final List<String> onlyOnBranch;
    private final List<String> onlyOnAgainst;
    private final List<String> notes;
    private final Map<String, Long> timingsMs;

    DiffReport(String branch, String against, String base, List<DatabaseDiff> databases, List<String> onlyOnBranch,
               List<String> onlyOnAgainst, List<String> notes, Map<String, Long> timingsMs) {
        this.branch = branch;
        this.against = against;
        this.base = base;
        this.databases = List.copyOf(databases);
        this.onlyOnBranch = List.copyOf(onlyOnBranch);
        this.onlyOnAgainst = List.copyOf(onlyOnAgainst);
        this.notes = List.copyOf(notes);
        this.timingsMs = new LinkedHashMap<>(timingsMs);
    }

    public String branch() {
        return branch;
    }

    public String against() {
        return against;
    }

    /** The base's label ({@code parent@lsn}), or null for a two-way diff. */
    public String base() {
        return base;
    }

    public List<DatabaseDiff> databases() {
        return databases;
    }

    /** Databases on the branch but not on the other side (not compared). */
    public List<String> onlyOnBranch() {
        return onlyOnBranch;
    }

    /** Databases on the other side but not on the branch (not compared). */
    public List<String> onlyOnAgainst() {
        return onlyOnAgainst;
    }

    public List<String> notes() {
        return notes;
    }

    /** How long the parts took, in milliseconds, for figures and the API. */
    public Map<String, Long> timingsMs() {
        return Map.copyOf(timingsMs);
    }

    /** True when every compared database has the same schema on both sides and no database is one-sided. */
    public boolean identical() {
        return onlyOnBranch.isEmpty() && onlyOnAgainst.isEmpty() && databases.stream().allMatch(d -> d.diff().isEmpty());
    }

    /** The report as text ({@link DiffFormat#JSON} gives {@link #toJson(DiffFormat)}). */
    public String render(DiffFormat format) {
        if (format == DiffFormat.JSON) {
            return toJson(DiffFormat.JSON);
        }
        StringBuilder sb = new StringBuilder();
        String comment = format == DiffFormat.SQL ? "-- " : "";
        for (String note : notes) {
            sb.append(comment).append("note: ").append(note).append('\n');
        }
        for (String db : onlyOnBranch) {
            sb.append(comment).append("database ").append(db).append(" exists only on ").append(branch)
                    .append(" (not compared)\n");
        }
        for (String db : onlyOnAgainst) {
            sb.append(comment).append("database ").append(db).append(" exists only on ").append(against)
                    .append(" (not compared)\n");
        }
        if (format == DiffFormat.SQL && base != null) {
            sb.append("-- this script makes ").append(against).append(" equal to ").append(branch).append(", reverting ")
                    .append(against).append("'s own changes since the branch point too; 'pgbranch promote ").append(branch)
                    .append(" --dry-run' shows only ").append(branch).append("'s changes\n");
        }
        for (DatabaseDiff d : databases) {
            if (format == DiffFormat.SQL) {
                sb.append("\\connect ").append(psqlQuote(d.database())).append('\n');
            } else {
                sb.append("=== database ").append(d.database()).append(" ===\n");
            }
            sb.append(d.diff().render(format));
            if (sb.charAt(sb.length() - 1) != '\n') {
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    /** The report as JSON; for a text {@code format}, the text rendering is included as "rendered". */
    public String toJson(DiffFormat format) {
        ObjectNode root = Json.object();
        root.put("branch", branch);
        root.put("against", against);
        root.put("base", base);
        root.put("threeWay", base != null);
        root.put("identical", identical());
        ArrayNode list = root.putArray("databases");
        for (DatabaseDiff d : databases) {
            ObjectNode node = list.addObject();
            node.put("database", d.database());
            node.setAll((ObjectNode) Json.parse(d.diff().render(DiffFormat.JSON)));
        }
        Json.strings(root, "onlyOnBranch", onlyOnBranch);
        Json.strings(root, "onlyOnAgainst", onlyOnAgainst);
        Json.strings(root, "notes", notes);
        Json.timings(root, timingsMs);
        root.put("format", format.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        if (format != DiffFormat.JSON) {
            root.put("rendered", render(format));
        }
        return Json.write(root);
    }

    /** psql's {@code \connect} takes a single-quoted argument for names with spaces or quotes. */
    private static String psqlQuote(String name) {
        return name.matches("[A-Za-z0-9_]+") ? name : "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}

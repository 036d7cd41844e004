package dev.pgbranch.pageserver.review;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgbranch.pageserver.schema.Change;
import dev.pgbranch.pageserver.schema.Conflict;
import dev.pgbranch.pageserver.schema.PromoteResult;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a promote did (or, for a dry run, would do), database by database.
 *
 * <pre>
 * JSON: {"branch", "parent", "base", "dryRun", "applied", "verified",
 *        "databases": [{"database", ...the schema library's promote JSON: "applied", "promoted",
 *                       "overriddenConflicts", "migration", "sql"}],
 *        "notes": [text], "timingsMs": {...}}
 * </pre>
 *
 * <p>Immutable, thread-safe.
 */
public final class PromoteReport {

    /** One database's promote. */
    public record DatabasePromote(String database, PromoteResult result) {
        public DatabasePromote {
            Objects.requireNonNull(database, "database");
            Objects.requireNonNull(result, "result");
        }
    }

    private final String branch;
    private final String parent;
    private final String base;
    private final boolean dryRun;
    private final boolean verified;
    private final List<DatabasePromote> databases;
    private final List<String> notes;
    private final Map<String, Long> timingsMs;

    PromoteReport(String branch, String parent, String base, boolean dryRun, boolean verified,
                  List<DatabasePromote> databases, List<String> notes, Map<String, Long> timingsMs) {
        this.branch = branch;
        this.parent = parent;
        this.base = base;
        this.dryRun = dryRun;
        this.verified = verified;
        this.databases = List.copyOf(databases);
        this.notes = List.copyOf(notes);
        this.timingsMs = new LinkedHashMap<>(timingsMs);
    }

    public List<DatabasePromote> databases() {
        return databases;
    }

    public boolean dryRun() {
        return dryRun;
    }

    /** True when statements ran and committed on the parent in at least one database. */
    public boolean applied() {
        return databases.stream().anyMatch(d -> d.result().applied());
    }

    /** True when, after the promote (not a dry run), every promoted object was found equal on branch and parent. */
    public boolean verified() {
        return verified;
    }

    public Map<String, Long> timingsMs() {
        return Map.copyOf(timingsMs);
    }

    public String toJson() {
        ObjectNode root = Json.object();
        root.put("branch", branch);
        root.put("parent", parent);
        root.put("base", base);
        root.put("dryRun", dryRun);
        root.put("applied", applied());
        root.put("verified", verified);
        ArrayNode list = root.putArray("databases");
        for (DatabasePromote d : databases) {
            ObjectNode node = list.addObject();
            node.put("database", d.database());
            node.setAll((ObjectNode) Json.parse(d.result().toJson()));
        }
        Json.strings(root, "notes", notes);
        Json.timings(root, timingsMs);
        return Json.write(root);
    }

    /** A few lines for people: what was (or would be) promoted, and the SQL. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        for (String note : notes) {
            sb.append("note: ").append(note).append('\n');
        }
        for (DatabasePromote d : databases) {
            PromoteResult r = d.result();
            sb.append("database ").append(d.database()).append(": ");
            if (r.promoted().isEmpty() && r.historyRowsCarried() == 0) {
                sb.append("nothing to promote from ").append(branch).append('\n');
                continue;
            }
            if (r.migration().isEmpty() && r.historyRowsCarried() == 0) {
                sb.append("already up to date (").append(r.promoted().size()).append(" change(s) of ").append(branch)
                        .append(" already on ").append(parent).append(")\n");
                continue;
            }
            sb.append(dryRun ? "would promote " : r.applied() ? "promoted " : "nothing applied for ")
                    .append(r.promoted().size()).append(" change(s) from ").append(branch).append(" into ").append(parent)
                    .append('\n');
            for (Change c : r.promoted()) {
                sb.append("  ").append(c).append('\n');
            }
            for (Conflict c : r.overridden()) {
                sb.append("  conflict overridden by --force: ").append(c).append('\n');
            }
            sb.append(r.migration().toSql());
            if (r.historyRowsCarried() > 0) {
                sb.append("migration history: ").append(r.historyRowsCarried()).append(" row(s) ")
                        .append(dryRun ? "would be" : "").append(dryRun ? " " : "").append("carried in the same transaction\n");
                for (var t : r.diff().history().tables()) {
                    sb.append("  ").append(t.table()).append(": ").append(t.toCarry().size()).append(" row(s)\n");
                }
            }
        }
        if (!dryRun) {
            sb.append(verified ? "verified: " + parent + " now has every promoted object as on " + branch + "\n"
                    : "NOT verified\n");
        }
        return sb.toString();
    }
}

package dev.pgbranch.pageserver.review;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgbranch.pageserver.schema.Change;
import dev.pgbranch.pageserver.schema.PromoteResult;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a rebase did (or, dry run, would do): the branch's own schema changes and migration-history
 * rows replayed onto a new timeline at the parent's head, database by database, and the data
 * changes of the branch that a rebase does not carry (they stay in the backup branch).
 *
 * <pre>
 * JSON: {"branch", "parent", "base", "dryRun", "rebased", "parentLsn": "X/Y"|null, "backup": name|null,
 *        "databases": [{"database", ...the promote JSON of the replay: "promoted", "migration",
 *                       "sql", "history", "historyRowsCarried"}],
 *        "dataNotCarried": [{"database", "table", "added", "removed", "changed"}],
 *        "notes": [text], "timingsMs": {...}}
 * </pre>
 *
 * <p>Immutable, thread-safe.
 */
public final class RebaseReport {

    /** One table whose rows the branch changed since the branch point: a rebase leaves them behind. */
    public record DataChange(String database, String table, long added, long removed, long changed) {
    }

    private final String branch;
    private final String parent;
    private final String base;
    private final boolean dryRun;
    private final String parentLsn;
    private final String backup;
    private final List<PromoteReport.DatabasePromote> databases;
    private final List<DataChange> dataNotCarried;
    private final List<String> notes;
    private final Map<String, Long> timingsMs;

    RebaseReport(String branch, String parent, String base, boolean dryRun, String parentLsn, String backup,
                 List<PromoteReport.DatabasePromote> databases, List<DataChange> dataNotCarried, List<String> notes,
                 Map<String, Long> timingsMs) {
        this.branch = branch;
        this.parent = parent;
        this.base = base;
        this.dryRun = dryRun;
        this.parentLsn = parentLsn;
        this.backup = backup;
        this.databases = List.copyOf(databases);
        this.dataNotCarried = List.copyOf(dataNotCarried);
        this.notes = List.copyOf(notes);
        this.timingsMs = new LinkedHashMap<>(timingsMs);
    }

    /** The backup branch holding the replaced state, or null (dry run). */
    public String backup() {
        return backup;
    }

    public boolean rebased() {
        return backup != null;
    }

    public List<DataChange> dataNotCarried() {
        return dataNotCarried;
    }

    public String toJson() {
        ObjectNode root = Json.object();
        root.put("branch", branch);
        root.put("parent", parent);
        root.put("base", base);
        root.put("dryRun", dryRun);
        root.put("rebased", rebased());
        root.put("parentLsn", parentLsn);
        root.put("backup", backup);
        ArrayNode list = root.putArray("databases");
        for (PromoteReport.DatabasePromote d : databases) {
            ObjectNode node = list.addObject();
            node.put("database", d.database());
            node.setAll((ObjectNode) Json.parse(d.result().toJson()));
        }
        ArrayNode data = root.putArray("dataNotCarried");
        for (DataChange c : dataNotCarried) {
            data.addObject().put("database", c.database()).put("table", c.table()).put("added", c.added())
                    .put("removed", c.removed()).put("changed", c.changed());
        }
        Json.strings(root, "notes", notes);
        Json.timings(root, timingsMs);
        return Json.write(root);
    }

    /** Lines for people: what is (or would be) replayed, what stays behind, where the old state is. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        notes.forEach(n -> sb.append("note: ").append(n).append('\n'));
        sb.append(dryRun ? "would rebase " : "rebased ").append(branch).append(" onto ").append(parent)
                .append(parentLsn == null ? "'s head" : " at " + parentLsn).append('\n');
        for (PromoteReport.DatabasePromote d : databases) {
            PromoteResult r = d.result();
            sb.append("database ").append(d.database()).append(": ").append(r.promoted().size())
                    .append(" schema change(s) and ").append(r.historyRowsCarried())
                    .append(" migration-history row(s) of ").append(branch).append(dryRun ? " to replay\n" : " replayed\n");
            for (Change c : r.promoted()) {
                sb.append("  ").append(c).append('\n');
            }
        }
        if (dataNotCarried.isEmpty()) {
            sb.append("data changes not carried: none\n");
        } else {
            sb.append("data changes not carried (they stay in the backup branch):\n");
            for (DataChange c : dataNotCarried) {
                sb.append("  ").append(c.database()).append(' ').append(c.table()).append(": +").append(c.added())
                        .append(" -").append(c.removed()).append(" ~").append(c.changed()).append(" row(s)\n");
            }
        }
        if (backup != null) {
            sb.append("the previous state is branch ").append(backup).append('\n');
        }
        return sb.toString();
    }
}

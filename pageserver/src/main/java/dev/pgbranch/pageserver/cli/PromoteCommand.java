package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;

/**
 * {@code pgbranch promote <branch> [--dry-run] [--force] [--database D] [--concurrent-indexes]}:
 * applies the branch's schema changes since its branch point to its parent. Refused on conflicts
 * or a protected parent unless {@code --force}; verified afterwards.
 */
@Command(name = "promote", mixinStandardHelpOptions = true,
        description = "Apply a branch's schema changes (since it was taken) to its parent, in one transaction per "
                + "database; refused on conflicts or a protected parent unless --force.")
final class PromoteCommand extends ClientCommand {

    @Parameters(index = "0", paramLabel = "BRANCH", converter = BranchNameConverter.class)
    String name;

    @Option(names = "--dry-run", description = "Show what would be applied; change nothing.")
    boolean dryRun;

    @Option(names = "--force", description = "Promote despite conflicts (the branch's version wins) or a protected parent.")
    boolean force;

    @Option(names = "--database", paramLabel = "NAME", description = "Promote only this database (default: all).")
    String database;

    @Option(names = "--concurrent-indexes",
            description = "Build new indexes on existing tables with CREATE INDEX CONCURRENTLY, after the transaction.")
    boolean concurrentIndexes;

    @Override
    void run(ApiClient client) {
        ObjectNode body = ApiClient.JSON.createObjectNode().put("dryRun", dryRun).put("force", force)
                .put("concurrentIndexes", concurrentIndexes);
        if (database != null) {
            body.put("database", database);
        }
        JsonNode report = client.post(branchPath(name) + "/promote", body);
        if (options.json()) {
            printJson(report);
            return;
        }
        PrintWriter out = out();
        report.path("notes").forEach(n -> out.println("note: " + n.asText()));
        String branch = report.path("branch").asText();
        String parent = report.path("parent").asText();
        for (JsonNode db : report.path("databases")) {
            JsonNode promoted = db.path("promoted");
            int historyRows = db.path("historyRowsCarried").asInt();
            out.print("database " + db.path("database").asText() + ": ");
            if (promoted.isEmpty() && historyRows == 0) {
                out.println("nothing to promote from " + branch);
                continue;
            }
            if (db.path("migration").isEmpty() && historyRows == 0) {
                out.println("already up to date (" + promoted.size() + " change(s) of " + branch + " already on " + parent + ")");
                continue;
            }
            out.println((dryRun ? "would promote " : db.path("applied").asBoolean() ? "promoted " : "nothing applied for ")
                    + promoted.size() + " change(s) from " + branch + " into " + parent);
            for (JsonNode c : promoted) {
                out.println("  " + c.path("change").asText() + " " + c.path("kind").asText() + " " + c.path("object").asText());
            }
            for (JsonNode c : db.path("overriddenConflicts")) {
                out.println("  conflict overridden by --force: " + c.path("kind").asText() + " " + c.path("object").asText());
            }
            out.print(db.path("sql").asText());
            if (historyRows > 0) {
                out.println("migration history: " + historyRows + " row(s) " + (dryRun ? "would be " : "")
                        + "carried in the same transaction");
                for (JsonNode t : db.path("history")) {
                    out.println("  " + t.path("table").asText() + " (" + t.path("tool").asText() + "): "
                            + t.path("carried").size() + " row(s)");
                }
            }
        }
        if (!dryRun) {
            out.println(report.path("verified").asBoolean()
                    ? "verified: " + parent + " now has every promoted object as on " + branch : "NOT verified");
        }
        out.flush();
    }
}

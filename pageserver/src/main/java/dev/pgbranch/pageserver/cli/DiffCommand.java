package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgbranch.pageserver.schema.DiffFormat;
import dev.pgbranch.pageserver.schema.SchemaException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.Locale;

/**
 * {@code pgbranch diff <branch> [--against B] [--database D] [--format F]}: the schema diff of a
 * branch against its parent (three-way, with the parent as it was at the branch point as base)
 * or against any branch (two-way). {@code --output json} prints the server's JSON report.
 *
 * <p>{@code --data [--table T] [--against B | B@point] [--format table|json|sql]
 * [--apply [--dry-run]]}: the row-level data diff instead; {@code --apply} with
 * {@code --against <branch>@<point>} runs the SQL that brings the rows back (selective restore).
 */
@Command(name = "diff", mixinStandardHelpOptions = true,
        description = "Compare the schema of a branch with its parent (three-way: changed on the branch, changed "
                + "on the parent since, conflicts) or with another branch.")
final class DiffCommand extends ClientCommand {

    @Parameters(index = "0", paramLabel = "BRANCH", converter = BranchNameConverter.class)
    String name;

    @Option(names = "--against", paramLabel = "BRANCH",
            description = "Branch to compare with (default: the branch's parent, three-way); with --data also "
                    + "BRANCH@<time or LSN>, a point in a branch's history.")
    String against;

    @Option(names = "--data", description = "Compare rows instead of the schema (only the pages changed since the "
            + "branch point are read).")
    boolean data;

    @Option(names = "--table", paramLabel = "[SCHEMA.]TABLE", description = "With --data: only this table.")
    String table;

    @Option(names = "--apply", description = "With --data --against <this branch>@<point>: bring the rows back, in one "
            + "transaction per database.")
    boolean apply;

    @Option(names = "--dry-run", description = "With --apply: print the SQL, change nothing.")
    boolean dryRun;

    @Option(names = "--limit", paramLabel = "N", description = "With --data: list at most N rows per table (counts stay "
            + "complete; the SQL format is always complete).")
    Integer limit;

    @Option(names = "--database", paramLabel = "NAME", description = "Compare only this database (default: all).")
    String database;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "unified",
            description = "side-by-side, unified, sql (the migration turning the other branch into this one) or json "
                    + "(default: ${DEFAULT-VALUE}).")
    String format;

    @Override
    void run(ApiClient client) {
        if (data) {
            runData(client);
            return;
        }
        if (table != null || apply || dryRun) {
            throw new CliException(CliException.USAGE, "--table, --apply and --dry-run go with --data");
        }
        if (against != null) {
            new BranchNameConverter().convert(against);
        }
        DiffFormat parsed;
        try {
            parsed = options.json() ? DiffFormat.JSON : DiffFormat.parse(format);
        } catch (SchemaException e) {
            throw new CliException(CliException.USAGE, e.getMessage());
        }
        StringBuilder query = new StringBuilder("?format=")
                .append(parsed.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        if (against != null) {
            query.append("&against=").append(ApiClient.encode(against));
        }
        if (database != null) {
            query.append("&database=").append(ApiClient.encode(database));
        }
        JsonNode report = client.get(branchPath(name) + "/schema-diff" + query);
        if (parsed == DiffFormat.JSON) {
            printJson(report);
            return;
        }
        out().print(report.path("rendered").asText());
        out().flush();
    }

    private void runData(ApiClient client) {
        String fmt = options.json() ? "json" : format.equals("unified") ? "table" : format;
        if (!fmt.equals("table") && !fmt.equals("json") && !fmt.equals("sql")) {
            throw new CliException(CliException.USAGE, "with --data the format is table, json or sql, not '" + format + "'");
        }
        if (apply) {
            String prefix = name + "@";
            if (against == null || !against.startsWith(prefix) || against.length() == prefix.length()) {
                throw new CliException(CliException.USAGE, "--apply restores rows from the branch's own history: give "
                        + "--against " + name + "@<time or LSN>");
            }
            com.fasterxml.jackson.databind.node.ObjectNode body = ApiClient.JSON.createObjectNode()
                    .put("at", against.substring(prefix.length())).put("dryRun", dryRun);
            if (table != null) {
                body.put("table", table);
            }
            if (database != null) {
                body.put("database", database);
            }
            JsonNode r = client.post(branchPath(name) + "/data-restore", body);
            if (options.json()) {
                printJson(r);
                return;
            }
            out().print(r.path("sql").asText());
            out().println(dryRun ? "dry run: " + r.path("statements").asInt() + " statement(s) would run"
                    : r.path("applied").asBoolean() ? "restored: " + r.path("statements").asInt() + " statement(s) ran in one transaction"
                    : "nothing to restore");
            out().flush();
            return;
        }
        if (dryRun) {
            throw new CliException(CliException.USAGE, "--dry-run goes with --apply");
        }
        StringBuilder query = new StringBuilder("?format=").append(fmt);
        if (against != null) {
            query.append("&against=").append(ApiClient.encode(against));
        }
        if (database != null) {
            query.append("&database=").append(ApiClient.encode(database));
        }
        if (table != null) {
            query.append("&table=").append(ApiClient.encode(table));
        }
        if (limit != null) {
            query.append("&limit=").append(limit);
        }
        JsonNode report = client.get(branchPath(name) + "/data-diff" + query);
        if (fmt.equals("json")) {
            printJson(report);
            return;
        }
        out().print(report.path("rendered").asText());
        out().flush();
    }
}

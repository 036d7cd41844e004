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
 */
@Command(name = "diff", mixinStandardHelpOptions = true,
        description = "Compare the schema of a branch with its parent (three-way: changed on the branch, changed "
                + "on the parent since, conflicts) or with another branch.")
final class DiffCommand extends ClientCommand {

    @Parameters(index = "0", paramLabel = "BRANCH", converter = BranchNameConverter.class)
    String name;

    @Option(names = "--against", paramLabel = "BRANCH", converter = BranchNameConverter.class,
            description = "Branch to compare with (default: the branch's parent, three-way).")
    String against;

    @Option(names = "--database", paramLabel = "NAME", description = "Compare only this database (default: all).")
    String database;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "unified",
            description = "side-by-side, unified, sql (the migration turning the other branch into this one) or json "
                    + "(default: ${DEFAULT-VALUE}).")
    String format;

    @Override
    void run(ApiClient client) {
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
}

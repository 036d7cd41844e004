package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgbranch project show|set}: the project's retention window and disk usage. */
@Command(name = "project", description = "Show or change project settings (retention window) and disk usage.",
        mixinStandardHelpOptions = true, subcommands = {ProjectCommands.Show.class, ProjectCommands.Set.class})
final class ProjectCommands {

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Show the project: retention window, branches, disk usage.")
    static final class Show extends ClientCommand {
        @Override
        void run(ApiClient client) {
            printFields(client.get(ApiClient.projectPath(options.project)));
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = "Change project settings.")
    static final class Set extends ClientCommand {
        @Option(names = "--retention", required = true, paramLabel = "DURATION",
                description = "How far back point-in-time branches and restores reach (7d, 12h, 30m, 0s or "
                        + "ISO-8601 P7D). Older history is given up at the next garbage collection and does not come "
                        + "back with a longer window. Default of a new project: 7d.")
        String retention;

        @Override
        void run(ApiClient client) {
            ObjectNode body = ApiClient.JSON.createObjectNode().put("retention", retention);
            printFields(client.patch(ApiClient.projectPath(options.project), body));
        }
    }

    private ProjectCommands() {
    }
}

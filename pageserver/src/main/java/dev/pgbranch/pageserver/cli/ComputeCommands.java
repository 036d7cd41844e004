package dev.pgbranch.pageserver.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code pgbranch compute start|stop <branch>}. */
@Command(name = "compute", description = "Start or stop a branch's Postgres compute.", mixinStandardHelpOptions = true,
        subcommands = {ComputeCommands.Start.class, ComputeCommands.Stop.class})
final class ComputeCommands {

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = "Start the branch's compute; returns once it accepts connections.")
    static final class Start extends ClientCommand {
        @Parameters(index = "0", paramLabel = "BRANCH", converter = BranchNameConverter.class)
        String name;

        @Override
        void run(ApiClient client) {
            printBranch(client.post(branchPath(name) + "/compute/start", ApiClient.JSON.createObjectNode()));
        }
    }

    @Command(name = "stop", description = "Stop the branch's compute (fast shutdown).", mixinStandardHelpOptions = true)
    static final class Stop extends ClientCommand {
        @Parameters(index = "0", paramLabel = "BRANCH", converter = BranchNameConverter.class)
        String name;

        @Override
        void run(ApiClient client) {
            printBranch(client.post(branchPath(name) + "/compute/stop", ApiClient.JSON.createObjectNode()));
        }
    }

    private ComputeCommands() {
    }
}

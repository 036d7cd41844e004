package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pgbranch connect <branch>}: prints the branch's connection URI (alone on a line, so
 * {@code psql "$(pgbranch connect dev/alex)"} works), starting the compute first unless
 * {@code --no-start}.
 */
@Command(name = "connect", mixinStandardHelpOptions = true,
        description = "Print the branch's connection string (postgresql://...), starting its compute if needed.")
final class ConnectCommand extends ClientCommand {

    @Parameters(index = "0", paramLabel = "BRANCH", converter = BranchNameConverter.class)
    String name;

    @Option(names = "--no-start", description = "Do not start the compute, only print the connection string.")
    boolean noStart;

    @Override
    void run(ApiClient client) {
        String path = branchPath(name);
        if (!noStart) {
            client.post(path + "/compute/start", ApiClient.JSON.createObjectNode());
        }
        JsonNode connection = client.get(path + "/connection");
        if (options.json()) {
            printJson(connection);
        } else {
            out().println(connection.path("uri").asText());
            out().flush();
        }
    }
}

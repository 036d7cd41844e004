package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pgbranch connect <branch>}: prints the branch's connection URI through the wire proxy
 * (alone on a line, so {@code psql "$(pgbranch connect dev/alex)"} works): the branch's own
 * stable port, or with {@code --routing} the proxy's routing port naming the branch in
 * {@code options}. The proxy starts a suspended compute on the first connection; {@code --start}
 * starts it now instead, so that connection does not wait.
 */
@Command(name = "connect", mixinStandardHelpOptions = true,
        description = "Print the branch's connection string (postgresql://..., through the proxy, which starts a "
                + "suspended compute on the first connection).")
final class ConnectCommand extends ClientCommand {

    @Parameters(index = "0", paramLabel = "BRANCH", converter = BranchNameConverter.class)
    String name;

    @Option(names = "--routing", description = "Print the routing-port form (...?options=branch%%3D<branch>) instead "
            + "of the branch's own port.")
    boolean routing;

    @Option(names = "--start", description = "Start the compute now rather than on the first connection.")
    boolean start;

    @Override
    void run(ApiClient client) {
        String path = branchPath(name);
        if (start) {
            client.post(path + "/compute/start", ApiClient.JSON.createObjectNode());
        }
        JsonNode connection = client.get(path + "/connection");
        if (options.json()) {
            printJson(connection);
            return;
        }
        JsonNode uri = connection.path(routing ? "routingUri" : "uri");
        if (uri.isMissingNode() || uri.isNull()) {
            throw new CliException(CliException.REFUSED, "the server has no routing port; connect to the branch's "
                    + "own port instead (without --routing)");
        }
        out().println(uri.asText());
        out().flush();
    }
}

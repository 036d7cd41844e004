package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgbranch.pageserver.branch.BranchException;
import dev.pgbranch.pageserver.branch.RoutingName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * {@code pgbranch connect <branch>}: prints the branch's connection URI through the wire proxy
 * (alone on a line, so {@code psql "$(pgbranch connect dev/alex)"} works): the branch's own
 * stable port, or with {@code --routing} the proxy's routing port naming the branch in
 * {@code options}. The proxy starts a suspended compute on the first connection; {@code --start}
 * starts it now instead, so that connection does not wait.
 *
 * <p>{@code --at <point>} prints the routing-port URI of read-only time travel: the branch as it
 * was at that LSN or time ({@code ...?options=branch%3Ddev%2Falex%400%2F16B3748}), served by a
 * throwaway compute the proxy starts on the first connection and removes when it goes idle. It
 * runs on a temporary timeline branched at the point: sessions start read-only, and even a forced
 * write never reaches the branch or its history. The point's syntax is checked here; whether the
 * branch has history there is checked on connecting (FATAL 22023 if not).
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

    @Option(names = "--at", paramLabel = "POINT", description = "Read-only time travel: the routing-port string of "
            + "the branch as it was at POINT, an LSN as branch show prints it (0/16B3748) or an ISO-8601 time with "
            + "offset (2026-11-20T10:00:00Z). A throwaway compute on a temporary timeline serves it, read-only by "
            + "default; nothing done in it changes the branch or its history, and it is removed once idle.")
    String at;

    @Override
    void run(ApiClient client) {
        if (at != null && start) {
            throw new CliException(CliException.USAGE, "--start and --at do not go together: the time-travel compute "
                    + "starts on the first connection");
        }
        String path = branchPath(name);
        if (start) {
            client.post(path + "/compute/start", ApiClient.JSON.createObjectNode());
        }
        JsonNode connection = client.get(path + "/connection");
        JsonNode uri = connection.path(routing || at != null ? "routingUri" : "uri");
        if (at != null) {
            uri = timeTravelUri(connection, uri);
        }
        if (options.json()) {
            if (at != null) {
                ((ObjectNode) connection).put("timeTravelUri", uri.asText());
            }
            printJson(connection);
            return;
        }
        if (uri.isMissingNode() || uri.isNull()) {
            throw new CliException(CliException.REFUSED, "the server has no routing port; connect to the branch's "
                    + "own port instead (without --routing)");
        }
        out().println(uri.asText());
        out().flush();
    }

    /** The routing URI with the branch's {@code options} token naming the point too. */
    private JsonNode timeTravelUri(JsonNode connection, JsonNode routingUri) {
        if (routingUri.isMissingNode() || routingUri.isNull()) {
            throw new CliException(CliException.REFUSED, "the server has no routing port, and time travel is served "
                    + "only there");
        }
        String routingName = connection.path("branch").asText();
        RoutingName.Target target;
        try {
            target = RoutingName.parseTarget(routingName + "@" + at.strip())
                    .orElseThrow(() -> new CliException(CliException.REFUSED, "the server named the branch \""
                            + routingName + "\", which is not a routing name"));
        } catch (BranchException e) {
            throw new CliException(CliException.USAGE, "--at: " + e.getMessage());
        }
        String text = routingUri.asText();
        int query = text.indexOf("?options=");
        if (query < 0) {
            throw new CliException(CliException.REFUSED, "unexpected routing URI from the server (no options)");
        }
        if (options.json()) {
            ((ObjectNode) connection).put("at", target.point());
        }
        return ApiClient.JSON.getNodeFactory().textNode(text.substring(0, query) + "?options="
                + URLEncoder.encode("branch=" + target, StandardCharsets.UTF_8));
    }
}

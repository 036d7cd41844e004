package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;

/**
 * {@code pgbranch console}: prints a one-time login link to the server's web console (alone on
 * a line). The link opens a browser session once, within five minutes; the console's login form
 * also takes the API token itself.
 */
@Command(name = "console", mixinStandardHelpOptions = true,
        description = "Print a one-time login link to the web console (valid once, for 5 minutes).")
final class ConsoleCommand extends ClientCommand {

    @Override
    void run(ApiClient client) {
        JsonNode link = client.post("/v1/console/login-links", ApiClient.JSON.createObjectNode());
        if (options.json()) {
            printJson(link);
            return;
        }
        out().println(link.path("url").asText());
        out().flush();
    }
}

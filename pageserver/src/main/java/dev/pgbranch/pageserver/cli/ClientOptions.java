package dev.pgbranch.pageserver.cli;

import dev.pgbranch.pageserver.api.ApiToken;
import dev.pgbranch.pageserver.api.ServerInfo;
import dev.pgbranch.pageserver.catalog.Project;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The options every client command shares: where the server is ({@code --data-dir}, or
 * {@code --api} with {@code PGBRANCH_TOKEN}), which project, and the output format.
 */
final class ClientOptions {

    enum Output { table, json }

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Data directory of the server to talk to (its server.json and api-token). "
                    + "Default: $PGBRANCH_DATA_DIR, else $XDG_DATA_HOME/pgbranch, else ~/.local/share/pgbranch.")
    Path dataDirectory;

    @Option(names = "--api", paramLabel = "URL",
            description = "API base URL (e.g. http://127.0.0.1:8432) instead of --data-dir; the token comes from $PGBRANCH_TOKEN.")
    String api;

    @Option(names = {"-p", "--project"}, paramLabel = "PROJECT", defaultValue = Project.DEFAULT,
            description = "Project (default: ${DEFAULT-VALUE}).")
    String project;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Output output;

    boolean json() {
        return output == Output.json;
    }

    /** A client for the server these options designate. */
    ApiClient client() {
        String envToken = System.getenv("PGBRANCH_TOKEN");
        if (api != null) {
            String token = envToken;
            if (token == null && dataDirectory != null) {
                token = readToken(dataDirectory);
            }
            if (token == null || token.isBlank()) {
                throw new CliException(CliException.USAGE, "--api needs the API token in $PGBRANCH_TOKEN "
                        + "(the content of <data-dir>/" + ApiToken.FILE_NAME + " on the server)");
            }
            return new ApiClient(api, token);
        }
        Path dir = dataDirectory != null ? dataDirectory : defaultDataDirectory();
        ServerInfo info;
        try {
            info = ServerInfo.read(dir);
        } catch (IOException e) {
            throw new CliException(CliException.UNREACHABLE, e.getMessage());
        }
        Optional<ProcessHandle> process = ProcessHandle.of(info.pid());
        if (process.isEmpty() || !process.get().isAlive()) {
            throw new CliException(CliException.UNREACHABLE, "the pgbranch server of " + dir + " (pid " + info.pid()
                    + ") is not running any more; start it again with: pgbranch server --data-dir " + dir);
        }
        return new ApiClient(info.api(), envToken != null ? envToken : readToken(dir));
    }

    private static String readToken(Path dir) {
        Path file = dir.resolve(ApiToken.FILE_NAME);
        try {
            return ApiToken.load(file).value();
        } catch (IOException e) {
            throw new CliException(CliException.UNREACHABLE, "cannot read the API token " + file + ": " + e.getMessage()
                    + (Files.exists(file) ? " (run as the user who owns the data directory)" : ""));
        }
    }

    /** $PGBRANCH_DATA_DIR, else $XDG_DATA_HOME/pgbranch, else ~/.local/share/pgbranch. */
    static Path defaultDataDirectory() {
        String explicit = System.getenv("PGBRANCH_DATA_DIR");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String xdg = System.getenv("XDG_DATA_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "pgbranch");
        }
        return Path.of(System.getProperty("user.home"), ".local", "share", "pgbranch");
    }
}

package dev.pgbranch.pageserver.cli;

import dev.pgbranch.pageserver.PageServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code pgbranch server}: runs the server in the foreground until SIGTERM / SIGINT, then shuts
 * down cleanly (API closed, computes stopped with a fast shutdown, mounts unmounted, store
 * closed). The first start on an empty data directory creates the default project.
 */
@Command(name = "server", mixinStandardHelpOptions = true,
        description = "Run the pgbranch server (storage, computes, management API) until stopped.")
final class ServerCommand implements Callable<Integer> {

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Data directory (created if absent). Default: $PGBRANCH_DATA_DIR, else "
                    + "$XDG_DATA_HOME/pgbranch, else ~/.local/share/pgbranch.")
    Path dataDirectory;

    @Option(names = "--api-port", paramLabel = "N", defaultValue = "8432",
            description = "Management API port on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int apiPort;

    @Option(names = "--proxy-port", paramLabel = "N",
            description = "Routing port of the wire proxy (not linked into this build yet: giving it is an error).")
    Integer proxyPort;

    @Option(names = "--branch-port-base", paramLabel = "N",
            description = "First port handed to new branches (default: the one recorded in the data directory, else "
                    + PageServer.DEFAULT_BRANCH_PORT_BASE + ").")
    Integer branchPortBase;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (proxyPort != null) {
            throw new CliException(CliException.USAGE, "--proxy-port: the wire proxy is not linked into this build "
                    + "yet; clients connect to each branch's own port");
        }
        if (apiPort < 0 || apiPort > 65535) {
            throw new CliException(CliException.USAGE, "--api-port must be between 0 and 65535");
        }
        if (branchPortBase != null && (branchPortBase < 1024 || branchPortBase > 65535)) {
            throw new CliException(CliException.USAGE, "--branch-port-base must be between 1024 and 65535");
        }
        Path dir = dataDirectory != null ? dataDirectory : ClientOptions.defaultDataDirectory();
        PageServer server = PageServer.start(new PageServer.Config(dir, apiPort, branchPortBase));
        CountDownLatch stopped = new CountDownLatch(1);
        PrintWriter out = spec.commandLine().getOut();
        Thread hook = new Thread(() -> {
            // Printed directly: java.util.logging may already be shut down by its own hook.
            out.println("pgbranch server stopping: computes, mounts, store");
            out.flush();
            try {
                server.close();
            } finally {
                out.println("pgbranch server stopped");
                out.flush();
                stopped.countDown();
            }
        }, "pgbranch-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("pgbranch server ready: API http://127.0.0.1:" + server.apiPort()
                + ", data directory " + server.dataDirectory());
        out.flush();
        stopped.await();
        return 0;
    }
}

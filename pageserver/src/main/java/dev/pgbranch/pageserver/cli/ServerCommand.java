package dev.pgbranch.pageserver.cli;

import dev.pgbranch.pageserver.PageServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code pgbranch server}: runs the server and its wire proxy in the foreground until SIGTERM /
 * SIGINT, then shuts down cleanly (API and proxy closed, computes stopped with a fast shutdown,
 * mounts unmounted, store closed). The first start on an empty data directory creates the
 * default project.
 */
@Command(name = "server", mixinStandardHelpOptions = true,
        description = "Run the pgbranch server (storage, computes, wire proxy, management API) until stopped.")
final class ServerCommand implements Callable<Integer> {

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Data directory (created if absent). Default: $PGBRANCH_DATA_DIR, else "
                    + "$XDG_DATA_HOME/pgbranch, else ~/.local/share/pgbranch.")
    Path dataDirectory;

    @Option(names = "--api-port", paramLabel = "N", defaultValue = "8432",
            description = "Management API port on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int apiPort;

    @Option(names = "--proxy-port", paramLabel = "N", defaultValue = "" + PageServer.DEFAULT_PROXY_PORT,
            description = "Routing port of the wire proxy on 127.0.0.1, where clients name the branch "
                    + "(options=branch=dev/alex, dbname@branch or TLS SNI); 0 picks a free one, recorded in "
                    + "server.json (default: ${DEFAULT-VALUE}).")
    int proxyPort;

    @Option(names = "--idle-timeout", paramLabel = "DURATION", defaultValue = "5m",
            description = "Stop a compute after this long without client connections; the next connection starts "
                    + "it again (90s, 5m, 1h; default: ${DEFAULT-VALUE}).")
    String idleTimeout;

    @Option(names = "--wake-timeout", paramLabel = "DURATION", defaultValue = "60s",
            description = "A client waiting longer for its branch's compute to start gets FATAL 57P03 "
                    + "(default: ${DEFAULT-VALUE}).")
    String wakeTimeout;

    @Option(names = "--gc-interval", paramLabel = "DURATION", defaultValue = "10m",
            description = "Time between two garbage collections, which give up history older than each project's "
                    + "retention window ('pgbranch project set --retention'); 'pgbranch gc' runs one now "
                    + "(default: ${DEFAULT-VALUE}).")
    String gcInterval;

    @Option(names = "--tls-cert", paramLabel = "PEM",
            description = "Certificate chain the proxy presents to TLS clients (default: a self-signed one made at start).")
    Path tlsCertificate;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "PKCS#8 private key of --tls-cert.")
    Path tlsPrivateKey;

    @Option(names = "--branch-port-base", paramLabel = "N",
            description = "First port handed to new branches (default: the one recorded in the data directory, else "
                    + PageServer.DEFAULT_BRANCH_PORT_BASE + ").")
    Integer branchPortBase;

    @Option(names = "--accept-older-catalog",
            description = "Start even though catalog.json is missing or older than the store (put back from a backup). "
                    + "The timelines it does not list are quarantined, not deleted: 'pgbranch store quarantine list', "
                    + "then 'adopt' or 'purge'. Without it such a start is refused and nothing is written.")
    boolean acceptOlderCatalog;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (apiPort < 0 || apiPort > 65535) {
            throw new CliException(CliException.USAGE, "--api-port must be between 0 and 65535");
        }
        if (proxyPort < 0 || proxyPort > 65535) {
            throw new CliException(CliException.USAGE, "--proxy-port must be between 0 and 65535");
        }
        if ((tlsCertificate == null) != (tlsPrivateKey == null)) {
            throw new CliException(CliException.USAGE, "--tls-cert and --tls-key go together");
        }
        for (Path pem : new Path[] {tlsCertificate, tlsPrivateKey}) {
            if (pem != null && !Files.isReadable(pem)) {
                throw new CliException(CliException.USAGE, "cannot read " + pem);
            }
        }
        Duration idle = Durations.parse(idleTimeout);
        Duration wake = Durations.parse(wakeTimeout);
        Duration gc = Durations.parse(gcInterval);
        if (branchPortBase != null && (branchPortBase < 1024 || branchPortBase > 65535)) {
            throw new CliException(CliException.USAGE, "--branch-port-base must be between 1024 and 65535");
        }
        Path dir = dataDirectory != null ? dataDirectory : ClientOptions.defaultDataDirectory();
        PageServer server = PageServer.start(new PageServer.Config(dir, apiPort, branchPortBase, proxyPort, idle, wake,
                tlsCertificate, tlsPrivateKey, gc, acceptOlderCatalog));
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
        out.println("pgbranch server ready: API http://127.0.0.1:" + server.apiPort() + ", proxy routing port "
                + server.proxyPort() + ", data directory " + server.dataDirectory());
        out.flush();
        stopped.await();
        return 0;
    }
}

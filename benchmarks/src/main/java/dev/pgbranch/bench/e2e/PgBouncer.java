package dev.pgbranch.bench.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * PgBouncer from the OS package ({@code /usr/sbin/pgbouncer}), in session mode in front of one
 * Postgres server: the relay reference the routing port is measured against, through the same
 * pgbench in the same run. It authenticates clients with SCRAM from a 0600 user list holding the
 * password, and the server the same way, like the proxy's pass-through.
 *
 * <p>Runs as the {@code postgres} user when the driver is root (PgBouncer refuses root), started
 * with {@code setpriv}, which execs in place, so the child process is PgBouncer itself and is
 * stopped by its pid. Not thread-safe.
 */
final class PgBouncer implements AutoCloseable {

    static final Path BINARY = Path.of("/usr/sbin/pgbouncer");

    private final Process process;
    private final Endpoint endpoint;

    private PgBouncer(Process process, Endpoint endpoint) {
        this.process = process;
        this.endpoint = endpoint;
    }

    static boolean installed() {
        return Files.isExecutable(BINARY);
    }

    /** Starts PgBouncer in {@code directory} (created) relaying to {@code server}; returns once it accepts. */
    static PgBouncer start(Endpoint server, Path directory) {
        try {
            Files.createDirectories(directory);
            PlainCluster.chownToPostgres(directory);
            int port = PgbranchServer.freePort();
            Path users = directory.resolve("userlist.txt");
            Files.deleteIfExists(users);
            Files.createFile(users, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(users, "\"" + server.user() + "\" \"" + server.password() + "\"\n", StandardCharsets.UTF_8);
            PlainCluster.chownToPostgres(users);
            Path config = directory.resolve("pgbouncer.ini");
            Files.writeString(config, String.join("\n",
                    "[databases]",
                    "* = host=" + server.host() + " port=" + server.port(),
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    "listen_port = " + port,
                    "unix_socket_dir =",
                    "auth_type = scram-sha-256",
                    "auth_file = " + users,
                    "pool_mode = session",
                    "max_client_conn = 200",
                    "default_pool_size = 50",
                    "logfile = " + directory.resolve("pgbouncer.log"),
                    "ignore_startup_parameters = extra_float_digits,options",
                    ""), StandardCharsets.UTF_8);
            PlainCluster.chownToPostgres(config);
            List<String> command = new ArrayList<>();
            if (Commands.runningAsRoot()) {
                command.addAll(List.of("/usr/bin/setpriv", "--reuid=" + Commands.POSTGRES_USER,
                        "--regid=" + Commands.POSTGRES_USER, "--init-groups"));
            }
            command.addAll(List.of(BINARY.toString(), config.toString()));
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(directory.resolve("pgbouncer.out").toFile()).start();
            Endpoint endpoint = new Endpoint("127.0.0.1", port, server.user(), server.password(), server.database(),
                    Map.of());
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (true) {
                try (Socket probe = new Socket()) {
                    probe.connect(new InetSocketAddress("127.0.0.1", port), 500);
                    return new PgBouncer(process, endpoint);
                } catch (IOException e) {
                    if (!process.isAlive() || System.nanoTime() > deadline) {
                        process.destroyForcibly();
                        throw new BenchException("pgbouncer did not start: "
                                + Files.readString(directory.resolve("pgbouncer.out")).strip(), e);
                    }
                    PgbranchServer.sleep(50);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start pgbouncer in " + directory, e);
        }
    }

    Endpoint endpoint() {
        return endpoint;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}

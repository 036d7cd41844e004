package dev.pgbranch.bench.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The reference: a plain PostgreSQL cluster on local disk, {@code initdb}'d by the driver the way
 * pgbranch initializes its projects (superuser {@code postgres}, SCRAM over TCP, UTF-8,
 * {@code C.UTF-8}), listening on 127.0.0.1 only, with the settings copied from a pgbranch
 * compute ({@link #configure}) so both sides run the same {@code postgresql.conf}.
 *
 * <p>{@link #close} stops it whatever its state: {@code pg_ctl stop -m immediate}, then SIGKILL
 * to the postmaster pid read from {@code postmaster.pid} if it is still alive.
 *
 * <p>Thread-safety: not thread-safe; one driver thread uses it.
 */
final class PlainCluster implements AutoCloseable {

    private static final Duration INITDB_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration PG_CTL_TIMEOUT = Duration.ofMinutes(5);

    private final Path bin;
    private final Path dataDirectory;
    private final Path runDirectory;
    private final int port;
    private final String password;
    private long postmasterPid;

    private PlainCluster(Path bin, Path dataDirectory, Path runDirectory, int port, String password) {
        this.bin = bin;
        this.dataDirectory = dataDirectory;
        this.runDirectory = runDirectory;
        this.port = port;
        this.password = password;
    }

    /**
     * Runs {@code initdb} into {@code dataDirectory} (which must not exist) with its Unix socket
     * and log in {@code runDirectory}, both owned by the postgres user when running as root.
     */
    static PlainCluster initialize(Path bin, Path dataDirectory, Path runDirectory, String password) {
        try {
            Files.createDirectories(runDirectory);
            Files.createDirectory(dataDirectory, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path passwordFile = runDirectory.resolve("pwfile");
            Files.writeString(passwordFile, password + "\n", StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
            for (Path p : List.of(runDirectory, dataDirectory, passwordFile)) {
                chownToPostgres(p);
            }
            PlainCluster cluster = new PlainCluster(bin, dataDirectory, runDirectory, PgbranchServer.freePort(), password);
            try {
                Commands.check("initdb of the plain cluster", Commands.asPostgres(List.of(bin.resolve("initdb").toString(),
                        "-D", dataDirectory.toString(), "-U", "postgres", "--auth-host=scram-sha-256", "--auth-local=peer",
                        "--pwfile=" + passwordFile, "-E", "UTF8", "--locale=C.UTF-8")), Map.of(), runDirectory, INITDB_TIMEOUT);
            } finally {
                Files.deleteIfExists(passwordFile);
            }
            return cluster;
        } catch (IOException e) {
            throw new BenchException("cannot prepare the plain cluster in " + dataDirectory + ": " + e.getMessage(), e);
        }
    }

    /**
     * Appends {@code settings} (name → value, as pg_settings shows them) to postgresql.conf, then
     * this cluster's own port, listen address and socket directory.
     */
    void configure(Map<String, String> settings) {
        StringBuilder conf = new StringBuilder("\n# --- copied from a pgbranch compute by the benchmark driver ---\n");
        new TreeMap<>(settings).forEach((name, value) -> conf.append(name).append(" = ").append(Sql.literal(value)).append('\n'));
        conf.append("# --- this cluster ---\n")
                .append("port = ").append(port).append('\n')
                .append("listen_addresses = '127.0.0.1'\n")
                .append("unix_socket_directories = ").append(Sql.literal(runDirectory.toString())).append('\n');
        try {
            Files.writeString(dataDirectory.resolve("postgresql.conf"), conf, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new BenchException("cannot write postgresql.conf of the plain cluster: " + e.getMessage(), e);
        }
    }

    /** {@code pg_ctl start -w}; returns its wall-clock time in nanoseconds. */
    long start() {
        Commands.Result result = Commands.check("pg_ctl start of the plain cluster", Commands.asPostgres(List.of(
                bin.resolve("pg_ctl").toString(), "start", "-w", "-t", Long.toString(PG_CTL_TIMEOUT.toSeconds()),
                "-D", dataDirectory.toString(), "-l", runDirectory.resolve("postgres.log").toString())),
                Map.of(), runDirectory, PG_CTL_TIMEOUT.plusSeconds(30));
        postmasterPid = readPostmasterPid();
        return result.nanos();
    }

    /** {@code pg_ctl stop -m fast -w} (a shutdown checkpoint, like a compute stop). */
    void stop() {
        Commands.check("pg_ctl stop of the plain cluster", Commands.asPostgres(List.of(bin.resolve("pg_ctl").toString(),
                "stop", "-m", "fast", "-w", "-t", Long.toString(PG_CTL_TIMEOUT.toSeconds()), "-D", dataDirectory.toString())),
                Map.of(), runDirectory, PG_CTL_TIMEOUT.plusSeconds(30));
        postmasterPid = 0;
    }

    Endpoint endpoint(String database) {
        return new Endpoint("127.0.0.1", port, "postgres", password, database, Map.of());
    }

    Path dataDirectory() {
        return dataDirectory;
    }

    private long readPostmasterPid() {
        try {
            return Long.parseLong(Files.readAllLines(dataDirectory.resolve("postmaster.pid")).getFirst().strip());
        } catch (IOException | RuntimeException e) {
            throw new BenchException("cannot read postmaster.pid of the plain cluster: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (postmasterPid == 0 && !Files.exists(dataDirectory.resolve("postmaster.pid"))) {
            return;
        }
        long pid = postmasterPid;
        Commands.run(Commands.asPostgres(List.of(bin.resolve("pg_ctl").toString(), "stop", "-m", "immediate", "-w",
                "-D", dataDirectory.toString())), Map.of(), runDirectory, Duration.ofSeconds(90));
        if (pid != 0) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        postmasterPid = 0;
    }

    static void chownToPostgres(Path path) throws IOException {
        if (Commands.runningAsRoot()) {
            var lookup = path.getFileSystem().getUserPrincipalLookupService();
            Files.setOwner(path, lookup.lookupPrincipalByName(Commands.POSTGRES_USER));
            Files.getFileAttributeView(path, java.nio.file.attribute.PosixFileAttributeView.class)
                    .setGroup(lookup.lookupPrincipalByGroupName(Commands.POSTGRES_USER));
        }
    }
}

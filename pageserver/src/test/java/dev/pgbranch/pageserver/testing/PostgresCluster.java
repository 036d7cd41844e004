package dev.pgbranch.pageserver.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A plain PostgreSQL cluster for tests: {@code initdb} into a fresh temporary directory and
 * {@code pg_ctl start} on a free port of 127.0.0.1, both run as the OS user {@code postgres}
 * (Postgres refuses to run as root). No FUSE, no pageserver: this is the reference server that
 * schema introspection, promote and client-compatibility tests talk to. Several databases of one
 * cluster stand in for branches.
 *
 * <p>Binaries are found by globbing {@code /usr/lib/postgresql/*}{@code /bin} and taking the
 * highest major version, because a fresh CI machine has only the Debian packages.
 *
 * <p>Authentication is {@code trust} for 127.0.0.1 and the Unix socket, which lives inside the
 * temporary directory (never {@code /var/run/postgresql}).
 *
 * <p>Thread-safety: {@link #start()} and {@link #close()} must be called from one thread;
 * {@link #connect(String)}, {@link #jdbcUrl(String)} and {@link #createDatabase(String)} may be
 * called concurrently once started.
 *
 * <p>Crash behaviour: {@link #close()} stops the server with {@code pg_ctl stop -m immediate}
 * (tests do not need a clean shutdown) and deletes the directory; if the JVM dies first the
 * postmaster notices nothing, so a shutdown hook stops it too.
 */
public final class PostgresCluster implements AutoCloseable {

    private static final String OS_USER = "postgres";

    private final Path binDir;
    private final Path root;
    private final Path dataDir;
    private final Path socketDir;
    private final int port;
    private final Thread shutdownHook;
    private boolean running;

    private PostgresCluster(Path binDir, Path root, int port) {
        this.binDir = binDir;
        this.root = root;
        this.dataDir = root.resolve("data");
        this.socketDir = root.resolve("sock");
        this.port = port;
        this.shutdownHook = new Thread(this::stopQuietly, "pg-test-cluster-stop");
    }

    /** Creates and starts a new cluster; the caller must {@link #close()} it. */
    public static PostgresCluster start() {
        Path bin = findBinDir();
        Path root;
        try {
            root = Files.createTempDirectory("pgbranch-pg-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        PostgresCluster cluster = new PostgresCluster(bin, root, freePort());
        try {
            cluster.initAndStart();
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /** The highest installed major version's bin directory, e.g. {@code /usr/lib/postgresql/15/bin}. */
    public static Path findBinDir() {
        Path base = Path.of("/usr/lib/postgresql");
        try (Stream<Path> versions = Files.list(base)) {
            return versions
                    .filter(p -> p.getFileName().toString().matches("\\d+(\\.\\d+)?"))
                    .filter(p -> Files.isExecutable(p.resolve("bin/postgres")))
                    .max(Comparator.comparingDouble(p -> Double.parseDouble(p.getFileName().toString())))
                    .map(p -> p.resolve("bin"))
                    .orElseThrow(() -> new IllegalStateException("no PostgreSQL under " + base));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + base, e);
        }
    }

    private void initAndStart() {
        run(List.of("chown", "-R", OS_USER + ":" + OS_USER, root.toString()));
        runAsPostgres(List.of(binDir.resolve("initdb").toString(), "-D", dataDir.toString(),
                "-U", OS_USER, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"));
        runAsPostgres(List.of("mkdir", "-p", socketDir.toString()));
        String options = "-c listen_addresses=127.0.0.1 -p " + port + " -k " + socketDir
                + " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
                + " -c max_connections=50 -c shared_buffers=32MB";
        runAsPostgres(List.of(binDir.resolve("pg_ctl").toString(), "-D", dataDir.toString(),
                "-l", root.resolve("server.log").toString(), "-o", options, "-w", "-t", "60", "start"));
        running = true;
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** TCP port the server listens on (127.0.0.1). */
    public int port() {
        return port;
    }

    /** A pgjdbc URL for {@code database} as superuser {@value #OS_USER}. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** Superuser name the tests connect as. */
    public String user() {
        return OS_USER;
    }

    /** Opens a new superuser connection to {@code database}. */
    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), OS_USER, "");
    }

    /** Creates an empty database (from template0) named {@code name}. */
    public void createDatabase(String name) throws SQLException {
        createDatabase(name, "template0");
    }

    /** Creates {@code name} as a copy of {@code template}, which must have no open connection. */
    public void createDatabase(String name, String template) throws SQLException {
        try (Connection c = connect("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + quote(name) + " TEMPLATE " + quote(template));
        }
    }

    /** Drops {@code name}, terminating any session still connected to it. */
    public void dropDatabase(String name) throws SQLException {
        try (Connection c = connect("postgres"); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + quote(name) + " WITH (FORCE)");
        }
    }

    /** Runs {@code sql} (one or more statements, simple protocol) in {@code database}. */
    public void execute(String database, String sql) throws SQLException {
        try (Connection c = connect(database); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Override
    public void close() {
        stopQuietly();
        if (running || Files.exists(root)) {
            deleteTree(root);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException | IllegalArgumentException ignored) {
            // JVM already shutting down, or the hook was never registered.
        }
    }

    private synchronized void stopQuietly() {
        if (!running) {
            return;
        }
        running = false;
        try {
            runAsPostgres(List.of(binDir.resolve("pg_ctl").toString(), "-D", dataDir.toString(),
                    "-m", "immediate", "-w", "-t", "30", "stop"));
        } catch (RuntimeException e) {
            System.err.println("test cluster at " + dataDir + " did not stop: " + e.getMessage());
        }
    }

    private static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    private void runAsPostgres(List<String> command) {
        List<String> full = new ArrayList<>(List.of("runuser", "-u", OS_USER, "--"));
        full.addAll(command);
        run(full);
    }

    private void run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).directory(root.toFile()).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + command);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("exit " + p.exitValue() + " from " + command + ":\n"
                        + new String(out, StandardCharsets.UTF_8) + serverLogTail());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + command, e);
        }
    }

    private String serverLogTail() {
        Path log = root.resolve("server.log");
        try {
            if (!Files.exists(log)) {
                return "";
            }
            List<String> lines = Files.readAllLines(log);
            return "\nserver.log:\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("cannot delete " + dir + ": " + e.getMessage());
        }
    }
}

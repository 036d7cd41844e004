package dev.pgbranch.proxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Test fixture: a {@link ComputeDirectory} whose "branches" are real, plain PostgreSQL servers, each a
 * copy of one initdb template, started and stopped with pg_ctl as the OS user {@code postgres} when
 * the tests run as root. Host connections use scram-sha-256 with {@link #PASSWORD}.
 *
 * <p>{@link #wake} deliberately does not coalesce concurrent calls (a second concurrent start of the
 * same data directory fails), so tests can prove the proxy coalesces. Thread-safe otherwise.
 */
final class PostgresBranches implements ComputeDirectory, AutoCloseable {

    static final String USER = "postgres";
    static final String PASSWORD = "proxy-test-Pw1";

    /** One branch's server. */
    static final class Compute {
        final String name;
        final Path dataDir;
        final Path log;
        final int port;
        final AtomicInteger starts = new AtomicInteger();
        final AtomicInteger wakeCalls = new AtomicInteger();
        final AtomicInteger suspends = new AtomicInteger();
        volatile boolean running;

        Compute(String name, Path dataDir, Path log, int port) {
            this.name = name;
            this.dataDir = dataDir;
            this.log = log;
            this.port = port;
        }

        InetSocketAddress address() {
            return new InetSocketAddress("127.0.0.1", port);
        }
    }

    private final Path root;
    private final Path template;
    private final Path bin;
    private final Map<String, Compute> computes = new ConcurrentHashMap<>();
    private final ExecutorService starter = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pg-starter");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger seq = new AtomicInteger();

    PostgresBranches() throws IOException, InterruptedException {
        bin = postgresBin();
        root = Files.createTempDirectory("pgbranch-proxy-test");
        chownToPostgres(root);
        template = root.resolve("template");
        Path pwfile = root.resolve("pwfile");
        Files.writeString(pwfile, PASSWORD + "\n");
        chownToPostgres(pwfile);
        run(List.of(bin.resolve("initdb").toString(), "-D", template.toString(), "-U", USER, "--pwfile=" + pwfile,
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions"), 120);
        Files.writeString(template.resolve("postgresql.conf"), String.join("\n",
                "", "listen_addresses = '127.0.0.1'", "unix_socket_directories = ''", "fsync = off",
                "synchronous_commit = off", "shared_buffers = 32MB", "max_connections = 60", "log_min_messages = warning",
                ""), StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
    }

    /** Creates a stopped branch with its own data directory and port. */
    Compute create(String branch) throws IOException, InterruptedException {
        Path dir = root.resolve("b" + seq.incrementAndGet());
        run(List.of("cp", "-a", template.toString(), dir.toString()), 60);
        int port = freePort();
        Files.writeString(dir.resolve("postgresql.conf"), "port = " + port + "\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        Compute c = new Compute(branch, dir, root.resolve(dir.getFileName() + ".log"), port);
        computes.put(branch, c);
        return c;
    }

    /** Creates a branch whose server cannot start (an invalid setting), for start-failure tests. */
    Compute createBroken(String branch) throws IOException, InterruptedException {
        Compute c = create(branch);
        Files.writeString(c.dataDir.resolve("postgresql.conf"), "shared_buffers = 'lots'\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        return c;
    }

    Compute compute(String branch) {
        return computes.get(branch);
    }

    /** Starts the branch's server directly (not through a wake). */
    InetSocketAddress start(String branch) {
        Compute c = computes.get(branch);
        c.starts.incrementAndGet();
        try {
            Files.deleteIfExists(c.log);
            int rc = runRc(List.of(bin.resolve("pg_ctl").toString(), "-D", c.dataDir.toString(), "-l", c.log.toString(),
                    "-w", "-t", "60", "start"), 90);
            if (rc != 0) {
                throw new ComputeStartException("postgres did not start: " + lastFatal(c.log));
            }
        } catch (IOException e) {
            throw new ComputeStartException("postgres did not start: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ComputeStartException("interrupted");
        }
        c.running = true;
        return c.address();
    }

    void stop(String branch) {
        Compute c = computes.get(branch);
        try {
            runRc(List.of(bin.resolve("pg_ctl").toString(), "-D", c.dataDir.toString(), "-m", "fast", "-w", "stop"), 60);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        c.running = false;
    }

    @Override
    public boolean exists(String branch) {
        return computes.containsKey(branch);
    }

    @Override
    public CompletableFuture<InetSocketAddress> wake(String branch) {
        Compute c = computes.get(branch);
        if (c == null) {
            return CompletableFuture.failedFuture(new ComputeStartException("no such branch " + branch));
        }
        c.wakeCalls.incrementAndGet();
        if (c.running) {
            return CompletableFuture.completedFuture(c.address());
        }
        return CompletableFuture.supplyAsync(() -> start(branch), starter);
    }

    @Override
    public void suspend(String branch) {
        Compute c = computes.get(branch);
        if (c != null) {
            c.suspends.incrementAndGet();
            stop(branch);
        }
    }

    @Override
    public void close() throws IOException {
        for (Compute c : computes.values()) {
            if (Files.exists(c.dataDir.resolve("postmaster.pid"))) {
                stop(c.name);
            }
        }
        starter.shutdownNow();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Turns on the branch server's own TLS with {@code certificate} and {@code key} (PEM), from its next start. */
    void enableTls(String branch, Path certificate, Path key) throws IOException {
        Path dir = computes.get(branch).dataDir;
        for (Path[] copy : new Path[][] {{certificate, dir.resolve("server.crt")}, {key, dir.resolve("server.key")}}) {
            Files.copy(copy[0], copy[1], java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(copy[1], java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            chownToPostgres(copy[1]);
        }
        Files.writeString(dir.resolve("postgresql.conf"), "ssl = on\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
    }

    /** The postmaster's pid, from the first line of its postmaster.pid. */
    long postmasterPid(String branch) throws IOException {
        return Long.parseLong(Files.readAllLines(computes.get(branch).dataDir.resolve("postmaster.pid")).getFirst().strip());
    }

    Path bin() {
        return bin;
    }

    static String lastFatal(Path log) throws IOException {
        if (!Files.exists(log)) {
            return "no log";
        }
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        for (int i = lines.size() - 1; i >= 0; i--) {
            String line = lines.get(i);
            int at = line.indexOf("FATAL:");
            if (at >= 0) {
                return line.substring(at + "FATAL:".length()).trim();
            }
        }
        return lines.isEmpty() ? "empty log" : lines.getLast();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Highest-version /usr/lib/postgresql/N/bin holding pg_ctl. */
    static Path postgresBin() throws IOException {
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            return versions.filter(p -> p.getFileName().toString().matches("\\d+"))
                    .max(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString())))
                    .map(p -> p.resolve("bin"))
                    .filter(p -> Files.isExecutable(p.resolve("pg_ctl")))
                    .orElseThrow(() -> new IOException("no PostgreSQL under /usr/lib/postgresql"));
        }
    }

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void chownToPostgres(Path p) throws IOException {
        if (root()) {
            var lookup = p.getFileSystem().getUserPrincipalLookupService();
            Files.setOwner(p, lookup.lookupPrincipalByName("postgres"));
        }
    }

    private static void run(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
        int rc = runRc(command, timeoutSeconds);
        if (rc != 0) {
            throw new IOException("command failed (" + rc + "): " + command);
        }
    }

    private static int runRc(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>();
        if (root()) {
            full.addAll(Arrays.asList("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        Process p = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + command);
        }
        return p.exitValue();
    }
}

package dev.pgbranch.pageserver.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgbranch.pageserver.api.ApiToken;
import dev.pgbranch.pageserver.api.ServerInfo;
import dev.pgbranch.pageserver.cli.Main;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Test fixture: {@code pgbranch server} in its own JVM over a fresh data directory, and the CLI run
 * in this JVM against it. The server gets free ports ({@code --api-port 0 --proxy-port 0} and a
 * branch port base picked once, so branches keep their ports across restarts); {@link #start} waits
 * until the server has written its {@code server.json}. {@link #kill} is a kill -9, {@link #restart}
 * starts again on the same data with the same options.
 *
 * <p>{@link #close} stops the server (SIGTERM; SIGKILL and a failure if it takes over 2 minutes),
 * kills by pid the computes remembered on the way ({@link #rememberComputePids}: after a kill -9 the
 * server no longer knows them), unmounts what is still mounted under the data directory and deletes
 * it. The server log is kept as {@code target/<name>-server.log}, its tail is part of every failure
 * message, and a JVM crash log goes to {@code target/hs_err_server_<pid>.log}.
 *
 * <p>Not thread-safe, except {@link #cli} and the calls built on it, which tests run concurrently.
 */
public final class ServerProcess implements AutoCloseable {

    /** What a CLI run exited with and printed. */
    public record Result(int code, String out, String err) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START_DEADLINE = Duration.ofMinutes(3);

    private final String name;
    private final Path root;
    private final Path dataDirectory;
    private final Path log;
    private final int portBase;
    private final Set<Long> computePids = ConcurrentHashMap.newKeySet();
    private List<String> options = List.of();
    private Map<String, String> launcherEnvironment;
    private Process process;

    /** A fresh data directory and port base; {@code name} names the kept log (the test class, say). */
    public ServerProcess(String name) throws IOException {
        this.name = name;
        // Not @TempDir: its 0700 parent would keep the compute user (postgres) from the mounts.
        root = Files.createTempDirectory("pgbranch-" + name);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
        dataDirectory = root.resolve("data");
        log = root.resolve("server.log");
        try (ServerSocket socket = new ServerSocket(0)) {
            portBase = socket.getLocalPort();
        }
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    public ServerInfo info() throws IOException {
        return ServerInfo.read(dataDirectory);
    }

    /**
     * From now on, starts the server through the real {@code ./pgbranch} launcher (umask, heap)
     * on this test's classpath, with {@code environment} added (e.g. {@code PGBRANCH_HEAP}).
     */
    public ServerProcess viaLauncher(Map<String, String> environment) {
        this.launcherEnvironment = Map.copyOf(environment);
        return this;
    }

    /** The server's pid while it runs (the launcher execs the JVM: the same process). */
    public long pid() {
        return process.pid();
    }

    /** Starts {@code pgbranch server} with extra {@code options} and waits for its server.json. */
    public void start(String... options) throws Exception {
        this.options = List.of(options);
        restart();
    }

    /** Starts the server again (after {@link #stop} or {@link #kill}) with the options of {@link #start}. */
    public void restart() throws Exception {
        Files.deleteIfExists(dataDirectory.resolve(ServerInfo.FILE_NAME + ".tmp"));
        String errorFile = "-XX:ErrorFile=" + Path.of("target", "hs_err_server_%p.log").toAbsolutePath();
        List<String> command = new ArrayList<>();
        if (launcherEnvironment == null) {
            command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-Xmx1g", errorFile, "-cp", System.getProperty("java.class.path"),
                    Main.class.getName()));
        } else {
            command.add(Path.of("").toAbsolutePath().getParent().resolve("pgbranch").toString());
        }
        command.addAll(List.of("server", "--data-dir", dataDirectory.toString(), "--api-port", "0",
                "--proxy-port", "0", "--branch-port-base", Integer.toString(portBase)));
        command.addAll(options);
        ProcessBuilder builder = new ProcessBuilder(command);
        if (launcherEnvironment != null) {
            builder.environment().put("PGBRANCH_CLASSPATH", System.getProperty("java.class.path"));
            builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
            builder.environment().put("PGBRANCH_JAVA_OPTS", errorFile);
            builder.environment().putAll(launcherEnvironment);
        }
        process = builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + START_DEADLINE.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the server exited with " + process.exitValue() + ":\n" + logTail());
            }
            try {
                if (info().pid() == process.pid()) {
                    return; // not the server.json of an earlier run
                }
            } catch (IOException notYet) {
                // not written yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the server did not start within " + START_DEADLINE + ":\n" + logTail());
    }

    /** SIGTERM, which stops the computes and unmounts; fails if that takes over 2 minutes. */
    public void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
            throw new AssertionError("the server did not stop within 2 minutes of SIGTERM:\n" + logTail());
        }
    }

    /** kill -9 of the server JVM, at once: call {@link #rememberComputePids} first to clean up its computes. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("the server did not die of SIGKILL");
        }
    }

    /** The CLI in this JVM, against this server. */
    public Result cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--data-dir");
        all.add(dataDirectory.toString());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(all.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), err.toString());
    }

    /** The CLI's output; fails unless it exits with 0. */
    public String cliOk(String... args) {
        Result result = cli(args);
        if (result.code() != 0) {
            throw new AssertionError(String.join(" ", args) + " failed (" + result.code() + "): " + result.err()
                    + "\nserver log:\n" + logTail());
        }
        return result.out();
    }

    /** The CLI's {@code --output json}. */
    public JsonNode cliJson(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--output");
        all.add("json");
        return parse(cliOk(all.toArray(String[]::new)));
    }

    public static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    /** A pgjdbc connection to the branch's {@code postgres} database, through the URI {@code pgbranch connect} prints. */
    public Connection connect(String branch) throws SQLException {
        return connect(branch, "postgres");
    }

    public Connection connect(String branch, String database) throws SQLException {
        URI uri = URI.create(cliOk("connect", branch).strip());
        String[] user = uri.getUserInfo().split(":", 2);
        return DriverManager.getConnection("jdbc:postgresql://" + uri.getHost() + ":" + uri.getPort() + "/" + database,
                user[0], user[1]);
    }

    /** An API request with the server's token; {@code body} and {@code accept} may be null. */
    public HttpResponse<String> api(String method, String path, String body, String accept) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(info().api() + path))
                .header("Authorization", "Bearer " + ApiToken.load(dataDirectory.resolve(ApiToken.FILE_NAME)).value())
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (accept != null) {
            request.header("Accept", accept);
        }
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The server's {@code /metrics} text. */
    public String metrics() throws Exception {
        HttpResponse<String> response = api("GET", "/metrics", null, null);
        if (response.statusCode() != 200) {
            throw new AssertionError("/metrics: " + response.statusCode() + " " + response.body());
        }
        return response.body();
    }

    /** One value of the server's {@code /metrics} now. */
    public long metric(String name) throws Exception {
        return metric(metrics(), name);
    }

    /** One value of a {@code /metrics} text (an unlabelled series, or one with its labels). */
    public static long metric(String metrics, String name) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Long.parseLong(line.substring(name.length() + 1).strip());
            }
        }
        throw new AssertionError("no metric " + name + " in\n" + metrics);
    }

    /** Remembers the pids of the computes running now, to kill them at {@link #close} if the server cannot. */
    public void rememberComputePids() {
        Result list = cli("branch", "list", "--output", "json");
        if (list.code() == 0) {
            for (JsonNode b : parse(list.out()).path("branches")) {
                if (b.has("computePid")) {
                    computePids.add(b.path("computePid").asLong());
                }
            }
        }
    }

    /** Remembers another pid to kill at {@link #close} (a base compute's postmaster, say). */
    public void rememberPid(long pid) {
        computePids.add(pid);
    }

    /** The pids remembered so far. */
    public Set<Long> computePids() {
        return Collections.unmodifiableSet(computePids);
    }

    /** FUSE mounts under the data directory right now. */
    public List<String> mounts() throws IOException {
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
            String[] fields = line.split(" ");
            if (fields.length > 1 && fields[1].startsWith(dataDirectory.toString())) {
                mounts.add(fields[1]);
            }
        }
        return mounts;
    }

    /** The server's whole log (all runs since {@link #start}), while the data directory exists. */
    public Path logFile() {
        return log;
    }

    /** The last 60 lines of the server's log, for failure messages. */
    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Stops everything the server started and deletes its directory, whatever state it is in. */
    @Override
    public void close() throws IOException {
        try {
            if (process != null && process.isAlive()) {
                rememberComputePids();
                stop();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        } finally {
            for (long pid : computePids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            for (String mount : mounts()) {
                Process unmount = new ProcessBuilder("fusermount3", "-uz", mount).inheritIO().start();
                try {
                    unmount.waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (Files.exists(log)) {
                Path kept = Path.of("target", name + "-server.log").toAbsolutePath();
                Files.createDirectories(kept.getParent());
                Files.copy(log, kept, StandardCopyOption.REPLACE_EXISTING);
                System.out.println("server log: " + kept);
            }
            if (mounts().isEmpty()) {
                try (var files = Files.walk(root)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }
}

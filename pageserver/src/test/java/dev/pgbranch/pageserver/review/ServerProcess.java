package dev.pgbranch.pageserver.review;

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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Test fixture: a {@code pgbranch server} in its own JVM (as {@code cli/BranchWorkflowTest}
 * starts it) over a temporary data directory, the CLI run in this JVM against it, and cleanup
 * of everything it started (server, compute pids it saw, mounts) on {@link #close()}.
 */
final class ServerProcess implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START_DEADLINE = Duration.ofMinutes(3);

    record Result(int code, String out, String err) {
    }

    private final Path root;
    private final Path dataDirectory;
    private final Path log;
    private final Set<Long> computePids = new HashSet<>();
    private Process process;

    private ServerProcess(Path root) {
        this.root = root;
        this.dataDirectory = root.resolve("data");
        this.log = root.resolve("server.log");
    }

    static ServerProcess start() throws Exception {
        // Not @TempDir: its 0700 parent would keep the compute user (postgres) from the mounts.
        Path root = Files.createTempDirectory("pgbranch-review");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
        ServerProcess server = new ServerProcess(root);
        try {
            server.launch();
            return server;
        } catch (Exception | AssertionError e) {
            server.close();
            throw e;
        }
    }

    private void launch() throws Exception {
        int portBase;
        try (ServerSocket socket = new ServerSocket(0)) {
            portBase = socket.getLocalPort();
        }
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "server", "--data-dir", dataDirectory.toString(), "--api-port", "0",
                "--proxy-port", "0", "--branch-port-base", Integer.toString(portBase));
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + START_DEADLINE.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the server exited with " + process.exitValue() + ":\n" + logTail());
            }
            try {
                if (ServerInfo.read(dataDirectory).pid() == process.pid()) {
                    return;
                }
            } catch (IOException notYet) {
                // server.json not written yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the server did not start within " + START_DEADLINE + ":\n" + logTail());
    }

    /** kill -9 of the server JVM (its computes lose their filesystem), then a fresh start on the same data. */
    void killAndRestart() throws Exception {
        rememberComputePids();
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("the server did not die of SIGKILL");
        }
        launch();
    }

    /** Remembers pids to kill at {@link #close()} whatever happens (e.g. a base compute). */
    void rememberPid(long pid) {
        computePids.add(pid);
    }

    Path dataDirectory() {
        return dataDirectory;
    }

    /** The CLI in this JVM, against this server. */
    Result cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--data-dir");
        all.add(dataDirectory.toString());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(all.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), err.toString());
    }

    String cliOk(String... args) {
        Result r = cli(args);
        if (r.code() != 0) {
            throw new AssertionError(String.join(" ", args) + " failed (" + r.code() + "): " + r.err() + "\nserver log:\n"
                    + logTail());
        }
        return r.out();
    }

    JsonNode cliJson(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--output");
        all.add("json");
        return parse(cliOk(all.toArray(String[]::new)));
    }

    static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    /** A pgjdbc connection to the branch through the proxy, as {@code pgbranch connect} prints it. */
    Connection connect(String branch) throws SQLException {
        return connect(branch, "postgres");
    }

    /** As {@link #connect(String)}, to another database of the branch. */
    Connection connect(String branch, String database) throws SQLException {
        URI uri = URI.create(cliOk("connect", branch).strip());
        String[] user = uri.getUserInfo().split(":", 2);
        return DriverManager.getConnection("jdbc:postgresql://" + uri.getHost() + ":" + uri.getPort() + "/" + database,
                user[0], user[1]);
    }

    /** A raw API request with the server's token: {status, body}. */
    HttpResponse<String> api(String method, String path, String body, String accept) throws Exception {
        ServerInfo info = ServerInfo.read(dataDirectory);
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(info.api() + path))
                .header("Authorization", "Bearer " + ApiToken.load(dataDirectory.resolve(ApiToken.FILE_NAME)).value())
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (accept != null) {
            request.header("Accept", accept);
        }
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A value of the server's {@code /metrics}. */
    long metric(String name) throws Exception {
        String metrics = api("GET", "/metrics", null, null).body();
        for (String line : metrics.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Long.parseLong(line.substring(name.length() + 1).strip());
            }
        }
        throw new AssertionError("no metric " + name + " in\n" + metrics);
    }

    /** FUSE mounts under the data directory right now. */
    List<String> mounts() throws IOException {
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
            String[] fields = line.split(" ");
            if (fields.length > 1 && fields[1].startsWith(dataDirectory.toString())) {
                mounts.add(fields[1]);
            }
        }
        return mounts;
    }

    void rememberComputePids() {
        Result list = cli("branch", "list", "--output", "json");
        if (list.code() == 0) {
            for (JsonNode b : parse(list.out()).path("branches")) {
                if (b.has("computePid")) {
                    computePids.add(b.path("computePid").asLong());
                }
            }
        }
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Stops the server (SIGTERM, then SIGKILL), kills compute pids it saw, unmounts leftovers. */
    @Override
    public void close() throws IOException {
        try {
            if (process != null && process.isAlive()) {
                rememberComputePids();
                process.destroy();
                if (!process.waitFor(2, TimeUnit.MINUTES)) {
                    process.destroyForcibly();
                    process.waitFor(30, TimeUnit.SECONDS);
                }
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
                Path kept = Path.of("target", "SchemaReviewWorkflowTest-server.log");
                Files.createDirectories(kept.getParent());
                Files.copy(log, kept, StandardCopyOption.REPLACE_EXISTING);
            }
            if (mounts().isEmpty()) {
                try (var files = Files.walk(root)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }
}

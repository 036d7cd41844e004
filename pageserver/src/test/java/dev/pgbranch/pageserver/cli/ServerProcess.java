package dev.pgbranch.pageserver.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgbranch.pageserver.api.ApiToken;
import dev.pgbranch.pageserver.api.ServerInfo;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Test fixture: {@code pgbranch server} in its own JVM over a fresh data directory (free API,
 * proxy and branch ports), and the CLI run in this JVM against it. {@link #close} stops the
 * server (SIGTERM, then SIGKILL), kills any compute it left behind by recorded pid, unmounts
 * what is still mounted and deletes the directory; the server log is kept under
 * {@code target/}.
 */
final class ServerProcess {

    private static final Duration START_DEADLINE = Duration.ofMinutes(3);

    private final Path root;
    private final Path dataDirectory;
    private final Path serverLog;
    private final String logName;
    private final int portBase;
    private final Set<Long> computePids = new HashSet<>();
    private Process server;

    ServerProcess(String logName) throws IOException {
        this.logName = logName;
        // Not @TempDir: its 0700 parent would keep the compute user (postgres) from the mounts.
        root = Files.createTempDirectory("pgbranch-" + logName);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
        dataDirectory = root.resolve("data");
        serverLog = root.resolve("server.log");
        try (ServerSocket socket = new ServerSocket(0)) {
            portBase = socket.getLocalPort();
        }
    }

    Path dataDirectory() {
        return dataDirectory;
    }

    /** Starts {@code pgbranch server} with the given extra options and waits for its server.json. */
    void start(String... options) throws Exception {
        Files.deleteIfExists(dataDirectory.resolve(ServerInfo.FILE_NAME + ".tmp"));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx1g",
                "-XX:ErrorFile=" + Path.of("target", "hs_err_server_%p.log").toAbsolutePath(),
                "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "server", "--data-dir", dataDirectory.toString(), "--api-port", "0",
                "--branch-port-base", Integer.toString(portBase)));
        command.addAll(List.of(options));
        server = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(serverLog.toFile())).start();
        long deadline = System.nanoTime() + START_DEADLINE.toNanos();
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) {
                fail("the server exited with " + server.exitValue() + ":\n" + tail());
            }
            try {
                if (ServerInfo.read(dataDirectory).pid() == server.pid()) {
                    return;
                }
            } catch (IOException notYet) {
                // not written yet
            }
            Thread.sleep(100);
        }
        fail("the server did not start within " + START_DEADLINE + ":\n" + tail());
    }

    ServerInfo info() throws IOException {
        return ServerInfo.read(dataDirectory);
    }

    record Result(int code, String out, String err) {
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
        Result result = cli(args);
        assertEquals(0, result.code(), String.join(" ", args) + " failed: " + result.err() + "\nserver log:\n" + tail());
        return result.out();
    }

    JsonNode cliJson(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--output");
        all.add("json");
        String out = cliOk(all.toArray(String[]::new));
        try {
            return ApiClient.JSON.readTree(out);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + out, e);
        }
    }

    String metrics() throws Exception {
        ServerInfo info = info();
        HttpRequest request = HttpRequest.newBuilder(URI.create(info.api() + "/metrics"))
                .header("Authorization", "Bearer " + ApiToken.load(dataDirectory.resolve(ApiToken.FILE_NAME)).value())
                .build();
        HttpResponse<String> response = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return response.body();
    }

    /** Remembers the pids of running computes, to kill them if the server cannot. */
    void rememberComputePids() {
        Result list = cli("branch", "list", "--output", "json");
        if (list.code() != 0) {
            return;
        }
        try {
            for (JsonNode b : ApiClient.JSON.readTree(list.out()).path("branches")) {
                if (b.has("computePid")) {
                    computePids.add(b.path("computePid").asLong());
                }
            }
        } catch (IOException e) {
            // nothing to remember
        }
    }

    String tail() {
        try {
            List<String> lines = Files.readAllLines(serverLog);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Stops everything the server started and deletes its directory, whatever state it is in. */
    void close() throws Exception {
        try {
            if (server != null && server.isAlive()) {
                rememberComputePids();
                server.destroy(); // SIGTERM: stops computes and unmounts
                if (!server.waitFor(2, TimeUnit.MINUTES)) {
                    server.destroyForcibly();
                    server.waitFor(30, TimeUnit.SECONDS);
                }
            }
        } finally {
            for (long pid : computePids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            for (String mount : mounts()) {
                new ProcessBuilder("fusermount3", "-uz", mount).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
            }
            if (Files.exists(serverLog)) {
                Path kept = Path.of("target", logName + "-server.log");
                Files.createDirectories(kept.getParent());
                Files.copy(serverLog, kept, StandardCopyOption.REPLACE_EXISTING);
            }
            if (mounts().isEmpty()) {
                try (var files = Files.walk(root)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    private List<String> mounts() throws IOException {
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
            String[] fields = line.split(" ");
            if (fields.length > 1 && fields[1].startsWith(dataDirectory.toString())) {
                mounts.add(fields[1]);
            }
        }
        return mounts;
    }
}

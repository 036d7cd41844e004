package dev.pgbranch.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A {@code pgbranch server} the driver started through the real {@code ./pgbranch} launcher, over
 * a fresh data directory with free ports, and a client of its management API (the HTTP/JSON
 * contract of the design doc: {@code server.json} and {@code api-token} in the data directory,
 * bearer token, {@code /v1/projects/default/branches/...}).
 *
 * <p>{@link #close} stops it whatever its state: SIGTERM to the server's pid (it stops its
 * computes and unmounts), SIGKILL after two minutes, then every compute pid it reported is
 * killed if still alive and still a {@code postgres} process, and every FUSE mount left under the
 * data directory is lazily unmounted.
 *
 * <p>Thread-safety: API calls are thread-safe; {@link #close} is idempotent.
 */
final class PgbranchServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START_DEADLINE = Duration.ofMinutes(3);
    private static final Duration CALL_TIMEOUT = Duration.ofMinutes(10);

    private final Path dataDirectory;
    private final Process process;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final Set<Long> computePids = new HashSet<>();
    private String api;
    private String token;
    private boolean closed;

    private PgbranchServer(Path dataDirectory, Process process) {
        this.dataDirectory = dataDirectory;
        this.process = process;
    }

    /**
     * Runs {@code launcher server --data-dir dataDirectory} with free API/proxy/branch ports and
     * waits until its {@code server.json} names its pid. {@code classpath}, if not null, is given
     * to the launcher as {@code PGBRANCH_CLASSPATH} (tests run the classes they were built with).
     */
    static PgbranchServer start(Path launcher, String classpath, Path dataDirectory, Path log) {
        try {
            return start(launcher, classpath, dataDirectory, log, true);
        } catch (BenchException e) {
            if (!e.getMessage().contains("--proxy-port")) {
                throw e;
            }
            // A build from before the proxy was linked refuses the option: run it without.
            return start(launcher, classpath, dataDirectory, log, false);
        }
    }

    private static PgbranchServer start(Path launcher, String classpath, Path dataDirectory, Path log, boolean proxyPort) {
        List<String> command = new ArrayList<>(List.of(launcher.toString(), "server", "--data-dir", dataDirectory.toString(),
                "--api-port", "0", "--branch-port-base", Integer.toString(freePort())));
        if (proxyPort) {
            // Never the default routing port: other servers may run on this machine.
            command.addAll(List.of("--proxy-port", Integer.toString(freePort())));
        }
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().keySet().removeIf(k -> k.startsWith("PG") && !k.startsWith("PGBRANCH_"));
        if (classpath != null) {
            builder.environment().put("PGBRANCH_CLASSPATH", classpath);
        }
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new BenchException("cannot run " + launcher + ": " + e.getMessage(), e);
        }
        PgbranchServer server = new PgbranchServer(dataDirectory, process);
        try {
            server.awaitStarted(log);
            return server;
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private void awaitStarted(Path log) {
        long deadline = System.nanoTime() + START_DEADLINE.toNanos();
        Path info = dataDirectory.resolve("server.json");
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new BenchException("pgbranch server exited with " + process.exitValue() + ": " + tail(log));
            }
            try {
                if (Files.exists(info)) {
                    JsonNode node = JSON.readTree(info.toFile());
                    // The launcher execs java, so the server's pid is the launcher's.
                    if (node.path("pid").asLong() == process.pid()) {
                        api = node.path("api").asText();
                        token = Files.readString(dataDirectory.resolve("api-token"), StandardCharsets.US_ASCII).strip();
                        return;
                    }
                }
            } catch (IOException notYet) {
                // half-written or not there yet
            }
            sleep(100);
        }
        throw new BenchException("pgbranch server did not start within " + START_DEADLINE + ": " + tail(log));
    }

    Path dataDirectory() {
        return dataDirectory;
    }

    long pid() {
        return process.pid();
    }

    // ------------------------------------------------------------------------------ API

    JsonNode create(String name, String parent) {
        return call("POST", "/v1/projects/default/branches",
                JSON.createObjectNode().put("name", name).put("parent", parent).toString(), 201);
    }

    /**
     * The branch's row-level data diff of {@code table} (JSON, ten rows listed per list, all
     * counted), against its parent unless {@code against} names another side; may read whole
     * tables, hence the long timeout.
     */
    JsonNode dataDiff(String name, String table, String against) {
        String query = "?limit=10&table=" + URLEncoder.encode(table, StandardCharsets.UTF_8)
                + (against == null ? "" : "&against=" + URLEncoder.encode(against, StandardCharsets.UTF_8));
        return call("GET", branch(name) + "/data-diff" + query, null, 200, Duration.ofMinutes(30));
    }

    void delete(String name) {
        call("DELETE", branch(name), null, 200);
    }

    JsonNode reset(String name) {
        return call("POST", branch(name) + "/reset", "{}", 200);
    }

    JsonNode startCompute(String name) {
        return remember(call("POST", branch(name) + "/compute/start", "{}", 200));
    }

    JsonNode stopCompute(String name) {
        return call("POST", branch(name) + "/compute/stop", "{}", 200);
    }

    JsonNode show(String name) {
        return remember(call("GET", branch(name), null, 200));
    }

    /** The branch's connection as the API hands it to users ({@code uri} is what {@code pgbranch connect} prints). */
    Endpoint connection(String name) {
        return connection(name, "uri");
    }

    /** The branch through the proxy's routing port ({@code routingUri}: the relay, {@code options=branch=}). */
    Endpoint routingConnection(String name) {
        return connection(name, "routingUri");
    }

    private Endpoint connection(String name, String field) {
        JsonNode node = call("GET", branch(name) + "/connection", null, 200);
        String uri = node.path(field).asText("");
        if (uri.isEmpty()) {
            throw new BenchException("the connection of " + name + " has no " + field + ": " + node.toString().replaceAll(
                    "\"password\"\\s*:\\s*\"[^\"]*\"", "\"password\":\"***\""));
        }
        return Endpoint.parse(uri);
    }

    /** Records the pids of running computes, so {@link #close} can kill them if the server cannot. */
    void rememberComputePids() {
        if (closed || !process.isAlive()) {
            return;
        }
        try {
            for (JsonNode b : call("GET", "/v1/projects/default/branches", null, 200).path("branches")) {
                remember(b);
            }
        } catch (BenchException e) {
            // best effort: the server may be busy or gone
        }
    }

    private JsonNode remember(JsonNode branch) {
        if (branch.has("computePid")) {
            synchronized (computePids) {
                computePids.add(branch.path("computePid").asLong());
            }
        }
        return branch;
    }

    private static String branch(String name) {
        return "/v1/projects/default/branches/" + URLEncoder.encode(name, StandardCharsets.UTF_8);
    }

    /** {@code /metrics}: the server's Prometheus text. */
    String metricsText() {
        return send("GET", "/metrics", null, 200, CALL_TIMEOUT);
    }

    /**
     * The server's {@code pgbranch_fuse_requests_total} by operation, or empty if it has none.
     */
    Map<String, Long> fuseRequests() {
        Map<String, Long> out = new java.util.TreeMap<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^pgbranch_fuse_requests_total\\{op=\"([a-z_]+)\"\\} (\\d+)$")
                .matcher(metricsText());
        while (m.find()) {
            out.put(m.group(1), Long.parseLong(m.group(2)));
        }
        return out;
    }

    private JsonNode call(String method, String path, String body, int expectedStatus) {
        return call(method, path, body, expectedStatus, CALL_TIMEOUT);
    }

    private JsonNode call(String method, String path, String body, int expectedStatus, Duration timeout) {
        String text = send(method, path, body, expectedStatus, timeout);
        try {
            return text.isBlank() ? JSON.createObjectNode() : JSON.readTree(text);
        } catch (IOException e) {
            throw new BenchException(method + " " + path + " answered non-JSON: " + text, e);
        }
    }

    private String send(String method, String path, String body, int expectedStatus, Duration timeout) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(api + path)).timeout(timeout)
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new BenchException(method + " " + path + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BenchException(method + " " + path + " interrupted", e);
        }
        int status = response.statusCode();
        // DELETE may answer 200 or 204; any 2xx is success when 200 is expected.
        boolean ok = status == expectedStatus || (expectedStatus == 200 && status / 100 == 2);
        if (!ok) {
            throw new BenchException(method + " " + path + " answered " + status + ": " + response.body());
        }
        return response.body();
    }

    // ------------------------------------------------------------------------------ stop

    @Override
    public void close() {
        if (closed) {
            return;
        }
        rememberComputePids();
        closed = true;
        try {
            if (process.isAlive()) {
                process.destroy(); // SIGTERM: the server stops its computes and unmounts
                if (!process.waitFor(2, TimeUnit.MINUTES)) {
                    process.destroyForcibly();
                    process.waitFor(30, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            killLeftoverComputes();
            unmountLeftovers(dataDirectory);
        }
    }

    private void killLeftoverComputes() {
        List<Long> pids;
        synchronized (computePids) {
            pids = new ArrayList<>(computePids);
        }
        for (long pid : pids) {
            // Only a process that is still a postgres binary: the pid may have been reused.
            ProcessHandle.of(pid)
                    .filter(h -> h.info().command().map(c -> c.endsWith("/postgres")).orElse(false))
                    .ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /** Lazily unmounts every mount at or under {@code directory}; returns what was still mounted. */
    static List<String> unmountLeftovers(Path directory) {
        List<String> mounts = mountsUnder(directory);
        for (String mount : mounts) {
            Commands.run(List.of("fusermount3", "-uz", mount), Map.of(), Path.of("/"), Duration.ofSeconds(30));
        }
        return mounts;
    }

    static List<String> mountsUnder(Path directory) {
        List<String> mounts = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
                String[] fields = line.split(" ");
                if (fields.length > 1 && (fields[1].equals(directory.toString())
                        || fields[1].startsWith(directory + "/"))) {
                    mounts.add(fields[1]);
                }
            }
        } catch (IOException e) {
            throw new BenchException("cannot read /proc/mounts: " + e.getMessage(), e);
        }
        return mounts;
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new BenchException("no free port: " + e.getMessage(), e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BenchException("interrupted", e);
        }
    }
}

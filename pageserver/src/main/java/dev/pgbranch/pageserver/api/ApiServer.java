package dev.pgbranch.pageserver.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pgbranch.pageserver.branch.BranchException;
import dev.pgbranch.pageserver.branch.BranchInfo;
import dev.pgbranch.pageserver.branch.BranchService;
import dev.pgbranch.pageserver.branch.ConnectionInfo;
import dev.pgbranch.pageserver.branch.ErrorCode;
import dev.pgbranch.pageserver.branch.GarbageCollector;
import dev.pgbranch.pageserver.branch.ProjectInfo;
import dev.pgbranch.pageserver.branch.Retention;
import dev.pgbranch.pageserver.console.Console;
import dev.pgbranch.storage.StoreStats;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The management API: HTTP/JSON on 127.0.0.1, every route behind the bearer token.
 *
 * <pre>
 * GET    /v1/projects/{p}                               project: retention window, disk usage
 * PATCH  /v1/projects/{p}                               {"retention": "7d"} (7d, 12h, 30m, 90s, 0s, PT8H)
 * POST   /v1/projects/{p}/gc                            garbage collection now; per-timeline results
 * GET    /v1/projects/{p}/branches                      list
 * POST   /v1/projects/{p}/branches                      create   {"name","parent","at"?,"expiresAt"?}
 * GET    /v1/projects/{p}/branches/{b}                  show
 * PATCH  /v1/projects/{p}/branches/{b}                  {"protected": true|false} and/or {"expiresAt": time|null}
 * DELETE /v1/projects/{p}/branches/{b}                  delete
 * POST   /v1/projects/{p}/branches/{b}/reset            reset from parent
 * POST   /v1/projects/{p}/branches/{b}/restore          restore  {"at", "backup"?: true|false}
 *                                                       (the answer names the backup branch as "backup")
 * GET    /v1/projects/{p}/branches/{b}/connection       connection strings (branch port, routing port)
 * POST   /v1/projects/{p}/branches/{b}/compute/start    start the compute
 * POST   /v1/projects/{p}/branches/{b}/compute/stop     stop the compute
 * GET    /metrics                                       Prometheus text
 * GET    /v1/store/quarantine ...                       the store's quarantine ({@link StoreRoutes})
 * </pre>
 *
 * With a {@link Console} set, every other path is the web console, and API requests may carry
 * its session cookie (plus its CSRF token when they change something) instead of the bearer
 * token; the console adds its own routes (SQL, databases, reset impact, login links).
 *
 * Branch names are percent-encoded in paths ({@code dev%2Falex}). Errors are
 * {@code {"error":{"code","message"}}} with 400 (bad input), 401 (no or wrong token), 404
 * (unknown project, branch or route), 405 (wrong method), 409 (exists, protected, has
 * children), 503 (compute failed to start) or 500.
 *
 * <p>Thread-safety: requests run concurrently on virtual threads; the branch service
 * serializes what must be. {@link #close} stops accepting requests and waits briefly for
 * running ones.
 */
public final class ApiServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ApiServer.class.getName());
    private static final int MAX_BODY_BYTES = 64 * 1024;

    static final ObjectMapper JSON = JsonMapper.builder().build();

    private final BranchService branches;
    private final ApiToken token;
    private final Metrics metrics;
    private final HttpServer server;
    private final ExecutorService executor;
    private volatile SchemaRoutes schemaRoutes;
    private volatile GarbageCollector garbageCollector;
    private volatile Console console;
    private volatile StoreRoutes storeRoutes;

    /**
     * Binds 127.0.0.1:{@code port} (0 = any free port); {@link #start} begins serving.
     *
     * @param storeStats the storage engine's counters, for {@code /metrics}
     * @param proxyMetrics the wire proxy's series in the Prometheus text format, for {@code /metrics}
     */
    public ApiServer(BranchService branches, ApiToken token, int port, Supplier<StoreStats> storeStats,
                     Supplier<String> proxyMetrics) throws IOException {
        this.branches = branches;
        this.token = token;
        this.metrics = new Metrics(branches, storeStats, proxyMetrics);
        try {
            this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
        } catch (BindException e) {
            throw new IOException("the management API cannot listen on 127.0.0.1:" + port + " (" + e.getMessage()
                    + "); choose another --api-port, or 0 for any free port", e);
        }
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    /** Serves schema-diff and promote through {@code routes} (before {@link #start}). */
    public void schemaRoutes(SchemaRoutes routes) {
        this.schemaRoutes = routes;
    }

    /** Serves {@code POST /v1/projects/{p}/gc} and its metrics through {@code collector} (before {@link #start}). */
    public void garbageCollector(GarbageCollector collector) {
        this.garbageCollector = collector;
        metrics.garbageCollector(collector);
    }

    /**
     * Serves the web console through {@code console} (before {@link #start}): every path but
     * {@code /v1/...} and {@code /metrics}, API requests carrying its session cookie instead of
     * the bearer token, and its own routes.
     */
    public void console(Console console) {
        this.console = console;
    }

    /** Serves {@code /v1/store/...} through {@code routes} (before {@link #start}). */
    public void storeRoutes(StoreRoutes routes) {
        this.storeRoutes = routes;
    }

    public void start() {
        server.start();
    }

    /** The port the API listens on (the real one when 0 was asked for). */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(1);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) {
        int status = 500;
        try (exchange) {
            Response response;
            Console console = this.console;
            if (console != null && Console.serves(exchange.getRequestURI().getRawPath())) {
                console.serve(exchange);
                status = exchange.getResponseCode();
                return;
            }
            Console.Access access = token.accepts(exchange.getRequestHeaders().getFirst("Authorization"))
                    ? Console.Access.GRANTED : console == null ? Console.Access.NONE : console.access(exchange);
            if (access == Console.Access.FORBIDDEN) {
                response = relay(console.forbidden());
            } else if (access == Console.Access.NONE) {
                exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"pgbranch\"");
                response = error(401, "UNAUTHORIZED", "missing or wrong bearer token (Authorization: Bearer <token from "
                        + ApiToken.FILE_NAME + " in the data directory>)");
            } else {
                response = answer(exchange);
            }
            status = response.status();
            byte[] body = response.body();
            exchange.getResponseHeaders().set("Content-Type", response.contentType());
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        } catch (IOException | RuntimeException e) {
            // The client went away mid-response, or a bug in the handler: log, the exchange is closed.
            LOG.log(System.Logger.Level.WARNING, "API request " + exchange.getRequestMethod() + " "
                    + exchange.getRequestURI().getRawPath() + " failed: " + e, e);
        } finally {
            metrics.countRequest(status);
        }
    }

    /**
     * {@link #route}, turning any throwable into a 500 answer: a client must never be left with
     * a closed connection and no status (e.g. a {@link LinkageError} if the jars were replaced
     * under a running server).
     */
    private Response answer(HttpExchange exchange) throws IOException {
        try {
            return route(exchange);
        } catch (IOException e) {
            throw e;
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.ERROR, "API request " + exchange.getRequestMethod() + " "
                    + exchange.getRequestURI().getRawPath() + " failed unexpectedly", e);
            if (e instanceof VirtualMachineError fatal) {
                throw fatal;
            }
            return error(500, ErrorCode.INTERNAL.name(), "internal error (" + e + "); see the server log");
        }
    }

    private Response route(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        List<String> path;
        try {
            path = segments(exchange.getRequestURI().getRawPath());
        } catch (IllegalArgumentException e) {
            return error(400, ErrorCode.BAD_REQUEST.name(), e.getMessage());
        }
        try {
            if (path.equals(List.of("metrics"))) {
                return method.equals("GET") ? new Response(200, metrics.render().getBytes(StandardCharsets.UTF_8),
                        "text/plain; version=0.0.4; charset=utf-8") : methodNotAllowed(exchange, "GET");
            }
            Console console = this.console;
            if (console != null && path.equals(List.of("v1", "console", "login-links"))) {
                return relay(console.loginLink(exchange));
            }
            StoreRoutes store = storeRoutes;
            if (store != null && StoreRoutes.handles(path)) {
                StoreRoutes.Answer answer = store.answer(exchange, path);
                return answer == null ? notFoundRoute(exchange) : answer.allowed() != null
                        ? methodNotAllowed(exchange, answer.allowed())
                        : new Response(answer.status(), answer.body() == null ? new byte[0] : json(answer.body()),
                        "application/json");
            }
            if (path.size() < 3 || !path.get(0).equals("v1") || !path.get(1).equals("projects")) {
                return notFoundRoute(exchange);
            }
            String project = path.get(2);
            if (path.size() == 3) {
                return switch (method) {
                    case "GET" -> ok(projectJson(branches.projectInfo(project)));
                    case "PATCH" -> {
                        JsonNode body = body(exchange);
                        if (!body.has("retention")) {
                            throw new BranchException(ErrorCode.BAD_REQUEST, "PATCH needs {\"retention\": \"7d\"}");
                        }
                        yield ok(projectJson(branches.setRetention(project, text(body, "retention", true))));
                    }
                    default -> methodNotAllowed(exchange, "GET, PATCH");
                };
            }
            if (path.size() == 4 && path.get(3).equals("gc")) {
                GarbageCollector collector = garbageCollector;
                if (!method.equals("POST")) {
                    return methodNotAllowed(exchange, "POST");
                }
                if (collector == null) {
                    return notFoundRoute(exchange);
                }
                return ok(gcJson(collector.collect(project)));
            }
            if (!path.get(3).equals("branches")) {
                return notFoundRoute(exchange);
            }
            if (path.size() == 4) {
                return switch (method) {
                    case "GET" -> ok(listJson(branches.list(project)));
                    case "POST" -> {
                        JsonNode body = body(exchange);
                        BranchInfo created = branches.create(project, text(body, "name", true),
                                text(body, "parent", true), text(body, "at", false), text(body, "expiresAt", false));
                        yield new Response(201, json(branchJson(created)), "application/json");
                    }
                    default -> methodNotAllowed(exchange, "GET, POST");
                };
            }
            String branch = path.get(4);
            List<String> action = path.subList(5, path.size());
            if (action.isEmpty()) {
                return switch (method) {
                    case "GET" -> ok(branchJson(branches.show(project, branch)));
                    case "PATCH" -> {
                        JsonNode body = body(exchange);
                        JsonNode value = body.get("protected");
                        boolean expiry = body.has("expiresAt");
                        if (value != null && !value.isBoolean() || value == null && !expiry) {
                            throw new BranchException(ErrorCode.BAD_REQUEST,
                                    "PATCH needs {\"protected\": true|false} and/or {\"expiresAt\": \"<ISO-8601>\"|null}");
                        }
                        BranchInfo info = null;
                        if (expiry) {
                            info = branches.setExpiry(project, branch, text(body, "expiresAt", false));
                        }
                        if (value != null) {
                            info = branches.setProtected(project, branch, value.booleanValue());
                        }
                        yield ok(branchJson(info));
                    }
                    case "DELETE" -> {
                        branches.delete(project, branch);
                        yield new Response(204, new byte[0], "application/json");
                    }
                    default -> methodNotAllowed(exchange, "GET, PATCH, DELETE");
                };
            }
            String joined = String.join("/", action);
            SchemaRoutes schema = schemaRoutes;
            if (schema != null && SchemaRoutes.handles(joined)) {
                SchemaRoutes.Answer answer = schema.answer(exchange, project, branch, joined);
                return new Response(answer.status(), answer.body(), answer.contentType());
            }
            if (console != null && Console.handles(joined)) {
                return relay(console.answer(exchange, project, branch, joined));
            }
            return switch (joined) {
                case "reset" -> method.equals("POST") ? ok(branchJson(branches.reset(project, branch)))
                        : methodNotAllowed(exchange, "POST");
                case "restore" -> {
                    if (!method.equals("POST")) {
                        yield methodNotAllowed(exchange, "POST");
                    }
                    JsonNode body = body(exchange);
                    JsonNode backup = body.get("backup");
                    if (backup != null && !backup.isBoolean()) {
                        throw new BranchException(ErrorCode.BAD_REQUEST, "field 'backup' must be true or false");
                    }
                    String before = branches.show(project, branch).timeline();
                    ObjectNode restored = branchJson(branches.restore(project, branch, text(body, "at", true),
                            backup == null || backup.booleanValue()));
                    // The backup branch is the one now holding the timeline the branch had before.
                    branches.list(project).stream()
                            .filter(b -> b.timeline().equals(before) && b.name().startsWith(branch + "_old_"))
                            .findFirst()
                            .ifPresent(b -> restored.put("backup", b.name()));
                    yield ok(restored);
                }
                case "connection" -> method.equals("GET") ? ok(connectionJson(branches.connection(project, branch)))
                        : methodNotAllowed(exchange, "GET");
                case "compute/start" -> method.equals("POST") ? ok(branchJson(branches.startCompute(project, branch)))
                        : methodNotAllowed(exchange, "POST");
                case "compute/stop" -> method.equals("POST") ? ok(branchJson(branches.stopCompute(project, branch)))
                        : methodNotAllowed(exchange, "POST");
                default -> notFoundRoute(exchange);
            };
        } catch (BranchException e) {
            return error(status(e.code()), e.code().name(), e.getMessage());
        }
    }

    /** The HTTP status of a branch error (the console's routes answer alike). */
    public static int status(ErrorCode code) {
        return switch (code) {
            case BAD_REQUEST -> 400;
            case NOT_FOUND -> 404;
            case CONFLICT, PROTECTED, HAS_CHILDREN -> 409;
            case COMPUTE_FAILED, QUARANTINED -> 503;
            case INTERNAL -> 500;
        };
    }

    /** Splits a raw path into percent-decoded segments, so {@code dev%2Falex} is one segment. */
    static List<String> segments(String rawPath) {
        List<String> out = new ArrayList<>();
        for (String raw : rawPath.split("/")) {
            if (!raw.isEmpty()) {
                out.add(percentDecode(raw));
            }
        }
        return out;
    }

    /** RFC 3986 percent-decoding as UTF-8 ('+' stays '+', unlike form decoding). */
    static String percentDecode(String raw) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length()) {
                    throw new IllegalArgumentException("malformed percent-encoding in path segment '" + raw + "'");
                }
                int hi = Character.digit(raw.charAt(i + 1), 16);
                int lo = Character.digit(raw.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("malformed percent-encoding in path segment '" + raw + "'");
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else {
                byte[] encoded = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(encoded, 0, encoded.length);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    static JsonNode body(HttpExchange exchange) throws IOException {
        byte[] bytes;
        try (InputStream in = exchange.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (bytes.length > MAX_BODY_BYTES) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "request body over " + MAX_BODY_BYTES + " bytes");
        }
        if (bytes.length == 0) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "this request needs a JSON object body");
        }
        try {
            JsonNode node = JSON.readTree(bytes);
            if (node == null || !node.isObject()) {
                throw new BranchException(ErrorCode.BAD_REQUEST, "the request body must be a JSON object");
            }
            return node;
        } catch (JacksonException e) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "the request body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    static String text(JsonNode body, String field, boolean required) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            if (required) {
                throw new BranchException(ErrorCode.BAD_REQUEST, "field '" + field + "' is required");
            }
            return null;
        }
        if (!value.isTextual()) {
            throw new BranchException(ErrorCode.BAD_REQUEST, "field '" + field + "' must be a string");
        }
        return value.textValue();
    }

    static ObjectNode branchJson(BranchInfo b) {
        ObjectNode node = JSON.createObjectNode();
        node.put("project", b.project());
        node.put("name", b.name());
        node.put("parent", b.parent());
        node.put("timeline", b.timeline());
        node.put("createdAt", b.createdAt().toString());
        node.put("parentLsn", b.parentLsn());
        node.put("headLsn", b.headLsn());
        node.put("protected", b.protectedBranch());
        node.put("port", b.port());
        node.put("computeState", b.computeState());
        node.put("expiresAt", b.expiresAt() == null ? null : b.expiresAt().toString());
        if (b.computePid() != 0) {
            node.put("computePid", b.computePid());
        }
        if (b.restorableFrom() == null) {
            node.putNull("restorableFrom");
        } else {
            ObjectNode from = node.putObject("restorableFrom");
            from.put("lsn", b.restorableFrom().lsn());
            from.put("time", b.restorableFrom().time() == null ? null : b.restorableFrom().time().toString());
        }
        BranchInfo.Usage usage = b.usage();
        node.put("exclusiveBytes", usage == null ? null : usage.exclusiveBytes());
        node.put("sharedBytes", usage == null ? null : usage.sharedBytes());
        node.put("pendingBytes", usage == null ? null : usage.pendingBytes());
        return node;
    }

    static ObjectNode projectJson(ProjectInfo p) {
        ObjectNode node = JSON.createObjectNode();
        node.put("name", p.name());
        node.put("createdAt", p.createdAt().toString());
        node.put("retention", Retention.format(p.retention()));
        node.put("branches", p.branches());
        node.put("layerBytes", p.usageKnown() ? p.layerBytes() : null);
        node.put("pendingBytes", p.usageKnown() ? p.pendingBytes() : null);
        node.put("retiredTimelines", p.retiredTimelines());
        return node;
    }

    static ObjectNode gcJson(GarbageCollector.Report report) {
        ObjectNode node = JSON.createObjectNode();
        node.put("startedAt", report.startedAt().toString());
        node.put("durationMs", report.duration().toMillis());
        node.put("bytesFreed", report.bytesFreed());
        var array = node.putArray("timelines");
        for (GarbageCollector.Entry e : report.entries()) {
            ObjectNode t = array.addObject();
            t.put("branch", e.branch());
            t.put("timeline", e.timeline().toString());
            t.put("retired", e.retired());
            t.put("horizonLsn", e.horizonLsn());
            t.put("windowApplied", e.windowApplied());
            t.put("layerFilesBefore", e.layerFilesBefore());
            t.put("layerFilesAfter", e.layerFilesAfter());
            t.put("bytesBefore", e.bytesBefore());
            t.put("bytesAfter", e.bytesAfter());
            t.put("versionsDropped", e.versionsDropped());
            t.put("error", e.error());
        }
        return node;
    }

    private static ObjectNode listJson(List<BranchInfo> list) {
        ObjectNode node = JSON.createObjectNode();
        var array = node.putArray("branches");
        list.forEach(b -> array.add(branchJson(b)));
        return node;
    }

    private static ObjectNode connectionJson(ConnectionInfo c) {
        ObjectNode node = JSON.createObjectNode();
        node.put("branch", c.branch());
        node.put("host", c.host());
        node.put("port", c.port());
        node.put("user", c.user());
        node.put("password", c.password());
        node.put("database", c.database());
        node.put("uri", c.uri());
        node.put("routingPort", c.routingPort());
        node.put("routingUri", c.routingUri());
        return node;
    }

    private static Response relay(Console.Answer answer) {
        return new Response(answer.status(), answer.body(), answer.contentType());
    }

    private static Response ok(JsonNode node) throws IOException {
        return new Response(200, json(node), "application/json");
    }

    private static byte[] json(JsonNode node) throws IOException {
        return JSON.writeValueAsBytes(node);
    }

    private static Response error(int status, String code, String message) throws IOException {
        ObjectNode node = JSON.createObjectNode();
        ObjectNode error = node.putObject("error");
        error.put("code", code);
        error.put("message", message);
        return new Response(status, json(node), "application/json");
    }

    private static Response methodNotAllowed(HttpExchange exchange, String allowed) throws IOException {
        exchange.getResponseHeaders().set("Allow", allowed);
        return error(405, "METHOD_NOT_ALLOWED", exchange.getRequestMethod() + " is not allowed here; allowed: " + allowed);
    }

    private static Response notFoundRoute(HttpExchange exchange) throws IOException {
        return error(404, "NOT_FOUND", "no such route: " + exchange.getRequestMethod() + " "
                + exchange.getRequestURI().getRawPath());
    }

    private record Response(int status, byte[] body, String contentType) {
    }
}

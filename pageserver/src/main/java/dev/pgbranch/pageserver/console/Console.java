package dev.pgbranch.pageserver.console;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import dev.pgbranch.pageserver.api.ApiToken;
import dev.pgbranch.pageserver.branch.BranchException;
import dev.pgbranch.pageserver.branch.BranchService;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * The web console, served by the management API's own HTTP server under {@code /} (the API keeps
 * {@code /v1} and {@code /metrics}). The page is static ({@link StaticAssets}) and talks to the
 * same API as the CLI, authenticated by a session cookie instead of the bearer token.
 *
 * <pre>
 * GET  /                                  the page (login form when there is no session)
 * POST /console/login        {"token"}    the API token opens a session: Set-Cookie, {"csrf","expiresAt"}
 * GET  /console/login?link=CODE           a one-time link from `pgbranch console`: Set-Cookie, 303 to /
 * GET  /console/session                   {"csrf","expiresAt"} of the cookie's session, or 401
 * POST /console/logout                    ends the session (CSRF token required)
 * POST /v1/console/login-links            (bearer token) a one-time login link: {"url","expiresAt"}
 * POST /v1/projects/{p}/branches/{b}/sql           run SQL ({@link SqlRequest} -> {@link SqlResult})
 * GET  /v1/projects/{p}/branches/{b}/databases     {"databases": [...]}
 * GET  /v1/projects/{p}/branches/{b}/reset-impact  {@link ResetImpact}
 * </pre>
 *
 * Security: the cookie is HttpOnly, SameSite=Strict, named per API port (cookies ignore ports);
 * every mutating request made with it must carry the session's {@code X-CSRF-Token} and, when the
 * browser sends one, an {@code Origin} of this server; the {@code Host} must be a loopback name
 * (no DNS rebinding); every console response carries a strict Content-Security-Policy (scripts,
 * styles and connections from this origin only, no inline script or style, no framing).
 *
 * <p>Thread-safe.
 */
public final class Console {

    /** How long a browser session lasts from its login. */
    public static final Duration DEFAULT_SESSION_TTL = Duration.ofHours(12);

    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; "
            + "frame-ancestors 'none'";
    static final String CSRF_HEADER = "X-CSRF-Token";
    private static final int MAX_BODY_BYTES = 256 * 1024;
    private static final Set<String> BRANCH_ACTIONS = Set.of("sql", "databases", "reset-impact");
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD");
    private static final Set<String> LOOPBACK_HOSTS = Set.of("127.0.0.1", "localhost", "[::1]");
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    /** An HTTP answer of the console's API routes. */
    public record Answer(int status, byte[] body, String contentType) {
    }

    /** How a request without the bearer token stands with respect to a console session. */
    public enum Access {
        /** No session cookie, or an expired or unknown one. */
        NONE,
        /** A live session, and the CSRF token and origin a mutating request needs. */
        GRANTED,
        /** A live session, but a mutating request without the right CSRF token, or from another origin. */
        FORBIDDEN
    }

    private final ApiToken token;
    private final Sessions sessions;
    private final SqlRunner sql;
    private final BranchInsight insight;
    private final ToIntFunction<BranchException> statusOf;

    /**
     * @param statusOf the HTTP status the API gives each branch error (the console's routes answer alike)
     */
    public Console(BranchService branches, ApiToken token, Duration sessionTtl, InstantSource clock,
                   ToIntFunction<BranchException> statusOf) {
        this.token = token;
        this.sessions = new Sessions(sessionTtl, clock);
        BranchConnector connector = new BranchConnector(branches);
        this.sql = new SqlRunner(connector);
        this.insight = new BranchInsight(branches, connector);
        this.statusOf = statusOf;
    }

    /** Whether the console, rather than the API, serves {@code rawPath}. */
    public static boolean serves(String rawPath) {
        return !rawPath.equals("/v1") && !rawPath.startsWith("/v1/") && !rawPath.equals("/metrics");
    }

    /** Whether {@code action} (the path after a branch) is one of the console's branch routes. */
    public static boolean handles(String action) {
        return BRANCH_ACTIONS.contains(action);
    }

    /** Serves a path for which {@link #serves} is true: the page, its files, login and session. */
    public void serve(HttpExchange exchange) throws IOException {
        Headers headers = exchange.getResponseHeaders();
        headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        headers.set("X-Content-Type-Options", "nosniff");
        headers.set("X-Frame-Options", "DENY");
        headers.set("Referrer-Policy", "no-referrer");
        headers.set("Cache-Control", "no-cache");
        String path = exchange.getRequestURI().getRawPath();
        String method = exchange.getRequestMethod();
        try {
            if (!loopbackHost(exchange)) {
                throw new ConsoleException(ConsoleException.Code.FORBIDDEN, "the console answers only to a loopback "
                        + "Host (127.0.0.1, localhost); got " + exchange.getRequestHeaders().getFirst("Host"));
            }
            switch (path) {
                case "/console/login" -> {
                    if (method.equals("POST")) {
                        login(exchange);
                    } else {
                        redeemLink(exchange);
                    }
                }
                case "/console/session" -> {
                    Sessions.Session session = session(exchange).orElseThrow(Console::noSession);
                    send(exchange, 200, json(sessionJson(session)), "application/json");
                }
                case "/console/logout" -> {
                    requireMethod(method, "POST");
                    Optional<Sessions.Session> session = session(exchange);
                    if (session.isPresent() && access(exchange) != Access.GRANTED) {
                        throw csrfRefused();
                    }
                    session.ifPresent(s -> sessions.close(s.id()));
                    headers.add("Set-Cookie", cookieName(exchange) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
                    send(exchange, 204, new byte[0], "application/json");
                }
                default -> {
                    if (!method.equals("GET")) {
                        throw new ConsoleException(ConsoleException.Code.BAD_REQUEST, method + " is not allowed on "
                                + path);
                    }
                    Optional<StaticAssets.Asset> asset = StaticAssets.find(path);
                    if (asset.isEmpty()) {
                        send(exchange, 404, errorJson("NOT_FOUND", "no such page: " + path, null), "application/json");
                    } else {
                        send(exchange, 200, asset.get().body(), asset.get().contentType());
                    }
                }
            }
        } catch (ConsoleException e) {
            send(exchange, e.code().httpStatus, errorJson(e.code().name(), e.getMessage(), e.sqlState()),
                    "application/json");
        }
    }

    /** The standing of an API request that came without the bearer token. */
    public Access access(HttpExchange exchange) {
        Optional<Sessions.Session> session = session(exchange);
        if (session.isEmpty()) {
            return Access.NONE;
        }
        if (!loopbackHost(exchange)) {
            return Access.FORBIDDEN;
        }
        if (SAFE_METHODS.contains(exchange.getRequestMethod())) {
            return Access.GRANTED;
        }
        boolean sameOrigin = sameOrigin(exchange);
        return sameOrigin && session.get().acceptsCsrf(exchange.getRequestHeaders().getFirst(CSRF_HEADER))
                ? Access.GRANTED : Access.FORBIDDEN;
    }

    /** The 403 answer of {@link Access#FORBIDDEN}. */
    public Answer forbidden() throws IOException {
        ConsoleException e = csrfRefused();
        return new Answer(403, errorJson(e.code().name(), e.getMessage(), null), "application/json");
    }

    /** {@code POST /v1/console/login-links}: a one-time login link to this server's console. */
    public Answer loginLink(HttpExchange exchange) throws IOException {
        if (!exchange.getRequestMethod().equals("POST")) {
            exchange.getResponseHeaders().set("Allow", "POST");
            return new Answer(405, errorJson("METHOD_NOT_ALLOWED", "use POST", null), "application/json");
        }
        Sessions.LoginLink link = sessions.newLink();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("url", "http://127.0.0.1:" + exchange.getLocalAddress().getPort() + "/console/login?link=" + link.code());
        body.put("expiresAt", link.expiresAt().toString());
        return new Answer(201, json(body), "application/json");
    }

    /** Answers one of the {@link #handles branch actions}; never throws for bad input or refusals. */
    public Answer answer(HttpExchange exchange, String project, String branch, String action) throws IOException {
        String method = exchange.getRequestMethod();
        try {
            Object body = switch (action) {
                case "sql" -> {
                    requireMethod(method, "POST");
                    yield sql.run(project, branch, read(exchange, SqlRequest.class));
                }
                case "databases" -> {
                    requireMethod(method, "GET");
                    yield Map.of("databases", insight.databases(project, branch));
                }
                case "reset-impact" -> {
                    requireMethod(method, "GET");
                    yield insight.resetImpact(project, branch);
                }
                default -> throw new IllegalArgumentException("not a console route: " + action);
            };
            return new Answer(200, json(body), "application/json");
        } catch (ConsoleException e) {
            return new Answer(e.code().httpStatus, errorJson(e.code().name(), e.getMessage(), e.sqlState()),
                    "application/json");
        } catch (BranchException e) {
            return new Answer(statusOf.applyAsInt(e), errorJson(e.code().name(), e.getMessage(), null),
                    "application/json");
        }
    }

    private void login(HttpExchange exchange) throws IOException {
        if (!sameOrigin(exchange)) {
            throw new ConsoleException(ConsoleException.Code.FORBIDDEN, "login from another origin refused");
        }
        LoginRequest request = read(exchange, LoginRequest.class);
        byte[] offered = request.token() == null ? new byte[0] : request.token().strip().getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(offered, token.value().getBytes(StandardCharsets.US_ASCII))) {
            throw new ConsoleException(ConsoleException.Code.UNAUTHORIZED, "wrong token: paste the content of "
                    + ApiToken.FILE_NAME + " in the data directory, or open the link `pgbranch console` prints");
        }
        Sessions.Session session = sessions.open();
        setCookie(exchange, session);
        send(exchange, 200, json(sessionJson(session)), "application/json");
    }

    private void redeemLink(HttpExchange exchange) throws IOException {
        requireMethod(exchange.getRequestMethod(), "GET");
        String code = queryParameter(exchange.getRequestURI().getRawQuery(), "link");
        if (!sessions.redeem(code)) {
            throw new ConsoleException(ConsoleException.Code.UNAUTHORIZED, "this login link is unknown, used or "
                    + "expired (links last " + Sessions.LINK_TTL.toMinutes() + " minutes, once): run `pgbranch console` "
                    + "again");
        }
        setCookie(exchange, sessions.open());
        exchange.getResponseHeaders().set("Location", "/");
        send(exchange, 303, new byte[0], "text/plain");
    }

    record LoginRequest(String token) {

        @Override
        public String toString() {
            return "LoginRequest[hidden]";
        }
    }

    private void setCookie(HttpExchange exchange, Sessions.Session session) {
        exchange.getResponseHeaders().add("Set-Cookie", cookieName(exchange) + "=" + session.id()
                + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + sessions.ttl().toSeconds());
    }

    private Optional<Sessions.Session> session(HttpExchange exchange) {
        String name = cookieName(exchange);
        for (String header : exchange.getRequestHeaders().getOrDefault("Cookie", List.of())) {
            for (String pair : header.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).strip().equals(name)) {
                    return sessions.find(pair.substring(eq + 1).strip());
                }
            }
        }
        return Optional.empty();
    }

    /** Cookies are shared by every port of a host: one name per API port keeps side-by-side servers apart. */
    private static String cookieName(HttpExchange exchange) {
        return "pgbranch_session_" + exchange.getLocalAddress().getPort();
    }

    private static boolean loopbackHost(HttpExchange exchange) {
        String host = exchange.getRequestHeaders().getFirst("Host");
        if (host == null) {
            return false;
        }
        int colon = host.lastIndexOf(':');
        String name = colon > 0 && !host.endsWith("]") ? host.substring(0, colon) : host;
        return LOOPBACK_HOSTS.contains(name.toLowerCase(java.util.Locale.ROOT));
    }

    /** No Origin (not a browser, or a same-origin GET) passes; a browser's Origin must name this server. */
    private static boolean sameOrigin(HttpExchange exchange) {
        String origin = exchange.getRequestHeaders().getFirst("Origin");
        String host = exchange.getRequestHeaders().getFirst("Host");
        return origin == null || host != null && origin.equals("http://" + host);
    }

    private static Map<String, Object> sessionJson(Sessions.Session session) {
        return Map.of("csrf", session.csrf(), "expiresAt", session.expiresAt().toString());
    }

    private static <T> T read(HttpExchange exchange, Class<T> type) throws IOException {
        byte[] bytes;
        try (InputStream in = exchange.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (bytes.length > MAX_BODY_BYTES) {
            throw new ConsoleException(ConsoleException.Code.BAD_REQUEST, "request body over " + MAX_BODY_BYTES + " bytes");
        }
        if (bytes.length == 0) {
            throw new ConsoleException(ConsoleException.Code.BAD_REQUEST, "this request needs a JSON object body");
        }
        try {
            return JSON.readValue(bytes, type);
        } catch (JacksonException e) {
            throw new ConsoleException(ConsoleException.Code.BAD_REQUEST, "the request body is not what "
                    + exchange.getRequestURI().getPath() + " takes: " + e.getOriginalMessage());
        }
    }

    private static String queryParameter(String rawQuery, String name) {
        if (rawQuery == null) {
            return null;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                return URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private static void requireMethod(String method, String allowed) {
        if (!method.equals(allowed)) {
            throw new ConsoleException(ConsoleException.Code.BAD_REQUEST, method + " is not allowed here; use " + allowed);
        }
    }

    private static ConsoleException noSession() {
        return new ConsoleException(ConsoleException.Code.UNAUTHORIZED, "no console session (or it expired): log in");
    }

    private static ConsoleException csrfRefused() {
        return new ConsoleException(ConsoleException.Code.FORBIDDEN, "a change through a console session needs the "
                + "session's " + CSRF_HEADER + " header and this server's Origin");
    }

    private static byte[] json(Object value) throws IOException {
        return JSON.writeValueAsBytes(value);
    }

    private static byte[] errorJson(String code, String message, String sqlState) throws IOException {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code);
        error.put("message", message);
        if (sqlState != null) {
            error.put("sqlState", sqlState);
        }
        return json(Map.of("error", error));
    }

    private static void send(HttpExchange exchange, int status, byte[] body, String contentType) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }
}

package dev.pgbranch.pageserver.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgbranch.pageserver.PageServer;
import dev.pgbranch.pageserver.api.ApiServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console's HTTP side against a real server (in this JVM; computes on FUSE for the SQL
 * routes): login with the token and with one-time links, the cookie's attributes, session
 * expiry (a second API server over the same branches with a clock the test moves), CSRF and
 * origin refusals, loopback Host only, the Content-Security-Policy, and the SQL route's limits.
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Path dataDirectory;
    private PageServer server;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private String base;

    @BeforeAll
    void startServer() throws IOException {
        dataDirectory = Files.createTempDirectory("pgbranch-console-api-test");
        Files.setPosixFilePermissions(dataDirectory, PosixFilePermissions.fromString("rwx--x--x"));
        int portBase;
        try (ServerSocket socket = new ServerSocket(0)) {
            portBase = socket.getLocalPort();
        }
        server = PageServer.start(new PageServer.Config(dataDirectory.resolve("data"), 0, portBase));
        base = "http://127.0.0.1:" + server.apiPort();
    }

    @AfterAll
    void stopServer() throws IOException {
        if (server != null) {
            server.close();
        }
        if (dataDirectory != null) {
            try (Stream<Path> files = Files.walk(dataDirectory)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** A logged-in browser as the API sees it: its cookie and its CSRF token. */
    private record Session(String cookie, String csrf) {
    }

    private Session login(String base) throws Exception {
        HttpResponse<String> response = send(base, "POST", "/console/login",
                "{\"token\":\"" + server.token().value() + "\"}", null, null);
        assertEquals(200, response.statusCode(), response.body());
        String setCookie = response.headers().firstValue("Set-Cookie").orElseThrow();
        return new Session(setCookie.substring(0, setCookie.indexOf(';')), JSON.readTree(response.body()).path("csrf").asText());
    }

    private HttpResponse<String> send(String base, String method, String path, String body, Session session, String csrf)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (session != null) {
            request.header("Cookie", session.cookie());
        }
        if (csrf != null) {
            request.header(Console.CSRF_HEADER, csrf);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> send(String method, String path, String body, Session session) throws Exception {
        return send(base, method, path, body, session, session == null ? null : session.csrf());
    }

    private static String errorCode(HttpResponse<String> response) throws IOException {
        return JSON.readTree(response.body()).path("error").path("code").asText();
    }

    @Test
    void theApiTokenOpensASessionWhoseCookieIsHttpOnlyAndSameSiteStrict() throws Exception {
        HttpResponse<String> wrong = send("POST", "/console/login", "{\"token\":\"guess\"}", null);
        assertEquals(401, wrong.statusCode());
        assertTrue(wrong.headers().firstValue("Set-Cookie").isEmpty());

        HttpResponse<String> ok = send("POST", "/console/login", "{\"token\":\"" + server.token().value() + "\"}", null);
        assertEquals(200, ok.statusCode(), ok.body());
        String cookie = ok.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(cookie.startsWith("pgbranch_session_" + server.apiPort() + "="), cookie);
        assertTrue(cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict") && cookie.contains("; Path=/"), cookie);
        assertFalse(cookie.contains(server.token().value()), "the cookie is not the API token");

        Session session = login(base);
        assertEquals(200, send("GET", "/v1/projects/default/branches", null, session).statusCode());
        assertEquals(session.csrf(), JSON.readTree(send("GET", "/console/session", null, session).body()).path("csrf").asText());
        assertEquals(204, send("POST", "/console/logout", null, session).statusCode());
        assertEquals(401, send("GET", "/v1/projects/default/branches", null, session).statusCode(), "logged out");
    }

    @Test
    void aLoginLinkOpensOneSessionOnceAndNeedsTheBearerTokenToBeMade() throws Exception {
        HttpResponse<String> anonymous = send("POST", "/v1/console/login-links", null, null);
        assertEquals(401, anonymous.statusCode());
        HttpResponse<String> made = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/console/login-links"))
                .header("Authorization", "Bearer " + server.token().value())
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, made.statusCode(), made.body());
        String url = JSON.readTree(made.body()).path("url").asText();
        assertTrue(url.startsWith(base + "/console/login?link="), url);

        HttpResponse<String> first = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(303, first.statusCode());
        assertEquals("/", first.headers().firstValue("Location").orElseThrow());
        String cookie = first.headers().firstValue("Set-Cookie").orElseThrow();
        Session session = new Session(cookie.substring(0, cookie.indexOf(';')), null);
        assertEquals(200, send(base, "GET", "/v1/projects/default", null, session, null).statusCode());

        HttpResponse<String> again = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, again.statusCode(), "a link works once");
        assertTrue(again.headers().firstValue("Set-Cookie").isEmpty());
    }

    @Test
    void aSessionEndsWhenItsLifetimeIsOver() throws Exception {
        AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-01T10:00:00Z"));
        InstantSource clock = now::get;
        try (ApiServer api = new ApiServer(server.branches(), server.token(), 0, () -> null, () -> "")) {
            api.console(new Console(server.branches(), server.token(), Duration.ofHours(1), clock,
                    e -> ApiServer.status(e.code())));
            api.start();
            String other = "http://127.0.0.1:" + api.port();
            Session session = login(other);
            now.set(now.get().plus(Duration.ofMinutes(59)));
            assertEquals(200, send(other, "GET", "/v1/projects/default", null, session, null).statusCode());
            now.set(now.get().plus(Duration.ofMinutes(1)));
            HttpResponse<String> expired = send(other, "GET", "/v1/projects/default", null, session, null);
            assertEquals(401, expired.statusCode());
            assertEquals(401, send(other, "GET", "/console/session", null, session, null).statusCode());
        }
    }

    @Test
    void aChangeThroughASessionNeedsItsCsrfTokenAndThisOrigin() throws Exception {
        Session session = login(base);
        String path = "/v1/projects/default/branches/development";
        String body = "{\"expiresAt\":null}";
        HttpResponse<String> none = send(base, "PATCH", path, body, session, null);
        assertEquals(403, none.statusCode(), none.body());
        assertEquals("FORBIDDEN", errorCode(none));
        assertEquals(403, send(base, "PATCH", path, body, session, session.csrf() + "x").statusCode());
        assertEquals(403, send(base, "DELETE", path, null, session, "").statusCode());
        assertEquals(403, send(base, "POST", "/console/logout", null, session, null).statusCode());
        HttpResponse<String> foreign = http.send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Cookie", session.cookie()).header(Console.CSRF_HEADER, session.csrf())
                .header("Origin", "http://evil.example").method("PATCH", HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(403, foreign.statusCode(), "another site's page cannot use the session even with the token");
        assertEquals(200, send(base, "PATCH", path, body, session, session.csrf()).statusCode());
        assertEquals(200, send(base, "GET", path, null, session, null).statusCode(), "reads need no CSRF token");
    }

    @Test
    void everyConsoleAnswerCarriesAStrictContentSecurityPolicy() throws Exception {
        for (String path : new String[]{"/", "/console/app.js", "/console/style.css", "/vendor/codemirror/lib/codemirror.js",
                "/vendor/diff/dist/diff.js", "/console/nothing.js", "/console/session"}) {
            HttpResponse<String> response = send("GET", path, null, null);
            String csp = response.headers().firstValue("Content-Security-Policy").orElse("");
            assertEquals(Console.CONTENT_SECURITY_POLICY, csp, path);
            assertEquals("nosniff", response.headers().firstValue("X-Content-Type-Options").orElseThrow(), path);
            assertEquals("DENY", response.headers().firstValue("X-Frame-Options").orElseThrow(), path);
        }
        assertTrue(Console.CONTENT_SECURITY_POLICY.contains("script-src 'self';"));
        assertFalse(Console.CONTENT_SECURITY_POLICY.contains("unsafe"));
        assertEquals(200, send("GET", "/", null, null).statusCode());
        assertEquals(404, send("GET", "/console/nothing.js", null, null).statusCode());
        assertEquals(404, send("GET", "/vendor/codemirror/..%2F..%2Fmeta-inf/x.js", null, null).statusCode());
        assertEquals(404, send("GET", "/vendor/other/lib/x.js", null, null).statusCode());
    }

    @Test
    void theConsoleAnswersOnlyToALoopbackHostName() throws Exception {
        assertTrue(rawGet("127.0.0.1:" + server.apiPort()).startsWith("HTTP/1.1 200"));
        assertTrue(rawGet("localhost:" + server.apiPort()).startsWith("HTTP/1.1 200"));
        String rebound = rawGet("attacker.example:" + server.apiPort());
        assertTrue(rebound.startsWith("HTTP/1.1 403"), rebound);
    }

    /** A GET of / with a chosen Host header (java.net.http refuses to set Host). */
    private String rawGet(String host) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.apiPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void sqlRunsWithinItsRowLimitAndStatementTimeoutAndRefusesLimitsOutOfRange() throws Exception {
        Session session = login(base);
        String path = "/v1/projects/default/branches/development/sql";
        JsonNode rows = JSON.readTree(send("POST", path,
                "{\"sql\":\"SELECT g FROM generate_series(1, 50) g; SELECT 'a;b' AS \\\"x;y\\\"\",\"maxRows\":10}", session).body());
        JsonNode first = rows.path("statements").get(0);
        assertEquals("ROWS", first.path("status").asText(), rows.toString());
        assertEquals(10, first.path("rows").size());
        assertTrue(first.path("truncated").asBoolean());
        assertEquals("a;b", rows.path("statements").get(1).path("rows").get(0).get(0).asText(), "a quoted ; does not split");

        JsonNode slow = JSON.readTree(send("POST", path,
                "{\"sql\":\"SELECT pg_sleep(5); SELECT 1\",\"timeoutSeconds\":1}", session).body());
        JsonNode cancelled = slow.path("statements").get(0);
        assertEquals("ERROR", cancelled.path("status").asText(), slow.toString());
        assertEquals("57014", cancelled.path("error").path("sqlState").asText());
        assertEquals("SKIPPED", slow.path("statements").get(1).path("status").asText());

        JsonNode explained = JSON.readTree(send("POST", path, "{\"sql\":\"CREATE TABLE IF NOT EXISTS kept (a int);"
                + " \",\"explain\":false}", session).body());
        assertEquals("UPDATE", explained.path("statements").get(0).path("status").asText(), explained.toString());
        JsonNode plan = JSON.readTree(send("POST", path, "{\"sql\":\"INSERT INTO kept VALUES (1)\",\"explain\":true}",
                session).body()).path("statements").get(0);
        assertEquals("PLAN", plan.path("status").asText(), plan.toString());
        assertTrue(plan.path("plan").asText().contains("Insert on kept"), plan.toString());
        JsonNode count = JSON.readTree(send("POST", path, "{\"sql\":\"SELECT count(*) FROM kept\"}", session).body());
        assertEquals("0", count.path("statements").get(0).path("rows").get(0).get(0).asText(), "EXPLAIN ANALYZE rolled back");

        for (String bad : new String[]{"{\"sql\":\"SELECT 1\",\"maxRows\":0}", "{\"sql\":\"SELECT 1\",\"maxRows\":10001}",
                "{\"sql\":\"SELECT 1\",\"timeoutSeconds\":301}", "{\"sql\":\"SELECT 1\",\"rows\":5}", "{\"sql\":\"  -- nothing\"}",
                "{}"}) {
            HttpResponse<String> refused = send("POST", path, bad, session);
            assertEquals(400, refused.statusCode(), bad + " -> " + refused.body());
            assertEquals("BAD_REQUEST", errorCode(refused));
        }
        HttpResponse<String> unknown = send("POST", "/v1/projects/default/branches/nope/sql", "{\"sql\":\"SELECT 1\"}", session);
        assertEquals(404, unknown.statusCode(), unknown.body());
    }

    @Test
    void timeTravelSqlIsReadOnly() throws Exception {
        Session session = login(base);
        String path = "/v1/projects/default/branches/development/sql";
        String at = Instant.now().toString();
        HttpResponse<String> response = send("POST", path, "{\"sql\":\"SELECT 1; CREATE TABLE nope (a int)\",\"at\":\"" + at
                + "\"}", session);
        assertEquals(200, response.statusCode(), response.body());
        JsonNode answer = JSON.readTree(response.body());
        assertTrue(answer.path("readOnly").asBoolean());
        assertEquals("ROWS", answer.path("statements").get(0).path("status").asText(), response.body());
        JsonNode write = answer.path("statements").get(1);
        assertEquals("25006", write.path("error").path("sqlState").asText(), response.body());
        HttpResponse<String> badPoint = send("POST", path, "{\"sql\":\"SELECT 1\",\"at\":\"yesterday\"}", session);
        assertEquals(400, badPoint.statusCode(), badPoint.body());
        assertNotNull(JSON.readTree(badPoint.body()).path("error").path("message").asText());
    }
}

package dev.pgbranch.pageserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgbranch.pageserver.PageServer;
import dev.pgbranch.pageserver.branch.BranchService;
import dev.pgbranch.storage.Lsn;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The management API over real HTTP against a real server (storage engine, initdb through
 * FUSE): authentication, statuses and error documents. No compute is started.
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiServerTest {

    private Path dataDirectory;
    private PageServer server;
    private HttpClient http;
    private String base;
    private String token;

    @BeforeAll
    void startServer() throws IOException {
        // Not @TempDir: its 0700 parent would keep the compute user from reaching the mount.
        dataDirectory = Files.createTempDirectory("pgbranch-api-test");
        Files.setPosixFilePermissions(dataDirectory, PosixFilePermissions.fromString("rwx--x--x"));
        int portBase;
        try (ServerSocket socket = new ServerSocket(0)) {
            portBase = socket.getLocalPort();
        }
        server = PageServer.start(new PageServer.Config(dataDirectory.resolve("data"), 0, portBase));
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        base = "http://127.0.0.1:" + server.apiPort();
        token = server.token().value();
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

    private HttpResponse<String> send(String method, String path, String body, String bearer) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (bearer != null) {
            request.header("Authorization", "Bearer " + bearer);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        return send(method, path, body, token);
    }

    private static JsonNode json(HttpResponse<String> response) throws IOException {
        return ApiServer.JSON.readTree(response.body());
    }

    private static void assertError(HttpResponse<String> response, int status, String code, String messagePart)
            throws IOException {
        assertEquals(status, response.statusCode(), response.body());
        JsonNode error = json(response).path("error");
        assertEquals(code, error.path("code").asText(), response.body());
        assertTrue(error.path("message").asText().contains(messagePart), response.body());
    }

    @Test
    void everyRouteNeedsTheToken() throws Exception {
        for (String path : new String[]{"/metrics", "/v1/projects/default/branches", "/v1/projects/default/branches/production",
                "/v1/nowhere"}) {
            assertError(send("GET", path, null, null), 401, "UNAUTHORIZED", "bearer token");
            assertError(send("GET", path, null, token + "x"), 401, "UNAUTHORIZED", "bearer token");
        }
        HttpResponse<String> refused = send("DELETE", "/v1/projects/default/branches/development", null, "wrong");
        assertEquals(401, refused.statusCode());
        assertEquals(200, send("GET", "/v1/projects/default/branches/development", null).statusCode(),
                "an unauthorized DELETE deleted nothing");
    }

    @Test
    void aNewProjectHasProtectedProductionAndItsChildDevelopment() throws Exception {
        HttpResponse<String> response = send("GET", "/v1/projects/default/branches", null);
        assertEquals(200, response.statusCode());
        JsonNode production = null;
        JsonNode development = null;
        for (JsonNode b : json(response).path("branches")) {
            if (b.path("name").asText().equals("production")) {
                production = b;
            } else if (b.path("name").asText().equals("development")) {
                development = b;
            }
        }
        assertTrue(production != null && development != null, response.body());
        assertTrue(production.path("protected").asBoolean());
        assertTrue(production.path("parent").isNull());
        assertEquals("production", development.path("parent").asText());
        assertFalse(development.path("protected").asBoolean());
        for (String field : new String[]{"name", "parent", "timeline", "createdAt", "parentLsn", "protected", "port",
                "computeState"}) {
            assertTrue(development.has(field), "branch JSON lacks " + field);
        }
        assertEquals("suspended", development.path("computeState").asText());
        assertTrue(production.path("port").asInt() != development.path("port").asInt());
    }

    @Test
    void unknownBranchProjectAndRouteAre404() throws Exception {
        assertError(send("GET", "/v1/projects/default/branches/nope", null), 404, "NOT_FOUND", "'nope' does not exist");
        assertError(send("GET", "/v1/projects/nope/branches", null), 404, "NOT_FOUND", "project 'nope'");
        assertError(send("POST", "/v1/projects/default/branches/nope/reset", null), 404, "NOT_FOUND", "'nope'");
        assertError(send("DELETE", "/v1/projects/default/branches/dev%2Fnobody", null), 404, "NOT_FOUND", "'dev/nobody'");
        assertError(send("GET", "/v1/projects/default/branches/production/frobnicate", null), 404, "NOT_FOUND", "no such route");
        assertError(send("POST", "/v1/projects/default/branches", "{\"name\":\"x1\",\"parent\":\"ghost\"}"), 404,
                "NOT_FOUND", "'ghost'");
    }

    @Test
    void badNamesAndBadBodiesAre400() throws Exception {
        assertError(send("POST", "/v1/projects/default/branches", "{\"name\":\"../x\",\"parent\":\"development\"}"), 400,
                "BAD_REQUEST", "'..' segment");
        assertError(send("GET", "/v1/projects/default/branches/..%2Fx", null), 400, "BAD_REQUEST", "'..' segment");
        assertError(send("POST", "/v1/projects/default/branches", "{\"name\":\"\",\"parent\":\"development\"}"), 400,
                "BAD_REQUEST", "empty");
        assertError(send("POST", "/v1/projects/default/branches", "{\"name\":\"a\\u0007b\",\"parent\":\"development\"}"),
                400, "BAD_REQUEST", "control character");
        assertError(send("POST", "/v1/projects/default/branches", "{\"name\":\"" + "x".repeat(64)
                + "\",\"parent\":\"development\"}"), 400, "BAD_REQUEST", "63 bytes");
        assertError(send("POST", "/v1/projects/default/branches", "{\"name\":\"x\"}"), 400, "BAD_REQUEST", "'parent'");
        assertError(send("POST", "/v1/projects/default/branches", "{not json"), 400, "BAD_REQUEST", "not valid JSON");
        assertError(send("POST", "/v1/projects/default/branches", "[1,2]"), 400, "BAD_REQUEST", "JSON object");
        assertError(send("POST", "/v1/projects/default/branches", "{\"name\":7,\"parent\":\"development\"}"), 400,
                "BAD_REQUEST", "must be a string");
        assertError(send("POST", "/v1/projects/default/branches",
                "{\"name\":\"x2\",\"parent\":\"development\",\"at\":\"yesterday\"}"), 400, "BAD_REQUEST", "point in time");
        assertError(send("POST", "/v1/projects/default/branches",
                "{\"name\":\"x3\",\"parent\":\"development\",\"at\":\"FFFFFFFF/0\"}"), 400, "BAD_REQUEST", "ahead");
        assertError(send("POST", "/v1/projects/default/branches",
                "{\"name\":\"x4\",\"parent\":\"development\",\"at\":\"2999-01-01T00:00:00Z\"}"), 400, "BAD_REQUEST", "future");
        assertError(send("PATCH", "/v1/projects/default/branches/development", "{\"protected\":\"yes\"}"), 400,
                "BAD_REQUEST", "protected");
        // java.net.URI refuses to build this path, so it goes over a plain socket; the JDK's HTTP
        // server itself answers 400 (an HTML body) before our handler runs.
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.apiPort())) {
            socket.getOutputStream().write(("GET /v1/projects/default/branches/dev%zz HTTP/1.1\r\nHost: x\r\n"
                    + "Authorization: Bearer " + token + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String raw = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(raw.startsWith("HTTP/1.1 400"), raw);
        }
        HttpResponse<String> list = send("GET", "/v1/projects/default/branches", null);
        for (String name : new String[]{"\"x\"", "\"x2\"", "\"x3\"", "\"x4\"", "\"../x\""}) {
            assertFalse(list.body().contains("\"name\":" + name), "rejected request created " + name);
        }
    }

    @Test
    void protectedExistingAndParentBranchesAre409() throws Exception {
        assertError(send("DELETE", "/v1/projects/default/branches/production", null), 409, "PROTECTED", "protected");
        assertError(send("POST", "/v1/projects/default/branches/production/reset", null), 409, "PROTECTED",
                "cannot be reset;");
        assertError(send("POST", "/v1/projects/default/branches", "{\"name\":\"development\",\"parent\":\"production\"}"),
                409, "CONFLICT", "already exists");

        HttpResponse<String> created = send("POST", "/v1/projects/default/branches",
                "{\"name\":\"api/parent\",\"parent\":\"development\"}");
        assertEquals(201, created.statusCode(), created.body());
        assertEquals(201, send("POST", "/v1/projects/default/branches",
                "{\"name\":\"api/parent/child\",\"parent\":\"api/parent\"}").statusCode());
        assertError(send("DELETE", "/v1/projects/default/branches/api%2Fparent", null), 409, "HAS_CHILDREN",
                "api/parent/child");
        assertError(send("DELETE", "/v1/projects/default/branches/development", null), 409, "HAS_CHILDREN", "api/parent");

        HttpResponse<String> protect = send("PATCH", "/v1/projects/default/branches/api%2Fparent%2Fchild",
                "{\"protected\":true}");
        assertEquals(200, protect.statusCode());
        assertTrue(json(protect).path("protected").asBoolean());
        assertError(send("DELETE", "/v1/projects/default/branches/api%2Fparent%2Fchild", null), 409, "PROTECTED",
                "unprotect");
        assertError(send("POST", "/v1/projects/default/branches/api%2Fparent%2Fchild/reset", null), 409, "PROTECTED",
                "protected");
        assertEquals(200, send("PATCH", "/v1/projects/default/branches/api%2Fparent%2Fchild",
                "{\"protected\":false}").statusCode());

        assertEquals(204, send("DELETE", "/v1/projects/default/branches/api%2Fparent%2Fchild", null).statusCode());
        assertEquals(204, send("DELETE", "/v1/projects/default/branches/api%2Fparent", null).statusCode());
        assertError(send("GET", "/v1/projects/default/branches/api%2Fparent", null), 404, "NOT_FOUND", "api/parent");
    }

    @Test
    void aCreatedBranchRecordsItsParentAndLsnAndGetsItsOwnPort() throws Exception {
        HttpResponse<String> created = send("POST", "/v1/projects/default/branches",
                "{\"name\":\"api/show\",\"parent\":\"development\"}");
        assertEquals(201, created.statusCode(), created.body());
        JsonNode branch = json(created);
        JsonNode development = json(send("GET", "/v1/projects/default/branches/development", null));
        assertEquals("development", branch.path("parent").asText());
        assertTrue(Lsn.parse(branch.path("parentLsn").asText()) <= Lsn.parse(development.path("headLsn").asText()),
                "taken at development's head");
        assertTrue(branch.path("port").asInt() > 0);
        assertTrue(branch.path("port").asInt() != development.path("port").asInt());
        JsonNode shown = json(send("GET", "/v1/projects/default/branches/api%2Fshow", null));
        // The create answer leaves disk usage out (null): only show and list compute it.
        for (String usage : List.of("exclusiveBytes", "sharedBytes", "pendingBytes")) {
            assertTrue(branch.path(usage).isNull(), branch.toString());
            assertTrue(shown.path(usage).isIntegralNumber(), shown.toString());
        }
        for (String field : List.of("headLsn", "exclusiveBytes", "sharedBytes", "pendingBytes")) {
            ((com.fasterxml.jackson.databind.node.ObjectNode) shown).remove(field);
            ((com.fasterxml.jackson.databind.node.ObjectNode) branch).remove(field);
        }
        assertEquals(branch, shown);

        HttpResponse<String> connection = send("GET", "/v1/projects/default/branches/api%2Fshow/connection", null);
        assertEquals(200, connection.statusCode());
        String uri = json(connection).path("uri").asText();
        assertTrue(uri.startsWith("postgresql://postgres:") && uri.endsWith("@127.0.0.1:" + branch.path("port").asInt()
                + "/postgres"), uri);
        String routing = json(connection).path("routingUri").asText();
        assertTrue(routing.startsWith("postgresql://postgres:") && routing.endsWith("@127.0.0.1:" + server.proxyPort()
                + "/postgres?options=branch%3Dapi%2Fshow"), routing);
        assertEquals(server.proxyPort(), json(connection).path("routingPort").asInt());
        assertEquals(204, send("DELETE", "/v1/projects/default/branches/api%2Fshow", null).statusCode());
    }

    @Test
    void theTokenAndThePasswordAreReadableByTheOwnerOnly() throws IOException {
        Path data = dataDirectory.resolve("data");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve(ApiToken.FILE_NAME))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                data.resolve("secrets").resolve("default.password"))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("secrets"))));
        ServerInfo info = ServerInfo.read(data);
        assertEquals(ProcessHandle.current().pid(), info.pid());
        assertEquals(server.apiPort(), info.apiPort());
    }

    @Test
    void aSecondServerOnTheSameDataDirectoryIsRefused() {
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () ->
                PageServer.start(new PageServer.Config(dataDirectory.resolve("data"), 0, null)).close());
        assertTrue(e.getMessage().contains("another pgbranch server is running"), e.getMessage());
    }

    @Test
    void expiryIsSetOnCreateChangedByPatchAndMustBeInTheFuture() throws Exception {
        String inAnHour = java.time.Instant.now().plusSeconds(3600).toString();
        HttpResponse<String> created = send("POST", "/v1/projects/default/branches",
                "{\"name\":\"api/expiring\",\"parent\":\"development\",\"expiresAt\":\"" + inAnHour + "\"}");
        assertEquals(201, created.statusCode(), created.body());
        assertEquals(java.time.Instant.parse(inAnHour).toString(), json(created).path("expiresAt").asText());
        HttpResponse<String> cleared = send("PATCH", "/v1/projects/default/branches/api%2Fexpiring", "{\"expiresAt\":null}");
        assertEquals(200, cleared.statusCode(), cleared.body());
        assertTrue(json(cleared).path("expiresAt").isNull());
        assertError(send("PATCH", "/v1/projects/default/branches/api%2Fexpiring", "{\"expiresAt\":\"2001-01-01T00:00:00Z\"}"),
                400, "BAD_REQUEST", "not in the future");
        assertError(send("POST", "/v1/projects/default/branches",
                "{\"name\":\"api/late\",\"parent\":\"development\",\"expiresAt\":\"soon\"}"), 400, "BAD_REQUEST", "ISO-8601");
        assertError(send("PATCH", "/v1/projects/default/branches/api%2Fexpiring", "{}"), 400, "BAD_REQUEST", "PATCH needs");
        assertEquals(204, send("DELETE", "/v1/projects/default/branches/api%2Fexpiring", null).statusCode());
    }

    @Test
    void restoreNeedsAPointInTheBranchsHistoryAndRespectsProtection() throws Exception {
        assertEquals(201, send("POST", "/v1/projects/default/branches",
                "{\"name\":\"api/restore\",\"parent\":\"development\"}").statusCode());
        String head = json(send("GET", "/v1/projects/default/branches/api%2Frestore", null)).path("headLsn").asText();
        HttpResponse<String> restored = send("POST", "/v1/projects/default/branches/api%2Frestore/restore",
                "{\"at\":\"" + head + "\",\"backup\":false}");
        assertEquals(200, restored.statusCode(), restored.body());
        assertError(send("POST", "/v1/projects/default/branches/api%2Frestore/restore", "{}"), 400, "BAD_REQUEST", "'at'");
        assertError(send("POST", "/v1/projects/default/branches/api%2Frestore/restore", "{\"at\":\"0/0\"}"), 400,
                "BAD_REQUEST", "before the history");
        assertError(send("POST", "/v1/projects/default/branches/production/restore", "{\"at\":\"" + head + "\"}"), 409,
                "PROTECTED", "protected");
        assertEquals(204, send("DELETE", "/v1/projects/default/branches/api%2Frestore", null).statusCode());
    }

    @Test
    void theProjectShowsAndChangesItsRetentionWindow() throws Exception {
        HttpResponse<String> shown = send("GET", "/v1/projects/default", null);
        assertEquals(200, shown.statusCode(), shown.body());
        assertEquals("7d", json(shown).path("retention").asText(), "the default window");
        assertTrue(json(shown).path("branches").asInt() >= 2, shown.body());
        assertTrue(json(shown).has("layerBytes") && json(shown).has("pendingBytes"), shown.body());
        try {
            HttpResponse<String> changed = send("PATCH", "/v1/projects/default", "{\"retention\":\"12h\"}");
            assertEquals(200, changed.statusCode(), changed.body());
            assertEquals("12h", json(changed).path("retention").asText());
            assertEquals("12h", json(send("GET", "/v1/projects/default", null)).path("retention").asText());
            assertEquals("90m", json(send("PATCH", "/v1/projects/default", "{\"retention\":\"PT1H30M\"}"))
                    .path("retention").asText());
            assertError(send("PATCH", "/v1/projects/default", "{\"retention\":\"-1d\"}"), 400, "BAD_REQUEST", "negative");
            assertError(send("PATCH", "/v1/projects/default", "{\"retention\":\"soon\"}"), 400, "BAD_REQUEST",
                    "cannot read retention 'soon'");
            assertError(send("PATCH", "/v1/projects/default", "{\"retention\":7}"), 400, "BAD_REQUEST", "must be a string");
            assertError(send("PATCH", "/v1/projects/default", "{}"), 400, "BAD_REQUEST", "PATCH needs");
            assertEquals("90m", json(send("GET", "/v1/projects/default", null)).path("retention").asText(),
                    "refused changes change nothing");
            assertError(send("GET", "/v1/projects/nope", null), 404, "NOT_FOUND", "project 'nope'");
            assertError(send("PATCH", "/v1/projects/nope", "{\"retention\":\"1d\"}"), 404, "NOT_FOUND", "project 'nope'");
            HttpResponse<String> put = send("PUT", "/v1/projects/default", "{}");
            assertEquals(405, put.statusCode());
            assertEquals("GET, PATCH", put.headers().firstValue("Allow").orElse(""));
        } finally {
            assertEquals(200, send("PATCH", "/v1/projects/default", "{\"retention\":\"7d\"}").statusCode());
        }
    }

    @Test
    void restoreKeepsABackupBranchUnlessToldNotTo() throws Exception {
        assertEquals(201, send("POST", "/v1/projects/default/branches",
                "{\"name\":\"api/backup\",\"parent\":\"development\"}").statusCode());
        JsonNode before = json(send("GET", "/v1/projects/default/branches/api%2Fbackup", null));
        assertTrue(before.has("restorableFrom") && before.path("restorableFrom").has("lsn"), before.toString());
        assertTrue(before.has("exclusiveBytes") && before.has("sharedBytes") && before.has("pendingBytes"), before.toString());
        String head = before.path("headLsn").asText();
        assertEquals(200, send("POST", "/v1/projects/default/branches/api%2Fbackup/restore", "{\"at\":\"" + head + "\"}")
                .statusCode());
        List<JsonNode> backups = new ArrayList<>();
        for (JsonNode b : json(send("GET", "/v1/projects/default/branches", null)).path("branches")) {
            if (b.path("name").asText().startsWith("api/backup_old_")) {
                backups.add(b);
            }
        }
        assertEquals(1, backups.size(), backups.toString());
        assertEquals(before.path("timeline").asText(), backups.getFirst().path("timeline").asText());
        assertEquals("development", backups.getFirst().path("parent").asText());
        // The restored branch's LSNs start above the old head: the old head no longer names its state.
        assertError(send("POST", "/v1/projects/default/branches/api%2Fbackup/restore", "{\"at\":\"" + head + "\"}"),
                400, "BAD_REQUEST", "before its last reset or restore");
        String restoredHead = json(send("GET", "/v1/projects/default/branches/api%2Fbackup", null)).path("headLsn").asText();
        assertError(send("POST", "/v1/projects/default/branches/api%2Fbackup/restore",
                "{\"at\":\"" + restoredHead + "\",\"backup\":\"no\"}"), 400, "BAD_REQUEST",
                "'backup' must be true or false");
        int count = json(send("GET", "/v1/projects/default/branches", null)).path("branches").size();
        assertEquals(200, send("POST", "/v1/projects/default/branches/api%2Fbackup/restore",
                "{\"at\":\"" + restoredHead + "\",\"backup\":false}").statusCode());
        assertEquals(count, json(send("GET", "/v1/projects/default/branches", null)).path("branches").size());
        String backupPath = "/v1/projects/default/branches/" + backups.getFirst().path("name").asText().replace("/", "%2F");
        assertEquals(204, send("DELETE", backupPath, null).statusCode());
        assertEquals(204, send("DELETE", "/v1/projects/default/branches/api%2Fbackup", null).statusCode());
    }

    @Test
    void garbageCollectionRunsOnRequestAndReportsEveryBranch() throws Exception {
        HttpResponse<String> response = send("POST", "/v1/projects/default/gc", "{}");
        assertEquals(200, response.statusCode(), response.body());
        JsonNode report = json(response);
        List<String> branches = new ArrayList<>();
        for (JsonNode t : report.path("timelines")) {
            assertTrue(t.path("error").isNull(), t.toString());
            branches.add(t.path("branch").asText());
        }
        assertTrue(branches.containsAll(List.of("production", "development")), report.toString());
        assertTrue(report.path("bytesFreed").asLong() >= 0 && report.has("durationMs"), report.toString());
        assertError(send("POST", "/v1/projects/nope/gc", "{}"), 404, "NOT_FOUND", "project 'nope'");
        assertEquals(405, send("GET", "/v1/projects/default/gc", null).statusCode());
        String metrics = send("GET", "/metrics", null).body();
        assertTrue(metrics.matches("(?s).*\npgbranch_gc_runs_total [1-9][0-9]*\n.*"), metrics);
        assertTrue(metrics.contains("# TYPE pgbranch_gc_last_duration_seconds gauge\n"), metrics);
        assertTrue(metrics.contains("\npgbranch_gc_bytes_freed_total "), metrics);
    }

    @Test
    void wrongMethodsAre405WithAllow() throws Exception {
        HttpResponse<String> response = send("PUT", "/v1/projects/default/branches/development", "{}");
        assertEquals(405, response.statusCode());
        assertEquals("GET, PATCH, DELETE", response.headers().firstValue("Allow").orElse(""));
    }

    @Test
    void metricsArePrometheusText() throws Exception {
        assertEquals(200, send("GET", "/v1/projects/default/branches", null).statusCode());
        HttpResponse<String> response = send("GET", "/metrics", null);
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        String text = response.body();
        assertTrue(text.contains("# TYPE pgbranch_branches gauge\n"), text);
        assertTrue(text.matches("(?s).*\npgbranch_branches [1-9][0-9]*\n.*"), text);
        assertTrue(text.contains("\npgbranch_computes_running 0\n"), text);
        assertTrue(text.contains("pgbranch_store_timelines "), text);
        assertTrue(text.contains("pgbranch_api_requests_total{status=\"200\"}"), text);
        assertTrue(text.contains("# TYPE pgbranch_proxy_connections_total counter\n"), "the proxy's series: " + text);
        assertTrue(text.contains("# TYPE pgbranch_proxy_wake_seconds histogram\n"), text);
    }

    @Test
    void theProxyListensOnEveryBranchPortAndTheRoutingPortRecordedInServerJson() throws Exception {
        assertEquals(server.proxyPort(), ServerInfo.read(dataDirectory.resolve("data")).proxyPort());
        assertTrue(server.proxyPort() > 0);
        for (JsonNode b : json(send("GET", "/v1/projects/default/branches", null)).path("branches")) {
            int port = b.path("port").asInt();
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
                assertTrue(socket.isConnected(), "branch " + b.path("name").asText() + " port " + port);
            }
            assertFalse(BranchService.portIsFree(port), "the proxy holds port " + port);
        }
    }

    @Test
    void aTakenProxyPortFailsTheStartWithAClearMessageAndLeavesTheDirectoryUnlocked() throws Exception {
        Path other = Files.createTempDirectory("pgbranch-api-test-port");
        Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rwx--x--x"));
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int base;
            try (ServerSocket socket = new ServerSocket(0)) {
                base = socket.getLocalPort();
            }
            PageServer.Config config = new PageServer.Config(other.resolve("data"), 0, base, taken.getLocalPort(),
                    PageServer.DEFAULT_IDLE_TIMEOUT, PageServer.DEFAULT_WAKE_TIMEOUT, null, null);
            IOException e = assertThrows(IOException.class, () -> PageServer.start(config).close());
            assertTrue(e.getMessage().contains(":" + taken.getLocalPort()) && e.getMessage().contains("--proxy-port"),
                    e.getMessage());
            // Nothing stays behind: the same directory starts once the port is free.
            PageServer.start(new PageServer.Config(other.resolve("data"), 0, base)).close();
        } finally {
            try (Stream<Path> files = Files.walk(other)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void aDeletedBranchsPortIsClosedAndANewBranchsPortIsOpen() throws Exception {
        JsonNode created = json(send("POST", "/v1/projects/default/branches", "{\"name\":\"api/ports\",\"parent\":\"development\"}"));
        int port = created.path("port").asInt();
        assertFalse(BranchService.portIsFree(port), "the proxy listens on the new branch's port");
        assertEquals(204, send("DELETE", "/v1/projects/default/branches/api%2Fports", null).statusCode());
        assertTrue(BranchService.portIsFree(port), "the deleted branch's port is closed");
    }

}

package dev.pgbranch.pageserver;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgbranch.pageserver.catalog.CatalogException;
import dev.pgbranch.pageserver.testing.ServerProcess;
import dev.pgbranch.pageserver.testing.Sql;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an operator meets when {@code catalog.json} is lost, put back from an older backup, or
 * damaged, against a real server (initdb, computes, CLI): the start is refused with a clear
 * error and every byte of the data directory stays as it was; with {@code --accept-older-catalog}
 * the unlisted timelines are quarantined and re-adopted with their data.
 */
@Tag("integration")
class CatalogLossTest {

    @Test
    void aMissingCatalogRefusesEveryStartUntilAcceptedAndTheOldBranchesAreAdoptedBack() throws Exception {
        try (ServerProcess server = new ServerProcess("CatalogLossTest-missing")) {
            server.start();
            insert(server, "development", "before the loss");
            String development = server.cliJson("branch", "show", "development").path("timeline").asText();
            String production = server.cliJson("branch", "show", "production").path("timeline").asText();
            server.stop();
            Path data = server.dataDirectory();
            Files.delete(data.resolve("catalog.json"));

            Map<String, String> before = snapshot(data);
            for (int attempt = 0; attempt < 2; attempt++) { // the second start is the one that used to delete
                CatalogException refused = assertThrows(CatalogException.class, () -> startInProcess(data, false));
                assertEquals(CatalogException.Reason.MISSING, refused.reason());
                assertTrue(refused.getMessage().contains("catalog.json is missing but"), refused.getMessage());
                assertTrue(refused.getMessage().contains("--accept-older-catalog"), refused.getMessage());
                assertEquals(before, snapshot(data), "a refused start writes nothing");
            }

            server.start("--accept-older-catalog");
            assertEquals(java.util.Set.of(production, development), quarantinedIds(server),
                    "every timeline of the lost catalog is kept");
            server.cliOk("store", "quarantine", "adopt", development, "--as", "recovered/development",
                    "--parent", "production");
            try (Connection c = server.connect("recovered/development"); Statement sql = c.createStatement()) {
                assertEquals("before the loss", Sql.queryString(sql, "SELECT note FROM notes"));
            }
            assertEquals(java.util.Set.of(production), quarantinedIds(server));
        }
    }

    @Test
    void anOlderBackupOrAGarbageCatalogIsRefusedAndTheNewerBranchIsAdoptedBackWithItsData() throws Exception {
        try (ServerProcess server = new ServerProcess("CatalogLossTest-older")) {
            server.start();
            server.stop();
            Path data = server.dataDirectory();
            byte[] backup = Files.readAllBytes(data.resolve("catalog.json"));
            server.restart();
            server.cliOk("branch", "create", "feature", "--parent", "development");
            insert(server, "feature", "made after the backup");
            String feature = server.cliJson("branch", "show", "feature").path("timeline").asText();
            server.rememberComputePids();
            server.stop();
            byte[] latest = Files.readAllBytes(data.resolve("catalog.json"));

            Files.writeString(data.resolve("catalog.json"), "{\"format\": \"pgbranch-catalog\", \"vers");
            Map<String, String> garbage = snapshot(data);
            CatalogException corrupt = assertThrows(CatalogException.class, () -> startInProcess(data, true));
            assertEquals(CatalogException.Reason.CORRUPT, corrupt.reason());
            assertTrue(corrupt.getMessage().contains("is corrupt"), corrupt.getMessage());
            assertEquals(garbage, snapshot(data), "a refused start writes nothing");

            Files.write(data.resolve("catalog.json"), backup);
            Map<String, String> before = snapshot(data);
            CatalogException older = assertThrows(CatalogException.class, () -> startInProcess(data, false));
            assertEquals(CatalogException.Reason.OLDER, older.reason());
            assertTrue(older.getMessage().contains("older copy"), older.getMessage());
            assertEquals(before, snapshot(data), "a refused start writes nothing");
            assertTrue(!Files.readString(data.resolve("catalog.json")).contains(feature)
                    && new String(latest, StandardCharsets.UTF_8).contains(feature), "the backup predates 'feature'");

            server.start("--accept-older-catalog");
            JsonNode quarantined = server.cliJson("store", "quarantine", "list").path("timelines");
            assertEquals(1, quarantined.size(), quarantined.toString());
            assertEquals(feature, quarantined.get(0).path("timeline").asText());
            assertEquals("default/development", quarantined.get(0).path("ancestorBranch").asText());
            String table = server.cliOk("store", "quarantine", "list");
            System.out.println(table);
            assertTrue(table.contains(feature) && table.contains("default/development"), table);

            JsonNode adopted = ServerProcess.parse(server.cliOk("store", "quarantine", "adopt", feature, "--as",
                    "feature", "--output", "json"));
            assertEquals("development", adopted.path("parent").asText());
            try (Connection c = server.connect("feature"); Statement sql = c.createStatement()) {
                assertEquals("made after the backup", Sql.queryString(sql, "SELECT note FROM notes"));
            }
            assertEquals(0, server.cliJson("store", "quarantine", "list").path("timelines").size());
            server.rememberComputePids();
            server.stop();
            server.start(); // the catalog written since is the latest: no flag needed
        }
    }

    private static java.util.Set<String> quarantinedIds(ServerProcess server) {
        java.util.Set<String> ids = new java.util.TreeSet<>();
        server.cliJson("store", "quarantine", "list").path("timelines").forEach(t -> ids.add(t.path("timeline").asText()));
        return ids;
    }

    private static void insert(ServerProcess server, String branch, String note) throws Exception {
        try (Connection c = server.connect(branch); Statement sql = c.createStatement()) {
            sql.execute("CREATE TABLE notes (note text)");
            sql.execute("INSERT INTO notes VALUES ('" + note + "')");
            sql.execute("CHECKPOINT");
        }
        server.rememberComputePids();
    }

    /** A server in this JVM, for starts that must be refused (closed at once should one succeed). */
    private static void startInProcess(Path data, boolean acceptOlder) throws IOException {
        PageServer.start(new PageServer.Config(data, 0, null).withAcceptOlderCatalog(acceptOlder)).close();
    }

    /** Every file and directory under {@code root}: relative path -> SHA-256 of the content ("dir" for directories). */
    static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            files.forEach(p -> out.put(root.relativize(p).toString(), Files.isDirectory(p) ? "dir" : sha256(p)));
        }
        return out;
    }

    private static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}

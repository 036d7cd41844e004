package dev.pgbranch.pageserver.durability;

import static dev.pgbranch.pageserver.testing.Sql.queryLong;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgbranch.pageserver.testing.ServerProcess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 11, defect 5, at server level with real Postgres: one branch's damaged layer file
 * quarantines that branch (listed as such, FATAL XX001 on connect, the file left as it was)
 * while every other branch goes on serving.
 */
@Tag("integration")
class QuarantinedBranchTest {

    private ServerProcess server;

    @BeforeEach
    void prepare() throws IOException {
        server = new ServerProcess("QuarantinedBranchTest");
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    private static JsonNode find(JsonNode list, String name) {
        JsonNode branches = list.has("branches") ? list.path("branches") : list;
        for (JsonNode b : branches) {
            if (b.path("name").asText().equals(name)) {
                return b;
            }
        }
        throw new AssertionError("no branch " + name + " in " + branches);
    }

    @Test
    void aDamagedLayerOfOneBranchQuarantinesItAndLeavesTheOthersServing() throws Exception {
        server.start();
        server.cliOk("branch", "create", "dev/alex", "--parent", "development");
        try (Connection c = server.connect("development"); Statement sql = c.createStatement()) {
            sql.execute("CREATE TABLE kept AS SELECT g FROM generate_series(1, 5000) g");
        }
        try (Connection c = server.connect("dev/alex"); Statement sql = c.createStatement()) {
            sql.execute("CREATE TABLE mine AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 20000) g");
        }
        String timeline = find(server.cliJson("branch", "list"), "dev/alex").path("timeline").asText();
        server.stop(); // a clean stop writes every in-memory layer to a file

        List<Path> layers;
        try (Stream<Path> files = Files.list(server.dataDirectory().resolve("store").resolve("layers"))) {
            layers = files.filter(p -> p.getFileName().toString().startsWith(timeline)).sorted().toList();
        }
        assertTrue(!layers.isEmpty(), "dev/alex has layer files of its own");
        Path damaged = layers.getLast();
        try (FileChannel f = FileChannel.open(damaged, StandardOpenOption.WRITE)) {
            f.write(ByteBuffer.wrap(new byte[] {0x55}), 40); // inside the header: fails its checksum at open
        }
        byte[] bytes = Files.readAllBytes(damaged);

        server.restart();
        JsonNode branches = server.cliJson("branch", "list");
        assertEquals("quarantined", find(branches, "dev/alex").path("computeState").asText());
        assertEquals("suspended", find(branches, "development").path("computeState").asText());
        try (Connection c = server.connect("development"); Statement sql = c.createStatement()) {
            assertEquals(5000, queryLong(sql, "SELECT count(*) FROM kept"), "the other branches serve");
        }
        SQLException refused = assertThrows(SQLException.class, () -> server.connect("dev/alex").close());
        assertEquals("XX001", refused.getSQLState(), refused.getMessage());
        assertTrue(refused.getMessage().contains("quarantined") && refused.getMessage().contains(damaged.getFileName().toString()),
                refused.getMessage());
        ServerProcess.Result start = server.cli("compute", "start", "dev/alex");
        assertTrue(start.code() != 0 && start.err().contains("quarantined"), start.toString());
        ServerProcess.Result verify = server.cli("store", "verify");
        assertEquals(1, verify.code(), verify.toString());
        assertTrue(verify.out().contains(damaged.toString()) && verify.out().contains("quarantined (damaged): timeline "
                + timeline), verify.out());
        assertArrayEquals(bytes, Files.readAllBytes(damaged), "the damaged file is left as it was");
    }
}

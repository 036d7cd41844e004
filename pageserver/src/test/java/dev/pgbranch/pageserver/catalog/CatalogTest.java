package dev.pgbranch.pageserver.catalog;

import dev.pgbranch.storage.TimelineId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CatalogTest {

    private static final Instant T0 = Instant.parse("2026-11-24T05:30:00Z");

    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("catalog.json");
    }

    /** production (root, protected) -> development -> dev/alex, with ports from the allocator. */
    private static CatalogState threeBranches(CatalogState state) {
        CatalogState.PortAllocation p1 = state.allocatePort(port -> true);
        Branch production = new Branch(BranchName.of("production"), null, TimelineId.random(), T0, 0, true, p1.port());
        Project project = new Project("default", T0, Map.of(production.name(), production));
        CatalogState.PortAllocation p2 = p1.state().withProject(project).allocatePort(port -> true);
        Branch development = new Branch(BranchName.of("development"), production.name(), TimelineId.random(), T0,
                0x16B3748L, false, p2.port());
        project = project.withBranch(development);
        CatalogState.PortAllocation p3 = p2.state().withProject(project).allocatePort(port -> true);
        Branch alex = new Branch(BranchName.of("dev/alex"), development.name(), TimelineId.random(), T0.plusSeconds(5),
                0x2000000L, false, p3.port(), T0.plusSeconds(3600));
        return p3.state().withProject(project.withBranch(alex)).withRetired(TimelineId.random());
    }

    @Test
    void aMissingFileStartsAnEmptyCatalogAndWritesIt() throws IOException {
        Catalog catalog = Catalog.open(file(), 60000);
        assertTrue(catalog.state().projects().isEmpty());
        assertTrue(Files.exists(file()));
        assertEquals(60000, Catalog.open(file(), 1).state().portBase(), "the recorded base wins over the default");
    }

    @Test
    void everyFieldSurvivesAReopen() throws IOException {
        Catalog catalog = Catalog.open(file(), 60000);
        CatalogState written = catalog.update(CatalogTest::threeBranches);
        CatalogState read = Catalog.open(file(), 1).state();
        assertEquals(written, read);
        Branch alex = read.project("default").orElseThrow().branch(BranchName.of("dev/alex")).orElseThrow();
        assertEquals(BranchName.of("development"), alex.parent());
        assertEquals(0x2000000L, alex.parentLsn());
        assertEquals(60002, alex.port());
        assertEquals(T0.plusSeconds(3600), alex.expiresAt());
        assertEquals(null, read.project("default").orElseThrow().branch(BranchName.of("development")).orElseThrow().expiresAt());
        assertEquals(60003, read.nextPort());
        assertEquals(1, read.retiredTimelines().size());
    }

    @Test
    void portsAreNeverHandedTwiceAndSkipUnavailableOnes() throws IOException {
        Catalog catalog = Catalog.open(file(), 60000);
        CatalogState state = catalog.update(CatalogTest::threeBranches);
        CatalogState.PortAllocation next = state.allocatePort(port -> port != 60003);
        assertEquals(60004, next.port(), "60003 is busy on the host, so it is skipped");
        // After a delete, the freed port is not the next one handed out.
        Project p = state.project("default").orElseThrow().withoutBranch(BranchName.of("dev/alex"));
        CatalogState afterDelete = state.withProject(p);
        assertEquals(60003, afterDelete.allocatePort(port -> true).port());
        assertNotEquals(60002, afterDelete.allocatePort(port -> true).port());
    }

    @Test
    void portAllocationWrapsAroundToTheBaseAndFailsWhenFull() {
        CatalogState state = new CatalogState(65534, 65535, Map.of(), Set.of());
        CatalogState.PortAllocation a = state.allocatePort(port -> true);
        assertEquals(65535, a.port());
        assertEquals(65534, a.state().nextPort());
        assertThrows(IllegalStateException.class, () -> state.allocatePort(port -> false));
    }

    @Test
    void twoBranchesCannotShareAPortEvenIfTheFileSaysSo() throws IOException {
        Catalog.open(file(), 60000).update(CatalogTest::threeBranches);
        String json = Files.readString(file()).replace("\"port\" : 60002", "\"port\" : 60001");
        Files.writeString(file(), json);
        CatalogException e = assertThrows(CatalogException.class, () -> Catalog.open(file(), 1));
        assertTrue(e.getMessage().contains("port 60001"), e.getMessage());
    }

    @Test
    void aFailedChangeIsNeitherWrittenNorPublished() throws IOException {
        Catalog catalog = Catalog.open(file(), 60000);
        CatalogState before = catalog.update(CatalogTest::threeBranches);
        byte[] onDisk = Files.readAllBytes(file());
        assertThrows(IllegalStateException.class, () -> catalog.update(s -> {
            throw new IllegalStateException("refused");
        }));
        assertSame(before, catalog.state());
        assertArrayEquals(onDisk, Files.readAllBytes(file()));
    }

    @Test
    void aTruncatedFileIsAClearErrorAndIsLeftUntouched() throws IOException {
        Catalog.open(file(), 60000).update(CatalogTest::threeBranches);
        byte[] full = Files.readAllBytes(file());
        for (int length : new int[]{full.length - 1, full.length / 2, 1}) {
            byte[] truncated = java.util.Arrays.copyOf(full, length);
            Files.write(file(), truncated);
            CatalogException e = assertThrows(CatalogException.class, () -> Catalog.open(file(), 60000));
            assertTrue(e.getMessage().contains(file().toString()) && e.getMessage().contains("corrupt"), e.getMessage());
            assertArrayEquals(truncated, Files.readAllBytes(file()), "never overwritten by an empty catalog");
        }
    }

    @Test
    void anEmptyFileIsAClearErrorNotAnEmptyCatalog() throws IOException {
        Files.write(file(), new byte[0]);
        CatalogException e = assertThrows(CatalogException.class, () -> Catalog.open(file(), 60000));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
    }

    @Test
    void garbageIsAClearErrorNamingTheFile() throws IOException {
        Files.write(file(), "\u0000\u0001garbage{{".getBytes(StandardCharsets.ISO_8859_1));
        CatalogException e = assertThrows(CatalogException.class, () -> Catalog.open(file(), 60000));
        assertTrue(e.getMessage().contains(file().toString()), e.getMessage());
    }

    @Test
    void validJsonWithAnInvalidBranchNameIsRejected() throws IOException {
        Catalog.open(file(), 60000).update(CatalogTest::threeBranches);
        Files.writeString(file(), Files.readString(file()).replace("\"dev/alex\"", "\"../alex\""));
        CatalogException e = assertThrows(CatalogException.class, () -> Catalog.open(file(), 60000));
        assertTrue(e.getMessage().contains("inconsistent"), e.getMessage());
    }

    @Test
    void aBranchWhoseParentIsMissingIsRejected() throws IOException {
        Catalog.open(file(), 60000).update(CatalogTest::threeBranches);
        Files.writeString(file(), Files.readString(file()).replace("\"parent\" : \"development\"", "\"parent\" : \"nope\""));
        CatalogException e = assertThrows(CatalogException.class, () -> Catalog.open(file(), 60000));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    @Test
    void aFileFromANewerVersionIsRefused() throws IOException {
        Catalog.open(file(), 60000).update(CatalogTest::threeBranches);
        Files.writeString(file(), Files.readString(file()).replace("\"version\" : 1", "\"version\" : 2"));
        CatalogException e = assertThrows(CatalogException.class, () -> Catalog.open(file(), 60000));
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());
    }

    @Test
    void aLeftoverTempFileFromACrashedWriteIsIgnored() throws IOException {
        Catalog catalog = Catalog.open(file(), 60000);
        CatalogState written = catalog.update(CatalogTest::threeBranches);
        // A crash after writing the temp file but before the rename leaves it behind, half written.
        Files.writeString(dir.resolve("catalog.json.tmp"), "{\"format\":\"pgbranch-cat");
        assertEquals(written, Catalog.open(file(), 60000).state());
        Catalog reopened = Catalog.open(file(), 60000);
        reopened.update(s -> s.withPortBase(61000));
        assertEquals(61000, Catalog.open(file(), 1).state().portBase());
        assertFalse(Files.exists(dir.resolve("catalog.json.tmp")), "the next write replaced and renamed it");
    }

    @Test
    void theRetentionWindowSurvivesAReopenAndDefaultsToSevenDays() throws IOException {
        Catalog catalog = Catalog.open(file(), 60000);
        CatalogState written = catalog.update(CatalogTest::threeBranches);
        assertEquals(Duration.ofDays(7), written.project("default").orElseThrow().retention());
        Project shorter = written.project("default").orElseThrow().withRetention(Duration.ofHours(12));
        catalog.update(s -> s.withProject(shorter));
        assertTrue(Files.readString(file()).contains("\"retention\" : \"PT12H\""), Files.readString(file()));
        Project read = Catalog.open(file(), 1).state().project("default").orElseThrow();
        assertEquals(Duration.ofHours(12), read.retention());
        assertEquals(shorter, read, "changing the window keeps the branches");
    }

    @Test
    void aFileWrittenBeforeRetentionExistedReadsAsSevenDays() throws IOException {
        Catalog.open(file(), 60000).update(CatalogTest::threeBranches);
        String json = Files.readString(file());
        String old = json.replaceAll("\\s*\"retention\" : \"[^\"]*\",", "");
        assertFalse(old.contains("retention"), old);
        Files.writeString(file(), old);
        Catalog reopened = Catalog.open(file(), 1);
        assertEquals(Duration.ofDays(7), reopened.state().project("default").orElseThrow().retention());
        assertEquals(3, reopened.state().project("default").orElseThrow().branches().size());
        reopened.update(s -> s.withPortBase(61000));
        assertTrue(Files.readString(file()).contains("\"retention\" : \"PT168H\""), "written explicitly from then on");
    }

    @Test
    void aNegativeOrUnreadableRetentionInTheFileIsRejected() throws IOException {
        Catalog.open(file(), 60000).update(CatalogTest::threeBranches);
        String json = Files.readString(file());
        for (String bad : new String[] {"-PT1H", "seven days"}) {
            Files.writeString(file(), json.replace("\"PT168H\"", "\"" + bad + "\""));
            CatalogException e = assertThrows(CatalogException.class, () -> Catalog.open(file(), 60000));
            assertTrue(e.getMessage().contains("inconsistent") && e.getMessage().contains("retention"), e.getMessage());
        }
        Files.writeString(file(), json.replace("\"PT168H\"", "7"));
        CatalogException e = assertThrows(CatalogException.class, () -> Catalog.open(file(), 60000));
        assertTrue(e.getMessage().contains(file().toString()), e.getMessage());
    }

    @Test
    void theProjectTreeMustHaveExactlyOneRoot() {
        Branch a = new Branch(BranchName.of("a"), null, TimelineId.random(), T0, 0, false, 60000);
        Branch b = new Branch(BranchName.of("b"), null, TimelineId.random(), T0, 0, false, 60001);
        assertThrows(IllegalArgumentException.class, () -> new Project("default", T0, Map.of(a.name(), a, b.name(), b)));
    }
}

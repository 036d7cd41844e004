package dev.pgbranch.pageserver.fuse;

import dev.pgbranch.storage.NamespaceException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalOverlayTest {

    @Test
    void coversOnlyPerComputeFiles() {
        assertTrue(LocalOverlay.covers("/postmaster.pid"));
        assertTrue(LocalOverlay.covers("/postmaster.opts"));
        assertTrue(LocalOverlay.covers("/pg_stat_tmp/pgss_query_texts.stat"));
        assertFalse(LocalOverlay.covers("/pg_stat_tmp"), "the directory itself is versioned");
        assertFalse(LocalOverlay.covers("/pg_stat_tmp/"));
        assertFalse(LocalOverlay.covers("/pg_stat_tmp/sub/file"));
        assertFalse(LocalOverlay.covers("/base/postmaster.pid"));
        assertFalse(LocalOverlay.covers("/pg_stat/pgstat.stat"));
        assertFalse(LocalOverlay.covers("/postmaster.pid.tmp"));
    }

    @Test
    void filesReadBackAndTruncateToZeros() throws IOException {
        LocalOverlay overlay = new LocalOverlay();
        LocalOverlay.OverlayFile file = overlay.create("/postmaster.pid", 0600, 101, 104, true);
        file.write(0, ByteBuffer.wrap("12345\nabc".getBytes(StandardCharsets.UTF_8)));
        file.truncate(2);
        file.write(6, ByteBuffer.wrap(new byte[] {'z'}));
        ByteBuffer read = ByteBuffer.allocate(100);
        assertEquals(7, file.read(0, read));
        assertEquals("12\0\0\0\0z", new String(read.array(), 0, 7, StandardCharsets.UTF_8));
        assertEquals(0, file.read(7, ByteBuffer.allocate(10)));
    }

    @Test
    void handlesAreNegativeAndOutliveUnlink() throws IOException {
        LocalOverlay overlay = new LocalOverlay();
        LocalOverlay.OverlayFile file = overlay.create("/pg_stat_tmp/a", 0600, 0, 0, true);
        long handle = overlay.open(file);
        assertTrue(LocalOverlay.isHandle(handle));
        overlay.unlink("/pg_stat_tmp/a");
        assertEquals(file, overlay.handle(handle));
        overlay.release(handle);
        assertThrows(NamespaceException.class, () -> overlay.handle(handle));
        assertThrows(NamespaceException.class, () -> overlay.get("/pg_stat_tmp/a"));
    }

    @Test
    void exclusiveCreateOfAnExistingFileFails() throws IOException {
        LocalOverlay overlay = new LocalOverlay();
        LocalOverlay.OverlayFile first = overlay.create("/postmaster.opts", 0600, 0, 0, true);
        assertEquals(first, overlay.create("/postmaster.opts", 0600, 0, 0, false));
        NamespaceException e = assertThrows(NamespaceException.class,
                () -> overlay.create("/postmaster.opts", 0600, 0, 0, true));
        assertEquals(NamespaceException.Reason.EXISTS, e.reason());
    }

    @Test
    void listsOnlyDirectChildren() throws IOException {
        LocalOverlay overlay = new LocalOverlay();
        overlay.create("/postmaster.pid", 0600, 0, 0, true);
        overlay.create("/pg_stat_tmp/x", 0600, 0, 0, true);
        assertEquals(List.of("postmaster.pid"), overlay.list("/"));
        assertEquals(List.of("x"), overlay.list("/pg_stat_tmp"));
        overlay.rename("/pg_stat_tmp/x", "/pg_stat_tmp/y");
        assertEquals(List.of("y"), overlay.list("/pg_stat_tmp"));
    }

    @TempDir
    Path scratchParent;

    @Test
    void temporaryFileAreasAreLocalFromTheirRootDown() {
        for (String local : new String[] {"/base/pgsql_tmp", "/base/pgsql_tmp/pgsql_tmp42.0",
                "/base/pgsql_tmp/pgsql_tmp42.1.fileset/o0of1.p0.0", "/pg_tblspc/16384/PG_15_202209061/pgsql_tmp/x"}) {
            assertTrue(LocalOverlay.covers(local), local);
        }
        for (String versioned : new String[] {"/base", "/base/1/pgsql_tmp", "/base/pgsql_tmpx", "/pgsql_tmp",
                "/pg_tblspc/16384/pgsql_tmp"}) {
            assertFalse(LocalOverlay.covers(versioned), versioned);
        }
    }

    @Test
    void spillFilesLiveOnDiskUntilUnlinkedAndReleasedAndTheScratchGoesWithTheOverlay() throws IOException {
        LocalOverlay overlay = new LocalOverlay(scratchParent);
        assertThrows(NamespaceException.class, () -> overlay.create("/base/pgsql_tmp/t.0", 0600, 1, 1, true),
                "the area's directory comes first, as Postgres makes it");
        overlay.mkdir("/base/pgsql_tmp", 0700, 1, 1);
        LocalOverlay.OverlayFile file = overlay.create("/base/pgsql_tmp/t.0", 0600, 1, 1, true);
        long handle = overlay.open(file);
        byte[] block = new byte[1 << 20];
        java.util.Arrays.fill(block, (byte) 7);
        overlay.handle(handle).write(3L << 20, ByteBuffer.wrap(block));
        assertEquals(4L << 20, file.size());
        Path scratch;
        try (var dirs = Files.list(scratchParent)) {
            scratch = dirs.findFirst().orElseThrow();
        }
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(scratch)));
        assertEquals(1, count(scratch), "one file on disk, none in the heap");
        assertEquals(List.of("pgsql_tmp"), overlay.list("/base"));
        assertEquals(List.of("t.0"), overlay.list("/base/pgsql_tmp"));

        overlay.unlink("/base/pgsql_tmp/t.0");
        ByteBuffer back = ByteBuffer.allocate(4);
        assertEquals(4, overlay.handle(handle).read((3L << 20) + 10, back), "an open handle still reads it");
        assertEquals(7, back.get(0));
        assertEquals(1, count(scratch));
        overlay.release(handle);
        assertEquals(0, count(scratch), "deleted with its last handle");

        overlay.create("/base/pgsql_tmp/t.1", 0600, 1, 1, true);
        assertThrows(NamespaceException.class, () -> overlay.rmdir("/base/pgsql_tmp"), "not empty");
        overlay.close();
        assertFalse(Files.exists(scratch));
    }

    @Test
    void scratchDirectoriesLeftByACrashAreDeletedAndNothingElse() throws IOException {
        LocalOverlay crashed = new LocalOverlay(scratchParent);
        crashed.mkdir("/base/pgsql_tmp", 0700, 1, 1);
        crashed.create("/base/pgsql_tmp/t.0", 0600, 1, 1, true);
        Files.createDirectory(scratchParent.resolve("mnt"));
        LocalOverlay.deleteScratchLeftovers(scratchParent);
        try (var left = Files.list(scratchParent)) {
            assertEquals(List.of(scratchParent.resolve("mnt")), left.toList());
        }
    }

    private static long count(Path directory) throws IOException {
        try (var files = Files.list(directory)) {
            return files.count();
        }
    }
}

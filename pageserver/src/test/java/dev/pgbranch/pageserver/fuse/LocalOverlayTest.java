package dev.pgbranch.pageserver.fuse;

import dev.pgbranch.storage.NamespaceException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
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
    void filesReadBackAndTruncateToZeros() throws NamespaceException {
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
    void handlesAreNegativeAndOutliveUnlink() throws NamespaceException {
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
    void exclusiveCreateOfAnExistingFileFails() throws NamespaceException {
        LocalOverlay overlay = new LocalOverlay();
        LocalOverlay.OverlayFile first = overlay.create("/postmaster.opts", 0600, 0, 0, true);
        assertEquals(first, overlay.create("/postmaster.opts", 0600, 0, 0, false));
        NamespaceException e = assertThrows(NamespaceException.class,
                () -> overlay.create("/postmaster.opts", 0600, 0, 0, true));
        assertEquals(NamespaceException.Reason.EXISTS, e.reason());
    }

    @Test
    void listsOnlyDirectChildren() throws NamespaceException {
        LocalOverlay overlay = new LocalOverlay();
        overlay.create("/postmaster.pid", 0600, 0, 0, true);
        overlay.create("/pg_stat_tmp/x", 0600, 0, 0, true);
        assertEquals(List.of("postmaster.pid"), overlay.list("/"));
        assertEquals(List.of("x"), overlay.list("/pg_stat_tmp"));
        overlay.rename("/pg_stat_tmp/x", "/pg_stat_tmp/y");
        assertEquals(List.of("y"), overlay.list("/pg_stat_tmp"));
    }
}

package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11, defect 4: a flush backlog never hangs a writer or a stop. With layer files on a full
 * disk, the writer that needs a flush is refused with NO_SPACE (its mutation not applied), another
 * timeline's writes go on, writes resume once space is back, and a stop always finishes.
 */
class FlushBacklogTest {

    @TempDir
    Path dir;

    @Test
    void aFullDiskForLayerFilesRefusesTheBackloggedWriterOnlyAndAStopStillFinishes() throws Exception {
        FaultyDisk disk = new FaultyDisk(3);
        StoreOptions options = new StoreOptions(16 * 1024, 64 * 1024, true);
        LayeredStore store = LayeredStore.open(dir, options, 1 << 20, disk);
        TimelineId a = store.createRootTimeline(0, 0);
        TimelineId b = store.createRootTimeline(0, 0);
        Timeline ta = store.timeline(a);
        Timeline tb = store.timeline(b);
        long fa = ta.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
        long fb = tb.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
        disk.noSpaceUnder(dir.resolve("layers"));
        byte[] page = new byte[Namespace.PAGE_SIZE];
        NamespaceException refused = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 0; ; i++) {
                long before = ta.lastLsn();
                try {
                    ta.write(fa, (long) (i % 64) * Namespace.PAGE_SIZE, ByteBuffer.wrap(page));
                } catch (NamespaceException e) {
                    assertEquals(before, ta.lastLsn(), "a refused mutation is not applied");
                    return e;
                }
            }
        }, "the backlogged writer is refused, never hung");
        assertEquals(NamespaceException.Reason.NO_SPACE, refused.reason());
        tb.write(fb, 0, ByteBuffer.wrap(new byte[100])); // one small write: no flush needed, not refused
        tb.sync();

        disk.noSpaceUnder(null); // space is back: the next flush retry drains the backlog
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 0; i < 40; i++) {
                ta.write(fa, (long) i * Namespace.PAGE_SIZE, ByteBuffer.wrap(page));
            }
        });
        disk.noSpaceUnder(dir.resolve("layers"));
        IOException stop = assertTimeoutPreemptively(Duration.ofSeconds(90),
                () -> assertThrows(IOException.class, store::close), "a stop finishes even when flushes fail");
        assertTrue(String.valueOf(stop.getMessage()).contains("flush"), String.valueOf(stop.getMessage()));
        disk.noSpaceUnder(null);
        try (LayeredStore again = LayeredStore.open(dir, options, 1 << 20, disk)) {
            assertEquals(ta.lastLsn(), again.timeline(a).lastLsn(), "nothing acknowledged or written was lost");
        }
    }
}

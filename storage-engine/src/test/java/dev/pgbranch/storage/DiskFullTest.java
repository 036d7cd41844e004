package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk under the ingest log: the write is refused with NO_SPACE (ENOSPC for FUSE), its
 * partial record is cut so the log stays replayable, and once space is back writing resumes
 * and nothing acknowledged is lost. Needs root (mounts a 3 MB tmpfs).
 */
@Tag("integration")
class DiskFullTest {

    @TempDir
    Path temp;

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
    }

    private static byte[] page(int n) {
        byte[] p = new byte[Namespace.PAGE_SIZE];
        new Random(n).nextBytes(p);
        return p;
    }

    @Test
    void aFullDiskRefusesTheWriteWithNoSpaceAndLosesNothingAcknowledged() throws Exception {
        Path small = Files.createDirectory(temp.resolve("small"));
        run("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", small.toString());
        try {
            Path filler = small.resolve("filler");
            Files.write(filler, new byte[1 << 20]);
            Path dir = small.resolve("store");
            StoreOptions options = new StoreOptions(64L << 20, 1 << 20, true);
            LayeredStore store = (LayeredStore) PageStore.open(dir, options);
            TimelineId id = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(id);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            int written = 0;
            NamespaceException full = null;
            while (full == null && written < 1000) {
                try {
                    t.write(f, (long) written * Namespace.PAGE_SIZE, ByteBuffer.wrap(page(written)));
                    written++;
                } catch (NamespaceException e) {
                    full = e;
                }
            }
            assertTrue(full != null && full.reason() == NamespaceException.Reason.NO_SPACE, String.valueOf(full));
            t.sync();
            assertEquals((long) written * Namespace.PAGE_SIZE, t.attributes(f).orElseThrow().size());

            Files.delete(filler); // space is back
            for (int n = written; n < written + 10; n++) {
                t.write(f, (long) n * Namespace.PAGE_SIZE, ByteBuffer.wrap(page(n)));
            }
            written += 10;
            t.sync();
            store.crash(); // no flush: everything must come back from the log

            try (PageStore reopened = PageStore.open(dir, options.withInMemoryLayerBytes(64L << 20))) {
                Timeline r = reopened.timeline(id);
                assertEquals((long) written * Namespace.PAGE_SIZE, r.attributes(f).orElseThrow().size());
                for (int n = 0; n < written; n++) {
                    ByteBuffer b = ByteBuffer.allocate(Namespace.PAGE_SIZE);
                    r.read(f, (long) n * Namespace.PAGE_SIZE, b);
                    assertArrayEquals(page(n), b.array(), "page " + n);
                }
                ((LayeredStore) reopened).crash(); // closing would flush layers into the small disk
            }
        } finally {
            run("umount", "-l", small.toString()); // lazily: even if a failed test left files open
        }
    }
}

package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BranchAndReadPathTest {

    @TempDir
    Path dir;

    private static byte[] page(int n) {
        byte[] p = new byte[Namespace.PAGE_SIZE];
        for (int i = 0; i < p.length; i += 16) {
            p[i] = (byte) (n * 7 + i);
        }
        return p;
    }

    @Test
    void creatingABranchOfALargeParentCopiesNoPage() throws IOException {
        StoreOptions options = new StoreOptions(4L << 20, 1 << 20, false);
        try (PageStore store = PageStore.open(dir, options)) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline parent = store.timeline(root);
            long f = parent.create(Namespace.ROOT_INODE, "big", InodeKind.FILE, 0600, 0, 0);
            int pages = 3000; // ~24 MB
            for (int n = 0; n < pages; n++) {
                parent.write(f, (long) n * Namespace.PAGE_SIZE, ByteBuffer.wrap(page(n)));
            }
            store.flush();
            StoreStats before = store.stats();
            assertTrue(before.layerFiles() >= 4, "the parent spans several layer files");

            List<TimelineId> branches = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                branches.add(store.createBranch(root, parent.lastLsn()));
            }
            StoreStats after = store.stats();
            assertEquals(before.layerFiles(), after.layerFiles(), "no layer file written");
            assertEquals(before.layerBytes(), after.layerBytes(), "no layer byte written");
            assertEquals(before.ingestLogBytes(), after.ingestLogBytes(), "no page logged");
            assertEquals(before.timelines() + 20, after.timelines());

            Timeline child = store.timeline(branches.getLast());
            ByteBuffer b = ByteBuffer.allocate(Namespace.PAGE_SIZE);
            child.read(f, 1234L * Namespace.PAGE_SIZE, b);
            assertArrayEquals(page(1234), b.array());
        }
    }

    @Test
    void readThroughADeepAncestorChainDecodesOnlyTheLayerHoldingThePage() throws IOException {
        StoreOptions options = new StoreOptions(1 << 20, 8 << 20, false);
        TimelineId deepest;
        long rootFile;
        try (PageStore store = PageStore.open(dir, options)) {
            TimelineId id = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(id);
            rootFile = t.create(Namespace.ROOT_INODE, "root-file", InodeKind.FILE, 0600, 0, 0);
            t.write(rootFile, 0, ByteBuffer.wrap(page(1)));
            store.flush();
            for (int depth = 1; depth <= 30; depth++) {
                id = store.createBranch(id, t.lastLsn());
                t = store.timeline(id);
                long own = t.create(Namespace.ROOT_INODE, "file-" + depth, InodeKind.FILE, 0600, 0, 0);
                for (int n = 0; n < 4; n++) {
                    t.write(own, (long) n * Namespace.PAGE_SIZE, ByteBuffer.wrap(page(depth + n)));
                }
                store.flush(); // every timeline of the chain has its own layer file
            }
            deepest = id;
            assertTrue(store.stats().layerFiles() >= 31);
        }
        try (PageStore store = PageStore.open(dir, options)) { // cold page cache
            Timeline t = store.timeline(deepest);
            StoreStats before = store.stats();
            ByteBuffer b = ByteBuffer.allocate(Namespace.PAGE_SIZE);
            assertEquals(Namespace.PAGE_SIZE, t.read(rootFile, 0, b));
            assertArrayEquals(page(1), b.array());
            StoreStats after = store.stats();
            assertEquals(2, after.pageCacheMisses() - before.pageCacheMisses(),
                    "only the root's inode record and page were decoded: 30 other timelines' files were skipped");
            t.read(rootFile, 0, b.clear());
            assertEquals(2, store.stats().pageCacheHits() - after.pageCacheHits(), "second read from the cache");
        }
    }

    @Test
    void automaticTimeMarksLetLsnAtFindSyncedWrites() throws Exception {
        try (PageStore store = PageStore.open(dir, StoreOptions.defaults())) {
            Instant beforeCreation = Instant.now().minusSeconds(60);
            Timeline t = store.timeline(store.createRootTimeline(0, 0));
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            t.write(f, 0, ByteBuffer.wrap(new byte[] {1, 2, 3}));
            t.sync();
            long synced = t.lastLsn();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (t.lsnAt(Instant.now()).orElse(-1) < synced && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(synced, t.lsnAt(Instant.now()).orElseThrow());
            assertTrue(t.lsnAt(beforeCreation).isEmpty());
            assertTrue(t.marks().stream().anyMatch(m -> m.lsn() == synced && m.walPosition() == null));
        }
    }
}

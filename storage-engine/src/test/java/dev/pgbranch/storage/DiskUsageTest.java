package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskUsageTest {

    private static final int PAGE = Namespace.PAGE_SIZE;
    private static final long MB = 1 << 20;
    private static final StoreOptions OPTIONS = new StoreOptions(4 * MB, 4 * MB, false, 1000);

    @TempDir
    Path dir;

    private static void assertAbout(long expected, long actual, String what) {
        assertTrue(Math.abs(actual - expected) <= expected / 20 + 64 * 1024,
                what + ": expected about " + expected + ", got " + actual);
    }

    @Test
    void aBranchThatRewritesOneMegabyteOfATenMegabyteParentOwnsOneAndSharesTen() throws IOException {
        Random r = new Random(5);
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            TimelineId parent = store.createRootTimeline(0, 0);
            Timeline p = store.timeline(parent);
            long f = p.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            GarbageCollectionTest.writeRandom(p, f, 10 * MB, r);
            store.flush();
            TimelineUsage alone = store.usage(parent);
            assertAbout(10 * MB, alone.ownBytes(), "parent's own bytes");
            assertEquals(alone.ownBytes(), alone.exclusiveBytes(), "no child: all exclusive");
            assertEquals(0, alone.sharedBytes());

            TimelineId child = store.createBranch(parent, p.lastLsn());
            Timeline c = store.timeline(child);
            for (int block = 0; block < 128; block++) {
                c.write(f, (long) block * 8 * PAGE, ByteBuffer.wrap(GarbageCollectionTest.random(r, PAGE)));
            }
            TimelineUsage pending = store.usage(child);
            assertEquals(0, pending.ownBytes());
            assertTrue(pending.pendingBytes() >= MB, "unflushed: " + pending.pendingBytes());
            store.flush();

            TimelineUsage cu = store.usage(child);
            assertAbout(MB, cu.ownBytes(), "child's own bytes");
            assertAbout(MB, cu.exclusiveBytes(), "child's exclusive bytes");
            assertAbout(10 * MB, cu.sharedBytes(), "child's shared bytes (the parent at the branch point)");
            assertEquals(0, cu.pendingBytes());

            TimelineUsage pu = store.usage(parent);
            assertAbout(10 * MB, pu.sharedBytes(), "parent's shared bytes (what the child reads)");
            assertTrue(pu.exclusiveBytes() < 64 * 1024, "parent's exclusive bytes: " + pu.exclusiveBytes());

            // the parent rewrites 2 MB after the branch point: only it reads those
            GarbageCollectionTest.writeRandom(p, f, 2 * MB, r);
            store.flush();
            TimelineUsage after = store.usage(parent);
            assertAbout(2 * MB, after.exclusiveBytes(), "parent's exclusive bytes after rewriting 2 MB");
            assertAbout(10 * MB, after.sharedBytes(), "what the child reads is unchanged");
            assertEquals(after, store.usage(parent), "cached answer");

            store.deleteTimeline(child);
            TimelineUsage gone = store.usage(parent);
            assertEquals(gone.ownBytes(), gone.exclusiveBytes());
            assertEquals(0, gone.sharedBytes());
        }
    }

    @Test
    void aGrandchildSharesEachKeyOnceAlongTheChain() throws IOException {
        Random r = new Random(6);
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            GarbageCollectionTest.writeRandom(t, f, 4 * MB, r);
            store.flush();
            TimelineId mid = store.createBranch(root, t.lastLsn());
            Timeline m = store.timeline(mid);
            GarbageCollectionTest.writeRandom(m, f, 2 * MB, r); // shadows half of the root's pages
            store.flush();
            TimelineId leaf = store.createBranch(mid, m.lastLsn());
            TimelineUsage u = store.usage(leaf);
            assertEquals(0, u.ownBytes());
            assertAbout(4 * MB, u.sharedBytes(), "2 MB from the middle, 2 MB still visible in the root");
        }
    }
}

package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.roaringbitmap.RoaringBitmap;

class ChangedBlocksTest {

    @TempDir
    Path dir;

    private static ByteBuffer page(int seed) {
        byte[] p = new byte[Namespace.PAGE_SIZE];
        new Random(seed).nextBytes(p);
        return ByteBuffer.wrap(p);
    }

    private static Map<Long, Set<Integer>> sets(Map<Long, RoaringBitmap> written) {
        Map<Long, Set<Integer>> out = new TreeMap<>();
        written.forEach((inode, bits) -> {
            Set<Integer> s = new TreeSet<>();
            bits.forEach((int b) -> s.add(b));
            out.put(inode, s);
        });
        return out;
    }

    @Test
    void reportsExactlyThePagesEachTimelineWroteSinceTheBranchPointAcrossFlushesAndCompaction() throws IOException {
        // Small layers: writes spread over the open layer, frozen layers and many layer files.
        StoreOptions options = new StoreOptions(256 << 10, 1 << 20, false);
        Random random = new Random(14);
        try (PageStore store = PageStore.open(dir, options)) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline parent = store.timeline(root);
            long a = parent.create(Namespace.ROOT_INODE, "a", InodeKind.FILE, 0600, 0, 0);
            long b = parent.create(Namespace.ROOT_INODE, "b", InodeKind.FILE, 0600, 0, 0);
            for (int n = 0; n < 400; n++) {
                parent.write(a, (long) n * Namespace.PAGE_SIZE, page(n));
                parent.write(b, (long) n * Namespace.PAGE_SIZE, page(-n));
            }
            store.flush();
            long branchPoint = parent.lastLsn();
            Timeline child = store.timeline(store.createBranch(root, branchPoint));

            Map<Long, Set<Integer>> parentModel = new HashMap<>();
            Map<Long, Set<Integer>> childModel = new HashMap<>();
            for (int round = 0; round < 6; round++) {
                for (int w = 0; w < 150; w++) {
                    boolean onParent = random.nextBoolean();
                    long inode = random.nextBoolean() ? a : b;
                    int block = random.nextInt(500); // some past the end: files grow
                    (onParent ? parent : child).write(inode, (long) block * Namespace.PAGE_SIZE, page(random.nextInt()));
                    (onParent ? parentModel : childModel).computeIfAbsent(inode, k -> new TreeSet<>()).add(block);
                }
                if (round % 2 == 0) {
                    store.flush();
                }
                if (round == 3) {
                    store.collectGarbage(root, branchPoint); // compaction keeps the branch point readable
                }
                assertEquals(new TreeMap<>(childModel), sets(ChangedBlocks.written(child, branchPoint, child.lastLsn())),
                        "child, round " + round);
                assertEquals(new TreeMap<>(parentModel), sets(ChangedBlocks.written(parent, branchPoint, parent.lastLsn())),
                        "parent since the branch point, round " + round);
            }
            assertTrue(ChangedBlocks.written(parent, parent.lastLsn(), parent.lastLsn()).isEmpty(), "empty range");
            assertTrue(ChangedBlocks.written(child, 0, branchPoint).isEmpty(), "the child wrote nothing before it existed");
        }
    }
}

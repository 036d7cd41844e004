package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11, defect 7: one memory budget for every timeline's in-memory layers. Fifty branches
 * written at once, each far more than the budget would hold if every one kept a full open
 * layer, stay within it. {@code -Dpgbranch.budget.mbPerBranch=100} runs the full size
 * (50 x 100 MB); CI writes 50 x 8 MB.
 */
class MemoryBudgetTest {

    private static final int BRANCHES = 50;
    private static final int WRITERS = 4;
    private static final long LAYER = 4L << 20;
    private static final long BUDGET = 32L << 20;

    @TempDir
    Path dir;

    @Test
    void fiftyBranchesWritingAtOnceStayWithinTheStoresMemoryBudget() throws Exception {
        long perBranch = Long.getLong("pgbranch.budget.mbPerBranch", 8) << 20;
        StoreOptions options = new StoreOptions(LAYER, 1 << 20, false).withMemoryBudgetBytes(BUDGET);
        try (LayeredStore store = LayeredStore.open(dir, options)) {
            TimelineId root = store.createRootTimeline(0, 0);
            long file = store.timeline(root).create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            List<TimelineId> branches = new ArrayList<>();
            for (int i = 0; i < BRANCHES; i++) {
                branches.add(store.createBranch(root, store.timeline(root).lastLsn()));
            }
            int pages = (int) (perBranch / Namespace.PAGE_SIZE);
            ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int w = 0; w < WRITERS; w++) {
                    int writer = w;
                    done.add(pool.submit(() -> {
                        byte[] page = new byte[Namespace.PAGE_SIZE];
                        Random r = new Random(writer);
                        // Round-robin over this writer's branches: every one holds an open layer at once.
                        for (int p = 0; p < pages; p++) {
                            for (int b = writer; b < BRANCHES; b += WRITERS) {
                                r.nextBytes(page);
                                page[0] = (byte) b;
                                store.timeline(branches.get(b)).write(file, (long) p * Namespace.PAGE_SIZE,
                                        ByteBuffer.wrap(page));
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
            StoreStats stats = store.stats();
            long slack = WRITERS * 64L * 1024; // writers past the check at once, one mutation each
            System.out.printf("memory budget: %d branches x %d MiB written; in-memory peak %.2f MiB of a %d MiB budget "
                            + "(every open layer full would be %d MiB)%n", BRANCHES, perBranch >> 20,
                    stats.inMemoryPeakBytes() / (double) (1 << 20), BUDGET >> 20, (BRANCHES * LAYER) >> 20);
            assertTrue(stats.inMemoryPeakBytes() <= BUDGET + slack,
                    "peak " + stats.inMemoryPeakBytes() + " over the budget " + BUDGET);
            for (int b = 0; b < BRANCHES; b += 7) {
                ByteBuffer first = ByteBuffer.allocate(1);
                store.timeline(branches.get(b)).read(file, (long) (pages - 1) * Namespace.PAGE_SIZE, first);
                assertArrayEquals(new byte[] {(byte) b}, first.array(), "branch " + b + " kept its own last page");
            }
        }
    }
}

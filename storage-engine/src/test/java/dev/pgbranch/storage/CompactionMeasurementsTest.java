package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Figures for the report, not a regression test (seconds of I/O): run with
 * {@code -Dtest=CompactionMeasurementsTest -Dpgbranch.measure=true}. The JMH benchmarks live in
 * the benchmarks module.
 */
@EnabledIfSystemProperty(named = "pgbranch.measure", matches = "true")
class CompactionMeasurementsTest {

    private static final int PAGE = Namespace.PAGE_SIZE;
    private static final long MB = 1 << 20;

    @TempDir
    Path dir;

    /** Half random, half zeros: compresses to about half, like a well-filled heap page. */
    private static byte[] page(Random r) {
        byte[] p = new byte[PAGE];
        byte[] half = new byte[PAGE / 2];
        r.nextBytes(half);
        System.arraycopy(half, 0, p, 0, half.length);
        return p;
    }

    private static void fill(Timeline t, long inode, long pages, Random r) throws IOException {
        for (long n = 0; n < pages; n += 16) {
            ByteBuffer b = ByteBuffer.allocate(16 * PAGE);
            for (int i = 0; i < 16; i++) {
                b.put(page(r));
            }
            b.flip();
            t.write(inode, n * PAGE, b);
        }
    }

    /**
     * Heap held by an open store of one million page versions (one 8 KB page in ten written; the
     * others zero pages, which are index entries without stored bytes), measured after a full GC
     * against the same JVM's heap before the store was opened.
     */
    @Test
    void heapHeldByTheLayerIndexesOfAMillionPageVersions() throws IOException {
        Random r = new Random(14);
        long versions = 1_000_000;
        try (PageStore store = PageStore.open(dir, new StoreOptions(16 * MB, 64 * MB, false, 1000))) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            ByteBuffer b = ByteBuffer.allocate(64 * PAGE);
            for (long n = 0; n < versions; n += 64) {
                b.clear();
                for (int i = 0; i < 64; i++) {
                    b.put(i % 10 == 0 ? page(r) : new byte[PAGE]);
                }
                b.flip();
                t.write(f, n * PAGE, b);
            }
            store.flush();
        }
        long before = heapAfterGc();
        try (PageStore store = PageStore.open(dir, new StoreOptions(16 * MB, 64 * MB, false, 1000))) {
            long after = heapAfterGc();
            StoreStats stats = store.stats();
            System.out.printf("open store of %d page versions in %d layer files (%d MB on disk): heap %+.1f MB "
                    + "(%.1f bytes a version)%n", versions, stats.layerFiles(), stats.layerBytes() / MB,
                    (after - before) / (double) MB, (after - before) / (double) versions);
        }
    }

    private static long heapAfterGc() {
        java.lang.management.MemoryMXBean memory = java.lang.management.ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    @Test
    void compactionThroughputOnATimelineOf256StoredMegabytes() throws IOException {
        Random r = new Random(11);
        try (PageStore store = PageStore.open(dir, new StoreOptions(16 * MB, 64 * MB, true, 1000))) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            fill(t, f, 512 * MB / PAGE, r); // about 256 MB stored
            store.flush();
            TimelineId child = store.createBranch(root, t.lastLsn());
            long u0 = System.nanoTime();
            TimelineUsage u = store.usage(root);
            long u1 = System.nanoTime();
            store.usage(root);
            long u2 = System.nanoTime();
            System.out.printf("usage of %d MB timeline with a child: %.1f ms (first miss), %.3f ms (cached): %s%n",
                    u.ownBytes() / MB, (u1 - u0) / 1e6, (u2 - u1) / 1e6, u);
            for (int i = 0; i < 5; i++) {
                TimelineId other = store.createBranch(root, t.lastLsn() - i); // a new child: a cache miss
                long m0 = System.nanoTime();
                store.usage(root);
                System.out.printf("usage miss %d: %.1f ms%n", i, (System.nanoTime() - m0) / 1e6);
                store.deleteTimeline(other);
            }
            long t0 = System.nanoTime();
            GcResult g = store.collectGarbage(root, 0);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("compaction of %d files, %d MB -> %d MB in %.2f s: input %.0f MB/s, output %.0f MB/s%n",
                    g.layerFilesBefore(), g.bytesBefore() / MB, g.bytesAfter() / MB, s, g.bytesBefore() / MB / s,
                    g.bytesAfter() / MB / s);
            assertEquals(1, g.layerFilesAfter());
            long m0 = System.nanoTime();
            store.usage(root);
            System.out.printf("usage miss after compaction (1 file): %.1f ms%n", (System.nanoTime() - m0) / 1e6);
            store.deleteTimeline(child);
        }
    }

    @Test
    void gcOfATimelineWhereNinetyPercentOfVersionsAreGarbage() throws IOException {
        Random r = new Random(12);
        try (PageStore store = PageStore.open(dir, new StoreOptions(16 * MB, 64 * MB, true, 1000))) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            for (int round = 0; round < 10; round++) {
                fill(t, f, 8 * MB / PAGE, r); // every page rewritten 10 times
            }
            store.flush();
            long t0 = System.nanoTime();
            GcResult g = store.collectGarbage(root, t.lastLsn());
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("GC with 90%% garbage: %d files, %.1f MB -> %.1f MB, %d versions dropped, %.2f s%n",
                    g.layerFilesBefore(), g.bytesBefore() / (double) MB, g.bytesAfter() / (double) MB,
                    g.versionsDropped(), s);
            assertTrue(g.bytesAfter() < g.bytesBefore() / 8);
        }
    }

    @Test
    void getPageLatencyThroughFortyFilesAndAfterCompaction() throws IOException {
        Random r = new Random(13);
        int pagesPerFile = 256;
        try (PageStore store = PageStore.open(dir, new StoreOptions(64 * MB, 0, false, 1000))) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            for (int i = 0; i < 40; i++) {
                // file i holds pages [i*256, i*256+256) and a rewrite of a few old ones
                fill(t, f, 0, r);
                for (int p = 0; p < pagesPerFile; p += 16) {
                    ByteBuffer b = ByteBuffer.allocate(16 * PAGE);
                    for (int k = 0; k < 16; k++) {
                        b.put(page(r));
                    }
                    b.flip();
                    t.write(f, ((long) i * pagesPerFile + p) * PAGE, b);
                }
                store.flush();
            }
            assertEquals(40, store.stats().layerFiles());
            int pages = 40 * pagesPerFile;
            double before = readLatency(t, f, pages);
            GcResult g = store.collectGarbage(root, 0);
            assertEquals(1, g.layerFilesAfter());
            double after = readLatency(t, f, pages);
            System.out.printf("GetPage (no page cache, OS cache warm) through 40 files: %.1f us, after compaction "
                    + "into 1 file: %.1f us%n", before, after);
        }
    }

    @Test
    void latencyOfSmallGcCalls() throws IOException {
        Random r = new Random(15);
        try (PageStore store = PageStore.open(dir, new StoreOptions(64 * 1024, 256 * 1024, false, 4))) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            for (int round = 0; round < 30; round++) {
                for (int i = 0; i < 20; i++) {
                    t.write(f, (long) r.nextInt(64) * PAGE, ByteBuffer.wrap(page(r)));
                }
                long t0 = System.nanoTime();
                GcResult g = store.collectGarbage(root, t.lastLsn() - 5);
                System.out.printf("small GC %d: %.2f ms %s%n", round, (System.nanoTime() - t0) / 1e6, g);
            }
        }
    }

    private static double readLatency(Timeline t, long f, int pages) throws IOException {
        Random r = new Random(14);
        ByteBuffer b = ByteBuffer.allocate(PAGE);
        for (int i = 0; i < 20_000; i++) { // warm up
            b.clear();
            t.read(f, (long) r.nextInt(pages) * PAGE, b);
        }
        int n = 100_000;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            b.clear();
            t.read(f, (long) r.nextInt(pages) * PAGE, b);
        }
        return (System.nanoTime() - t0) / 1e3 / n;
    }
}

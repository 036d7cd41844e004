package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GcConcurrencyTest {

    private static final int PAGE = Namespace.PAGE_SIZE;
    private static final int PAGES = 64;

    @TempDir
    Path dir;

    /** Page {@code block} at version {@code v}: every long is (block, v) mixed, so a torn or stale mix shows. */
    private static byte[] page(int block, long v) {
        ByteBuffer b = ByteBuffer.allocate(PAGE);
        while (b.hasRemaining()) {
            b.putLong(block * 1_000_003L + v);
        }
        return b.array();
    }

    private static long versionOf(int block, ByteBuffer b) {
        long first = b.getLong(0);
        for (int i = 0; i < PAGE; i += 8) {
            if (b.getLong(i) != first) {
                throw new AssertionError("page " + block + " mixes versions");
            }
        }
        return first - block * 1_000_003L;
    }

    @Test
    void gcAndBackgroundMergesRunBesideAWriterAndReadersWithoutChangingWhatTheyRead() throws Exception {
        StoreOptions options = new StoreOptions(64 * 1024, 256 * 1024, false, 4);
        long[] lastVersion = new long[PAGES];
        try (PageStore store = PageStore.open(dir, options)) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            for (int b = 0; b < PAGES; b++) {
                t.write(f, (long) b * PAGE, ByteBuffer.wrap(page(b, 0)));
            }
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicLong writes = new AtomicLong();
            Thread writer = new Thread(() -> {
                try {
                    for (long v = 1; v <= 600; v++) {
                        int b = (int) (v % PAGES);
                        t.write(f, (long) b * PAGE, ByteBuffer.wrap(page(b, v)));
                        lastVersion[b] = v;
                        writes.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            List<Thread> readers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                readers.add(new Thread(() -> {
                    try {
                        ByteBuffer buf = ByteBuffer.allocate(PAGE);
                        long[] seen = new long[PAGES];
                        for (int n = 0; !stop.get(); n++) {
                            int b = n % PAGES;
                            buf.clear();
                            t.read(f, (long) b * PAGE, buf);
                            long v = versionOf(b, buf);
                            if (v < seen[b]) {
                                throw new AssertionError("page " + b + " went back from " + seen[b] + " to " + v);
                            }
                            seen[b] = v;
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            writer.start();
            readers.forEach(Thread::start);
            int gcs = 0;
            while (writer.isAlive() && failures.isEmpty()) {
                store.collectGarbage(root, Math.max(t.gcHorizon(), t.lastLsn() - 50));
                gcs++;
                Thread.sleep(5); // a GC every few ms: far more often than any real schedule
            }
            writer.join();
            stop.set(true);
            for (Thread r : readers) {
                r.join();
            }
            assertTrue(failures.isEmpty(), () -> "failures: " + failures);
            assertEquals(600, writes.get());
            assertTrue(gcs >= 3, gcs + " GCs");
            assertTrue(store.stats().versionsDropped() > 0);
            t.sync();
        }
        try (PageStore store = PageStore.open(dir, options)) {
            Timeline t = store.timeline(store.timelines().iterator().next());
            long f = t.lookup(Namespace.ROOT_INODE, "f");
            ByteBuffer buf = ByteBuffer.allocate(PAGE);
            for (int b = 0; b < PAGES; b++) {
                buf.clear();
                t.read(f, (long) b * PAGE, buf);
                assertEquals(lastVersion[b], versionOf(b, buf), "page " + b);
            }
        }
    }
}

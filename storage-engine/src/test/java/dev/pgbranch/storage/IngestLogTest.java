package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IngestLogTest {

    @TempDir
    Path dir;

    private static Batch batch(int n) {
        byte[] page = new byte[Namespace.PAGE_SIZE];
        page[0] = (byte) n;
        return new Batch().put(2, n, page);
    }

    @Test
    void concurrentSyncsShareFsyncs() throws Exception {
        int threads = 8;
        int perThread = 100;
        TimelineId timeline = TimelineId.random();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        try (IngestLog log = IngestLog.open(dir, true, (r, s, e) -> { })) {
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> workers = new ArrayList<>();
            java.util.concurrent.atomic.AtomicLong lsn = new java.util.concurrent.atomic.AtomicLong();
            for (int k = 0; k < threads; k++) {
                Thread t = new Thread(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < perThread; i++) {
                            long end = log.append(timeline, lsn.incrementAndGet(), batch(i));
                            log.sync(end);
                            assertTrue(log.flushedPosition() >= end);
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                });
                t.start();
                workers.add(t);
            }
            start.countDown();
            for (Thread t : workers) {
                t.join();
            }
            assertTrue(errors.isEmpty(), () -> errors.peek().toString());
            long syncs = log.syncCount();
            assertTrue(syncs < threads * perThread * 9L / 10,
                    "group commit: " + syncs + " fsyncs for " + threads * perThread + " syncs");
        }
        List<Long> replayed = new ArrayList<>();
        try (IngestLog log = IngestLog.open(dir, true, (r, s, e) -> replayed.add(r.lsn()))) {
            assertEquals(threads * perThread, replayed.size());
            assertEquals(log.writePosition(), log.flushedPosition());
        }
    }

    @Test
    void segmentsRollOverAndTrimKeepsTheUnflushedTail() throws Exception {
        TimelineId timeline = TimelineId.random();
        long segment = 1 << 20;
        int records = (int) (2.5 * segment / (Namespace.PAGE_SIZE + 64));
        long middle = 0;
        try (IngestLog log = IngestLog.open(dir, false, segment, (r, s, e) -> { })) {
            for (int i = 1; i <= records; i++) {
                long end = log.append(timeline, i, batch(i));
                if (i == records / 2) {
                    middle = end;
                }
            }
            assertTrue(log.bytes() > 2 * segment);
            log.trimBefore(middle);
            assertTrue(log.bytes() < 2 * segment, "whole segments before the position are gone");
        }
        List<Long> replayed = new ArrayList<>();
        try (IngestLog log = IngestLog.open(dir, false, segment, (r, s, e) -> replayed.add(r.lsn()))) {
            assertTrue(replayed.getFirst() <= records / 2 + 1, "the record at the trim position is kept");
            assertTrue(log.bytes() < 2 * segment);
            assertEquals(records, (long) replayed.getLast());
            for (int i = 1; i < replayed.size(); i++) {
                assertEquals(replayed.get(i - 1) + 1, (long) replayed.get(i));
            }
        }
    }

    @Test
    void anIdleTimelineDoesNotPinTheLogForever() throws Exception {
        long segment = 256 * 1024;
        StoreOptions options = new StoreOptions(512 * 1024, 1 << 20, false);
        try (LayeredStore store = LayeredStore.open(dir, options, segment)) {
            Timeline idle = store.timeline(store.createRootTimeline(0, 0));
            long f = idle.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            idle.write(f, 0, java.nio.ByteBuffer.wrap(new byte[] {1}));
            Timeline busy = store.timeline(store.createRootTimeline(0, 0));
            long g = busy.create(Namespace.ROOT_INODE, "g", InodeKind.FILE, 0600, 0, 0);
            for (int n = 0; n < 1000; n++) { // ~8 MB: 30 segments, 15 layer flushes
                busy.write(g, (long) (n % 64) * Namespace.PAGE_SIZE,
                        java.nio.ByteBuffer.wrap(new byte[Namespace.PAGE_SIZE]));
            }
            // No explicit flush (it would flush the idle timeline too): background flushes of
            // the busy timeline must get the idle one's old record out of the log's way.
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (store.stats().ingestLogBytes() >= 6 * segment && System.nanoTime() < deadline) {
                busy.write(g, 0, java.nio.ByteBuffer.wrap(new byte[Namespace.PAGE_SIZE]));
                Thread.sleep(10);
            }
            assertTrue(store.stats().ingestLogBytes() < 6 * segment,
                    "log trimmed behind the idle timeline: " + store.stats().ingestLogBytes() + " bytes left");
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            idle.read(f, 0, b);
            assertEquals(1, b.get(0));
        }
    }
}

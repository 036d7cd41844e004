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
    private static List<Path> segmentFiles(Path directory) throws java.io.IOException {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(directory)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList();
        }
    }

    private static void copyDirectory(Path from, Path to) throws java.io.IOException {
        java.nio.file.Files.createDirectories(to);
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                java.nio.file.Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }

    private static void zero(Path file, long offset, int length) throws java.io.IOException {
        try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer zeros = java.nio.ByteBuffer.allocate(length);
            while (zeros.hasRemaining()) {
                c.write(zeros, offset + zeros.position());
            }
        }
    }

    private static List<Long> replay(Path directory, long segment) throws java.io.IOException {
        List<Long> lsns = new ArrayList<>();
        try (IngestLog log = IngestLog.open(directory, true, segment, (r, s, e) -> lsns.add(r.lsn()))) {
            assertEquals(log.writePosition(), log.flushedPosition());
        }
        return lsns;
    }

    private static void assertConsecutiveFromOne(List<Long> lsns) {
        for (int i = 0; i < lsns.size(); i++) {
            assertEquals(i + 1, (long) lsns.get(i), "replayed LSNs " + lsns);
        }
    }

    @Test
    void aCrashAfterASegmentRollLosesNothingSyncedAndDropsTheUnsyncedNextSegment() throws Exception {
        TimelineId timeline = TimelineId.random();
        long segment = 64 * 1024; // 7 records of ~8 KB each
        Path live = dir.resolve("live");
        long synced;
        int syncedRecords = 3;
        try (IngestLog log = IngestLog.open(live, true, segment, (r, s, e) -> { })) {
            long end = 0;
            for (int i = 1; i <= syncedRecords; i++) {
                end = log.append(timeline, i, batch(i));
            }
            log.sync(end);
            synced = end;
            for (int i = syncedRecords + 1; i <= 12; i++) { // rolls to a second segment, never synced
                log.append(timeline, i, batch(i));
            }
            assertEquals(2, segmentFiles(live).size(), "rolled over");
            // What a crash may leave: the first segment's unsynced tail lost (a page never
            // written back) while the next segment's records did reach the disk.
            Path crashed = dir.resolve("crashed");
            copyDirectory(live, crashed);
            zero(segmentFiles(crashed).getFirst(), synced, 4096);
        }
        Path crashed = dir.resolve("crashed");
        List<Long> replayed = replay(crashed, segment);
        assertEquals(List.of(1L, 2L, 3L), replayed.subList(0, 3), "every synced record survives");
        assertTrue(replayed.size() < 7, "nothing after the hole is replayed: " + replayed);
        assertConsecutiveFromOne(replayed);
        assertEquals(1, segmentFiles(crashed).size(), "the segment after the shortfall is deleted");

        // The log goes on from the cut, and a reopen sees exactly the new history.
        int next = replayed.size() + 1;
        try (IngestLog log = IngestLog.open(crashed, true, segment, (r, s, e) -> { })) {
            long end = 0;
            for (int i = next; i < next + 10; i++) {
                end = log.append(timeline, i, batch(i));
            }
            log.sync(end);
        }
        List<Long> after = replay(crashed, segment);
        assertEquals(next + 9, after.size());
        assertConsecutiveFromOne(after);
    }

    @Test
    void aStaleRecordBehindAHoleIsNeverReplayedAfterLaterAppends() throws Exception {
        TimelineId timeline = TimelineId.random();
        long end1;
        try (IngestLog log = IngestLog.open(dir, false, (r, s, e) -> { })) {
            end1 = log.append(timeline, 1, batch(1));
            log.append(timeline, 2, batch(2));
            log.append(timeline, 3, batch(3));
        }
        // Record 2 never reached the disk (zeros) but record 3, written after it, did.
        zero(segmentFiles(dir).getFirst(), end1, 8);
        List<Long> replayed = new ArrayList<>();
        try (IngestLog log = IngestLog.open(dir, false, (r, s, e) -> replayed.add(r.lsn()))) {
            assertEquals(List.of(1L), replayed);
            // A new record 2 of the same length ends exactly where the stale record 3 began.
            log.append(timeline, 2, batch(2));
        }
        replayed.clear();
        IngestLog.open(dir, false, (r, s, e) -> replayed.add(r.lsn())).close();
        assertEquals(List.of(1L, 2L), replayed, "the stale record 3 was cut at recovery");
    }

    @Test
    void preAllocatedSegmentsAreUsedAndTheirZeroTailIsNotATornRecord() throws Exception {
        TimelineId timeline = TimelineId.random();
        long segment = 64 * 1024;
        int records = 0;
        long position;
        try (IngestLog log = IngestLog.open(dir, true, segment, (r, s, e) -> { })) {
            while (segmentFiles(dir).size() < 2) {
                log.append(timeline, ++records, batch(records));
            }
            // The first roll asks the background thread for a spare; the next roll renames it.
            Path spare = dir.resolve(IngestLog.SPARE_NAME);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!log.hasSpare() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(log.hasSpare(), "spare segment prepared");
            assertEquals(segment, java.nio.file.Files.size(spare));
            while (segmentFiles(dir).size() < 3) {
                log.append(timeline, ++records, batch(records));
            }
            Path third = segmentFiles(dir).getLast();
            assertEquals(segment, java.nio.file.Files.size(third), "the third segment is the zero-filled spare");
            log.sync(log.writePosition());
            position = log.writePosition();
        }
        List<Long> lsns = new ArrayList<>();
        try (IngestLog log = IngestLog.open(dir, true, segment, (r, s, e) -> lsns.add(r.lsn()))) {
            assertEquals(position, log.writePosition(), "the zero padding is not part of the log");
            long end = log.append(timeline, records + 1, batch(records + 1));
            log.sync(end);
        }
        assertEquals(records, lsns.size());
        assertConsecutiveFromOne(lsns);
        List<Long> after = replay(dir, segment);
        assertEquals(records + 1, after.size());
        assertConsecutiveFromOne(after);
    }

    @Test
    void unsyncedBytesAreWrittenBackInTheBackgroundWithoutASync() throws Exception {
        TimelineId timeline = TimelineId.random();
        try (IngestLog log = IngestLog.open(dir, true, (r, s, e) -> { })) {
            long end = 0;
            for (int i = 1; end < 2 * IngestLog.WRITEBACK_BYTES; i++) {
                end = log.append(timeline, i, batch(i));
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (log.flushedPosition() < end - IngestLog.WRITEBACK_BYTES && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(log.flushedPosition() >= end - IngestLog.WRITEBACK_BYTES,
                    "flushed " + log.flushedPosition() + " of " + end);
        }
    }
}

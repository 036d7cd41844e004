package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flipped byte inside synced ingest log history is damage, not a torn tail: reported with file
 * and offset, the bytes behind it kept aside, the timelines involved quarantined (issue 11).
 */
class IngestLogCorruptionTest {

    private static final long SEGMENT = 256 * 1024;

    @TempDir
    Path dir;

    private static Batch batch(Random r, int n) {
        byte[] page = new byte[Namespace.PAGE_SIZE];
        r.nextBytes(page);
        return new Batch().put(2, n, page);
    }

    /** Appends {@code count} synced records and returns the log position after each. */
    private List<Long> writeRecords(int count) throws IOException {
        Random r = new Random(7);
        TimelineId timeline = TimelineId.random();
        List<Long> ends = new ArrayList<>();
        try (IngestLog log = IngestLog.open(dir, true, SEGMENT, (rec, s, e) -> { })) {
            for (int i = 1; i <= count; i++) {
                ends.add(log.append(timeline, i, batch(r, i)));
            }
            log.sync(ends.getLast());
        }
        return ends;
    }

    private Map<String, byte[]> contents() throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                m.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        return m;
    }

    private static void flip(Path file, long offset) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            c.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x5A));
            b.rewind();
            c.write(b, offset);
        }
    }

    private static void assertSameFiles(Map<String, byte[]> before, Map<String, byte[]> after) {
        assertEquals(before.keySet(), after.keySet(), "no segment deleted or added");
        for (String name : before.keySet()) {
            assertArrayEquals(before.get(name), after.get(name), name + " untouched");
        }
    }

    private List<Long> replay() throws IOException {
        return replay(new LogRecovery.Cut[1]);
    }

    /** Replays the log as the store would; {@code cut[0]} receives the cut recovery made, if any. */
    private List<Long> replay(LogRecovery.Cut[] cut) throws IOException {
        List<Long> lsns = new ArrayList<>();
        IngestLog.open(dir, dir.resolveSibling("quarantine"), true, SEGMENT, OsDisk.INSTANCE,
                (rec, s, e) -> lsns.add(rec.lsn()), c -> cut[0] = c).close();
        return lsns;
    }

    /** Checks the bytes recovery cut from {@code segment} at {@code offset} were kept aside, unchanged. */
    private void assertKeptAside(LogRecovery.Cut cut, Map<String, byte[]> before, Path segment, long offset) throws IOException {
        Path copy = cut.preserved().resolve(segment.getFileName() + ".from-" + offset);
        byte[] original = before.get(segment.getFileName().toString());
        assertArrayEquals(java.util.Arrays.copyOfRange(original, (int) offset, original.length), Files.readAllBytes(copy),
                "the cut bytes are kept in " + copy);
        assertEquals(offset, Files.size(segment), "the log goes on from the damaged record");
    }

    @Test
    void aFlippedByteInsideSyncedHistoryIsReportedAsDamageAndTheCutBytesAreKeptAside() throws IOException {
        List<Long> ends = writeRecords(12);
        Path segment = dir.resolve(String.format("%016x.log", 0L));
        long recordStart = ends.get(2); // record 4
        flip(segment, recordStart + 100);
        Map<String, byte[]> before = contents();
        LogRecovery.Cut[] cut = new LogRecovery.Cut[1];
        assertEquals(List.of(1L, 2L, 3L), replay(cut), "the valid prefix is replayed");
        assertEquals(LogRecovery.CutKind.DAMAGED, cut[0].kind(), cut[0].evidence());
        assertEquals(segment, cut[0].segment());
        assertEquals(recordStart, cut[0].offset());
        assertEquals(1, cut[0].affected().size(), "the records behind it name their timeline");
        assertKeptAside(cut[0], before, segment, recordStart);
    }

    @Test
    void aFlippedLengthFieldIsFoundByTheValidRecordsBehindIt() throws IOException {
        List<Long> ends = writeRecords(12);
        Path segment = dir.resolve(String.format("%016x.log", 0L));
        flip(segment, ends.get(4) + 2); // the length of record 6
        Map<String, byte[]> before = contents();
        LogRecovery.Cut[] cut = new LogRecovery.Cut[1];
        assertEquals(5, replay(cut).size());
        assertEquals(LogRecovery.CutKind.DAMAGED, cut[0].kind(), cut[0].evidence());
        assertEquals(ends.get(4).longValue(), cut[0].offset());
        assertKeptAside(cut[0], before, segment, ends.get(4));
    }

    @Test
    void aDamagedLastRecordOfASegmentIsFoundByTheNextSegmentWhichIsMovedAsideWhole() throws IOException {
        List<Long> ends = writeRecords(80); // ~3 segments
        List<Path> segments;
        try (Stream<Path> files = Files.list(dir)) {
            segments = files.filter(f -> f.toString().endsWith(".log")).sorted().toList();
        }
        assertTrue(segments.size() >= 2, "rolled over");
        long secondBase = Long.parseLong(segments.get(1).getFileName().toString().substring(0, 16), 16);
        int last = ends.indexOf(secondBase) - 1; // the record ending where the second segment starts
        flip(segments.getFirst(), ends.get(last) + 50);
        Map<String, byte[]> before = contents();
        LogRecovery.Cut[] cut = new LogRecovery.Cut[1];
        replay(cut);
        assertEquals(LogRecovery.CutKind.DAMAGED, cut[0].kind(), cut[0].evidence());
        assertEquals(segments.getFirst(), cut[0].segment());
        for (Path later : segments.subList(1, segments.size())) {
            assertFalse(Files.exists(later), "no longer part of the log: " + later);
            assertArrayEquals(before.get(later.getFileName().toString()),
                    Files.readAllBytes(cut[0].preserved().resolve(later.getFileName())), "kept whole: " + later);
        }
    }

    @Test
    void aTornTailIsStillCut() throws IOException {
        List<Long> ends = writeRecords(12);
        Path segment = dir.resolve(String.format("%016x.log", 0L));
        try (FileChannel c = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            c.truncate(ends.get(10) + 1000); // the last record's first 1000 bytes reached the disk
        }
        LogRecovery.Cut[] cut = new LogRecovery.Cut[1];
        assertEquals(11, replay(cut).size());
        assertEquals(LogRecovery.CutKind.TORN_TAIL, cut[0].kind());
        assertEquals(null, cut[0].preserved(), "nothing valid was cut: nothing to keep");
        assertEquals(ends.get(10).longValue(), Files.size(segment), "the torn record is cut");
        // a flipped byte in the very last record, with nothing valid behind it, is a torn tail too
        flip(segment, ends.get(9) + 300);
        assertEquals(10, replay().size());
    }

    @Test
    void aDamagedLogQuarantinesTheTimelineThatWroteThereKeepsItAcrossRestartsAndServesTheOthers() throws IOException {
        Random r = new Random(8);
        StoreOptions options = new StoreOptions(64L << 20, 1 << 20, true);
        TimelineId healthy;
        TimelineId damaged;
        byte[] kept = GarbageCollectionTest.random(r, 8192);
        try (LayeredStore store = LayeredStore.open(dir, options, SEGMENT)) {
            healthy = store.createRootTimeline(0, 0);
            Timeline h = store.timeline(healthy);
            long hf = h.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            h.write(hf, 0, ByteBuffer.wrap(kept));
            store.flush(); // the healthy timeline's history is in a layer file
            damaged = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(damaged);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            for (int i = 0; i < 20; i++) {
                t.write(f, (long) i * Namespace.PAGE_SIZE, ByteBuffer.wrap(GarbageCollectionTest.random(r, 8192)));
                t.sync(); // each record carries the durable position: damage behind a sync is provable
            }
            store.crash(); // nothing flushed: its history is only in the log
        }
        Path wal = dir.resolve("wal");
        Path segment;
        try (Stream<Path> files = Files.list(wal)) {
            segment = files.filter(p -> p.toString().endsWith(".log")).sorted().findFirst().orElseThrow();
        }
        flip(segment, Files.size(segment) / 2);
        for (int open = 0; open < 2; open++) {
            try (PageStore store = PageStore.open(dir, options)) {
                assertEquals(java.util.Set.of(damaged), store.quarantined().keySet(), "open " + open);
                assertTrue(store.quarantined().get(damaged).contains(segment.getFileName().toString()),
                        store.quarantined().get(damaged));
                QuarantinedTimelineException e = assertThrows(QuarantinedTimelineException.class,
                        () -> store.timeline(damaged));
                assertEquals(damaged, e.id());
                Timeline h = store.timeline(healthy);
                ByteBuffer b = ByteBuffer.allocate(8192);
                h.read(h.lookup(Namespace.ROOT_INODE, "f"), 0, b);
                assertArrayEquals(kept, b.array(), "the other timeline serves");
            }
        }
        try (Stream<Path> files = Files.list(dir.resolve("quarantine"))) {
            assertEquals(1, files.count(), "the cut part of the log is kept aside");
        }
    }
}

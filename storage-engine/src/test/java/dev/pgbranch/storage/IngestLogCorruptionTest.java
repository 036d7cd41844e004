package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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

/** Issue 7: a flipped byte inside synced ingest log history is reported, never cut away. */
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
        List<Long> lsns = new ArrayList<>();
        IngestLog.open(dir, true, SEGMENT, (rec, s, e) -> lsns.add(rec.lsn())).close();
        return lsns;
    }

    @Test
    void aFlippedByteInsideARecordWithSyncedRecordsAfterItFailsTheOpenNamingFileAndOffset() throws IOException {
        List<Long> ends = writeRecords(12);
        Path segment = dir.resolve(String.format("%016x.log", 0L));
        long recordStart = ends.get(2); // record 4
        flip(segment, recordStart + 100);
        Map<String, byte[]> before = contents();
        IOException e = assertThrows(IOException.class, this::replay);
        assertTrue(e.getMessage().contains(segment.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("offset " + recordStart), e.getMessage());
        assertSameFiles(before, contents());
    }

    @Test
    void aFlippedLengthFieldIsFoundByTheValidRecordsBehindIt() throws IOException {
        List<Long> ends = writeRecords(12);
        Path segment = dir.resolve(String.format("%016x.log", 0L));
        flip(segment, ends.get(4) + 2); // the length of record 6
        Map<String, byte[]> before = contents();
        IOException e = assertThrows(IOException.class, this::replay);
        assertTrue(e.getMessage().contains("offset " + ends.get(4)), e.getMessage());
        assertSameFiles(before, contents());
    }

    @Test
    void aDamagedLastRecordOfASegmentIsFoundByTheNextSegment() throws IOException {
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
        IOException e = assertThrows(IOException.class, this::replay);
        assertTrue(e.getMessage().contains(segments.getFirst().toString()), e.getMessage());
        assertSameFiles(before, contents());
    }

    @Test
    void aTornTailIsStillCut() throws IOException {
        List<Long> ends = writeRecords(12);
        Path segment = dir.resolve(String.format("%016x.log", 0L));
        try (FileChannel c = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            c.truncate(ends.get(10) + 1000); // the last record's first 1000 bytes reached the disk
        }
        assertEquals(11, replay().size());
        assertEquals(ends.get(10).longValue(), Files.size(segment), "the torn record is cut");
        // a flipped byte in the very last record, with nothing valid behind it, is a torn tail too
        flip(segment, ends.get(9) + 300);
        assertEquals(10, replay().size());
    }

    @Test
    void aStoreWhoseIngestLogIsCorruptDoesNotOpenAndKeepsItsFiles() throws IOException {
        Random r = new Random(8);
        StoreOptions options = new StoreOptions(64L << 20, 1 << 20, true);
        TimelineId root;
        try (LayeredStore store = LayeredStore.open(dir, options, SEGMENT)) {
            root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            for (int i = 0; i < 20; i++) {
                t.write(f, (long) i * Namespace.PAGE_SIZE, ByteBuffer.wrap(GarbageCollectionTest.random(r, 8192)));
            }
            t.sync();
            store.crash(); // nothing flushed: the history is only in the log
        }
        Path wal = dir.resolve("wal");
        Path segment;
        try (Stream<Path> files = Files.list(wal)) {
            segment = files.filter(p -> p.toString().endsWith(".log")).sorted().findFirst().orElseThrow();
        }
        flip(segment, Files.size(segment) / 2);
        long size = Files.size(segment);
        IOException e = assertThrows(IOException.class, () -> PageStore.open(dir, options));
        assertTrue(e.getMessage().contains(segment.toString()), e.getMessage());
        assertEquals(size, Files.size(segment));
    }
}

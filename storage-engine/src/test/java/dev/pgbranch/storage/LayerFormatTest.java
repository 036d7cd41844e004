package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerFormatTest {

    @TempDir
    Path dir;

    private final TimelineId timeline = TimelineId.random();
    private final PageCache cache = new PageCache(1 << 20);

    private static byte[] page(int seed) {
        byte[] p = new byte[Namespace.PAGE_SIZE];
        for (int i = 0; i < p.length; i += 64) {
            p[i] = (byte) (seed + i / 64); // mostly zeros: compresses
        }
        return p;
    }

    private static byte[] randomPage(long seed) {
        byte[] p = new byte[Namespace.PAGE_SIZE];
        new java.util.Random(seed).nextBytes(p); // incompressible: stored raw
        return p;
    }

    private Path writeSample() throws IOException {
        InMemoryLayer layer = new InMemoryLayer();
        Instant t = Instant.parse("2026-11-24T00:00:00Z");
        layer.add(10, new Batch()
                .put(Keys.COUNTER_INODE, Keys.ATTRIBUTES, new InodeCounter(3))
                .put(1, Keys.ATTRIBUTES, new InodeRecord(1, InodeKind.DIRECTORY, 0700, 1, 2, 0, t, t, 1, 0))
                .put(1, Keys.DIRECTORY, DirectoryRecord.EMPTY.with("f", 2, InodeKind.FILE)), 0);
        layer.add(11, new Batch().put(2, 0, page(1)).put(2, 1, randomPage(7)), 100);
        layer.add(12, new Batch().put(2, 0, page(2)).put(2, 5, Tombstone.ZERO_PAGE), 200);
        layer.add(13, new Batch().put(1, Keys.ATTRIBUTES, Tombstone.DELETED), 300);
        Path file = dir.resolve(Manifest.layerFileName(timeline, 1));
        LayerWriter.write(file, timeline, layer, true, OsDisk.INSTANCE);
        return file;
    }

    @Test
    void layerFileRoundTripsEveryVersionAtEveryLsn() throws IOException {
        Path file = writeSample();
        assertFalse(Files.exists(file.resolveSibling(file.getFileName() + ".tmp")));
        try (LayerFile f = LayerFile.open(1, file, OsDisk.INSTANCE)) {
            assertEquals(10, f.minLsn());
            assertEquals(13, f.maxLsn());
            assertEquals(timeline, f.timeline());
            assertNull(f.get(2, 0, 10, cache), "below the first version");
            assertArrayEquals(page(1), (byte[]) f.get(2, 0, 11, cache));
            assertArrayEquals(page(2), (byte[]) f.get(2, 0, 12, cache));
            assertArrayEquals(page(2), (byte[]) f.get(2, 0, 1000, cache));
            assertArrayEquals(randomPage(7), (byte[]) f.get(2, 1, 11, cache));
            assertEquals(Tombstone.ZERO_PAGE, f.get(2, 5, 12, cache));
            assertNull(f.get(2, 2, 100, cache), "absent block");
            assertFalse(f.mayContain(2, 2));
            assertFalse(f.mayContain(99, 0));
            assertTrue(f.mayContain(1, Keys.DIRECTORY));
            assertEquals(new InodeCounter(3), f.get(Keys.COUNTER_INODE, Keys.ATTRIBUTES, 10, cache));
            InodeRecord root = (InodeRecord) f.get(1, Keys.ATTRIBUTES, 12, cache);
            assertEquals(0700, root.mode());
            assertEquals(Tombstone.DELETED, f.get(1, Keys.ATTRIBUTES, 13, cache));
            DirectoryRecord d = (DirectoryRecord) f.get(1, Keys.DIRECTORY, 13, cache);
            assertEquals("f", d.name(0));
            assertEquals(2, d.inode(0));
        }
    }

    @Test
    void aReadAfterCloseFailsWithAnIoErrorAndTheIndexIsUnmapped() throws Exception {
        Path file = writeSample();
        LayerFile f = LayerFile.open(1, file, OsDisk.INSTANCE);
        assertArrayEquals(page(1), (byte[]) f.get(2, 0, 11, cache));
        f.close();
        f.close(); // idempotent
        IOException e = assertThrows(IOException.class, () -> f.get(2, 0, 12, new PageCache(1 << 20)));
        assertTrue(e.getMessage().contains("is closed"), e.getMessage());
        // Unmapped at close, not at a later GC: nothing of this process still maps the file.
        String maps = Files.readString(Path.of("/proc/self/maps"));
        assertFalse(maps.contains(file.toString()), "the closed layer file is still mapped");
    }

    private static void overwrite(Path file, long offset, byte[] bytes) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(bytes), offset);
        }
    }

    @Test
    void badMagicIsRejectedNamingTheFile() throws IOException {
        Path file = writeSample();
        overwrite(file, 0, "NOTLAYER".getBytes());
        IOException e = assertThrows(IOException.class, () -> LayerFile.open(1, file, OsDisk.INSTANCE));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
        assertTrue(e.getMessage().contains("offset 0"), e.getMessage());
    }

    @Test
    void unknownFormatVersionIsRejected() throws IOException {
        Path file = writeSample();
        overwrite(file, 8, new byte[] {0, 0, 0, 99});
        IOException e = assertThrows(IOException.class, () -> LayerFile.open(1, file, OsDisk.INSTANCE));
        assertTrue(e.getMessage().contains("unsupported format version 99"), e.getMessage());
        assertTrue(e.getMessage().contains("offset 8"), e.getMessage());
    }

    @Test
    void truncatedFileIsRejected() throws IOException {
        Path file = writeSample();
        long size = Files.size(file);
        for (long cut : new long[] {size - 1, size / 2, 50}) {
            try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
                c.truncate(cut);
            }
            IOException e = assertThrows(IOException.class, () -> LayerFile.open(1, file, OsDisk.INSTANCE));
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("truncated"),
                    e.getMessage());
        }
    }

    @Test
    void flippedByteInAValueIsReportedWithFileAndOffset() throws IOException {
        Path file = writeSample();
        // values are stored in key order: the inode counter's comes first, right after the header
        long valueOffset = LayerFormat.HEADER_LENGTH;
        byte[] one = new byte[1];
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            c.read(ByteBuffer.wrap(one), valueOffset);
            one[0] ^= 0x40;
            c.write(ByteBuffer.wrap(one), valueOffset);
        }
        try (LayerFile f = LayerFile.open(1, file, OsDisk.INSTANCE)) {
            IOException e = assertThrows(IOException.class,
                    () -> f.get(Keys.COUNTER_INODE, Keys.ATTRIBUTES, 10, new PageCache(0)));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
            assertTrue(e.getMessage().contains("offset " + valueOffset), e.getMessage());
        }
    }

    @Test
    void flippedByteInTheIndexFailsTheOpen() throws IOException {
        Path file = writeSample();
        long indexOffset;
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer h = ByteBuffer.allocate(LayerFormat.HEADER_LENGTH);
            c.read(h, 0);
            indexOffset = h.getLong(84);
        }
        overwrite(file, indexOffset + 3, new byte[] {0x55});
        IOException e = assertThrows(IOException.class, () -> LayerFile.open(1, file, OsDisk.INSTANCE));
        assertTrue(e.getMessage().contains("index checksum mismatch at offset " + indexOffset), e.getMessage());
    }
}

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
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 11, defect 5: {@code store verify} finds each damaged byte by file and offset; repairs are explicit. */
class VerifyAndRepairTest {

    private static final StoreOptions OPTIONS = new StoreOptions(64 * 1024, 1 << 20, true);

    @TempDir
    Path dir;

    private static byte[] page(int seed) {
        byte[] b = new byte[Namespace.PAGE_SIZE];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    private List<Path> layerFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("layers"))) {
            return s.filter(p -> p.toString().endsWith(".delta")).sorted().toList();
        }
    }

    @Test
    void verifyOfASoundStoreFindsNothingAndCountsWhatItRead() throws IOException {
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            Timeline t = store.timeline(store.createRootTimeline(0, 0));
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            for (int i = 0; i < 20; i++) {
                t.write(f, (long) i * Namespace.PAGE_SIZE, ByteBuffer.wrap(page(i)));
            }
            store.flush();
            t.write(f, 0, ByteBuffer.wrap(page(99)));
            t.sync();
            StoreReport report = store.verify();
            assertTrue(report.sound(), report.toString());
            assertTrue(report.layerFilesChecked() >= 1 && report.valuesChecked() >= 20, report.toString());
            assertTrue(report.logRecordsChecked() >= 1, report.toString());
        }
    }

    @Test
    void aFlippedValueByteIsFoundByVerifyWithItsFileAndOffsetThenDroppingTheLayerAndReleasingServesTheOlderState()
            throws IOException {
        TimelineId id;
        long f;
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            id = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(id);
            f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            t.write(f, 0, ByteBuffer.wrap(page(1)));
            store.flush(); // older layer: page(1)
            t.write(f, 0, ByteBuffer.wrap(page(2)));
            store.flush(); // newer layer: page(2)
        }
        Path newest = layerFiles().getLast();
        try (FileChannel c = FileChannel.open(newest, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(new byte[] {7}), LayerFormat.HEADER_LENGTH + 10); // inside the first value
        }
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            StoreReport report = store.verify();
            assertEquals(1, report.findings().size(), report.toString());
            StoreReport.Finding finding = report.findings().getFirst();
            assertEquals(newest, finding.file());
            assertEquals(LayerFormat.HEADER_LENGTH, finding.offset(), finding.problem());
            assertTrue(finding.problem().contains("checksum"), finding.problem());
        }
        PageStore open = PageStore.open(dir, OPTIONS);
        try {
            assertThrows(IOException.class, () -> StoreRepair.dropLayer(dir, newest.getFileName().toString()),
                    "repairs refuse an open store");
        } finally {
            open.close();
        }
        StoreRepair.dropLayer(dir, newest.getFileName().toString());
        assertTrue(Files.exists(dir.resolve("quarantine/layers").resolve(newest.getFileName())), "moved, not deleted");
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            assertTrue(store.quarantined().containsKey(id), "still held back until released");
        }
        StoreRepair.release(dir, id);
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            assertTrue(store.quarantined().isEmpty());
            Timeline t = store.timeline(id);
            ByteBuffer b = ByteBuffer.allocate(Namespace.PAGE_SIZE);
            t.read(f, 0, b);
            assertArrayEquals(page(1), b.array(), "the older version, as the operator accepted");
            StoreReport report = store.verify();
            assertTrue(report.findings().isEmpty(), report.toString());
            assertEquals(1, report.quarantineFiles().size(), "the dropped file is listed as kept aside");
        }
    }
}

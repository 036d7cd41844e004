package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Crashes at each step of a merge, damaged merged files and old manifests. */
class CompactionCrashTest {

    private static final int PAGE = Namespace.PAGE_SIZE;
    private static final StoreOptions OPTIONS = new StoreOptions(64 * 1024, 1 << 20, true, 1000);

    @TempDir
    Path dir;

    /** A root with 12 layer files, a child, and the root's file list: history to merge. */
    private record Fixture(TimelineId root, TimelineId child, long branchPoint, Map<String, String> rootHead,
                           Map<String, String> childHead) {
    }

    private Fixture build(PageStore store) throws IOException {
        Random r = new Random(9);
        TimelineId root = store.createRootTimeline(0, 0);
        Timeline t = store.timeline(root);
        long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
        long g = t.create(Namespace.ROOT_INODE, "g", InodeKind.FILE, 0600, 0, 0);
        for (int i = 0; i < 12; i++) {
            for (int p = 0; p < 6; p++) {
                t.write(p % 2 == 0 || i > 5 ? f : g, (long) r.nextInt(24) * PAGE, ByteBuffer.wrap(GarbageCollectionTest.random(r, PAGE)));
            }
            if (i == 5) {
                t.unlink(Namespace.ROOT_INODE, "g");
            }
            store.flush();
        }
        long branchPoint = t.lastLsn() - 20;
        TimelineId child = store.createBranch(root, branchPoint);
        t.sync();
        return new Fixture(root, child, branchPoint, Snapshots.of(t), Snapshots.of(store.timeline(child)));
    }

    private static void assertReadsSame(PageStore store, Fixture x) throws IOException {
        assertEquals(x.rootHead(), Snapshots.of(store.timeline(x.root())));
        assertEquals(x.childHead(), Snapshots.of(store.timeline(x.child())));
    }

    private List<Path> layerFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("layers"))) {
            return files.sorted().toList();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"written", "swapped"})
    void aCrashAtAnyStepOfAMergeLeavesAStoreThatOpensAndReadsTheSame(String step) throws IOException {
        Fixture x;
        long horizon;
        LayeredStore store = LayeredStore.open(dir, OPTIONS);
        try {
            x = build(store);
            horizon = store.timeline(x.root()).lastLsn() - 5;
            store.probe = s -> {
                if (s.equals(step)) {
                    throw new IOException("injected crash at " + s);
                }
            };
            IOException e = assertThrows(IOException.class, () -> store.collectGarbage(x.root(), horizon));
            assertTrue(e.getMessage().contains("injected"), e.getMessage());
            assertEquals(13, layerFiles().size(), "the crash left both the inputs and the output");
        } finally {
            store.crash();
        }
        // A temporary file a crash mid-write would leave behind.
        Files.write(dir.resolve("layers").resolve("leftover.delta.tmp"), new byte[100]);
        try (PageStore again = PageStore.open(dir, OPTIONS)) {
            assertReadsSame(again, x);
            assertEquals(horizon, again.timeline(x.root()).gcHorizon(), "the horizon was durable before the merge");
            assertThrows(IllegalArgumentException.class, () -> again.timeline(x.root()).at(horizon - 1));
            int expectedFiles = step.equals("swapped") ? 1 : 12;
            assertEquals(expectedFiles, layerFiles().size(), "unlisted files are deleted: " + layerFiles());
            // the interrupted merge can simply run again
            GcResult result = again.collectGarbage(x.root(), horizon);
            assertEquals(1, result.layerFilesAfter());
            assertReadsSame(again, x);
        }
        try (PageStore again = PageStore.open(dir, OPTIONS)) {
            assertReadsSame(again, x);
            assertEquals(1, layerFiles().size());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {40, 90, 160})
    void aProcessKilledWithSigkillDuringGcAndMergesLosesNothingItSynced(int syncs) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "--enable-native-access=ALL-UNNAMED", CrashWriter.class.getName(), dir.toString(), "gc")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String[] ids = null;
        int[] synced = {-1, -1};
        int lines = 0;
        int collections = 0;
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String line;
            while ((line = out.readLine()) != null && System.nanoTime() < deadline) {
                String[] w = line.split(" ");
                if (w[0].equals("timelines")) {
                    ids = w;
                } else if (w[0].equals("collected")) {
                    collections++;
                } else if (w[0].equals("synced")) {
                    synced[Integer.parseInt(w[1])] = Integer.parseInt(w[2]);
                    if (++lines >= syncs && collections > 0) {
                        break; // kill it mid-flight, once GC is under way
                    }
                }
            }
        } finally {
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        assertTrue(ids != null && synced[0] > 0 && synced[1] > 0, "writer made progress");
        assertTrue(collections > 0, "GCs dropped versions before the kill");
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            long file = Long.parseLong(ids[3]);
            for (int k = 0; k < 2; k++) {
                Timeline t = store.timeline(TimelineId.parse(ids[1 + k]));
                assertTrue(t.gcHorizon() <= t.lastLsn());
                t.at(Math.max(t.gcHorizon(), t.ancestor().map(Ancestor::lsn).orElse(1L)));
                for (int n = 0; n <= synced[k]; n++) {
                    ByteBuffer b = ByteBuffer.allocate(PAGE);
                    assertEquals(PAGE, t.read(file, (long) n * PAGE, b), "timeline " + k + " page " + n);
                    assertTrue(Arrays.equals(CrashWriter.page(k, n), b.array()),
                            "timeline " + k + " page " + n);
                }
            }
            assertTrue(store.stats().layerFiles() > 0);
        }
    }

    @Test
    void aFlippedByteInAMergedLayerFileIsAnErrorNamingTheFile() throws IOException {
        Fixture x;
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            x = build(store);
            store.collectGarbage(x.root(), store.timeline(x.root()).lastLsn());
        }
        List<Path> files = layerFiles();
        assertEquals(1, files.size());
        Path merged = files.getFirst();
        try (FileChannel c = FileChannel.open(merged, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            long offset = LayerFormat.HEADER_LENGTH + 3 * 1024;
            c.read(b, offset);
            b.put(0, (byte) ~b.get(0));
            b.flip();
            c.write(b, offset);
        }
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            IOException e = assertThrows(IOException.class, () -> {
                Snapshots.of(store.timeline(x.root()));
                Snapshots.of(store.timeline(x.child()));
            });
            assertTrue(e.getMessage().contains(merged.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        }
    }

    @Test
    void aMergeRefusesToCopyADamagedValue() throws IOException {
        Fixture x;
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            x = build(store);
        }
        Path damaged = layerFiles().get(3);
        try (FileChannel c = FileChannel.open(damaged, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            c.read(b, LayerFormat.HEADER_LENGTH + 10);
            b.put(0, (byte) ~b.get(0));
            b.flip();
            c.write(b, LayerFormat.HEADER_LENGTH + 10);
        }
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            IOException e = assertThrows(IOException.class, () -> store.collectGarbage(x.root(), 0));
            assertTrue(e.getMessage().contains(damaged.toString()), e.getMessage());
            assertEquals(13, store.stats().layerFiles() + 1, "nothing swapped");
        }
        assertEquals(12, layerFiles().size(), "the inputs stay, no output is left");
    }

    @Test
    void aVersionOneManifestOpensWithHorizonZero() throws IOException {
        Fixture x;
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            x = build(store);
        }
        Manifest m = Manifest.read(dir, OsDisk.INSTANCE);
        Files.write(dir.resolve(Manifest.FILE), encodeVersion1(m));
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            assertReadsSame(store, x);
            assertEquals(0, store.timeline(x.root()).gcHorizon());
            store.collectGarbage(x.root(), x.branchPoint() + 3);
        }
        assertEquals(Manifest.VERSION, ByteBuffer.wrap(Files.readAllBytes(dir.resolve(Manifest.FILE))).getInt(8));
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            assertEquals(x.branchPoint() + 3, store.timeline(x.root()).gcHorizon());
            assertReadsSame(store, x);
        }
    }

    /** The manifest as format version 1 wrote it (no horizon). */
    private static byte[] encodeVersion1(Manifest m) {
        List<byte[]> parts = new ArrayList<>();
        int length = 12;
        for (Manifest.TimelineEntry t : m.timelines()) {
            length += 8 * 2 + 1 + 8 * 3 + 8 + 4 + t.layers().size() * 16;
        }
        ByteBuffer b = ByteBuffer.allocate(20 + length);
        b.putLong(Manifest.MAGIC).putInt(1).putInt(length).putInt(0);
        b.putLong(m.nextLayerId()).putInt(m.timelines().size());
        for (Manifest.TimelineEntry t : m.timelines()) {
            b.putLong(t.id().high()).putLong(t.id().low());
            if (t.ancestor() == null) {
                b.put((byte) 0).putLong(0).putLong(0).putLong(0);
            } else {
                b.put((byte) 1).putLong(t.ancestor().timeline().high()).putLong(t.ancestor().timeline().low())
                        .putLong(t.ancestor().lsn());
            }
            b.putLong(t.diskConsistentLsn()).putInt(t.layers().size());
            for (Manifest.LayerEntry l : t.layers()) {
                b.putLong(l.id()).putLong(l.size());
            }
        }
        b.putInt(16, LayerFormat.crc(b.array(), 20, length));
        parts.add(b.array());
        return parts.getFirst();
    }
}

package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CrashRecoveryTest {

    @TempDir
    Path dir;

    private static final StoreOptions OPTIONS = new StoreOptions(64 * 1024, 1 << 20, true);

    private static byte[] data(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String read(Namespace ns, long inode) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1 << 16);
        int n = ns.read(inode, 0, b);
        return new String(b.array(), 0, n, StandardCharsets.UTF_8);
    }

    private static List<Path> files(Path directory, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(directory)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

    private static void chop(Path file, long bytes) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            c.truncate(c.size() - bytes);
        }
    }

    @Test
    void tornIngestLogTailIsCutAndEverythingBeforeItSurvives() throws IOException {
        LayeredStore store = (LayeredStore) PageStore.open(dir, OPTIONS);
        TimelineId id = store.createRootTimeline(0, 0);
        Timeline t = store.timeline(id);
        long a = t.create(Namespace.ROOT_INODE, "a", InodeKind.FILE, 0600, 0, 0);
        t.write(a, 0, ByteBuffer.wrap(data("first")));
        t.sync();
        long b = t.create(Namespace.ROOT_INODE, "b", InodeKind.FILE, 0600, 0, 0);
        t.sync();
        store.crash();
        Path segment = files(dir.resolve("wal"), ".log").getLast();
        chop(segment, 3); // tears the record that created "b"

        store = (LayeredStore) PageStore.open(dir, OPTIONS);
        t = store.timeline(id);
        assertEquals("first", read(t, a));
        assertEquals(Namespace.NO_INODE, t.lookup(Namespace.ROOT_INODE, "b"));
        long c = t.create(Namespace.ROOT_INODE, "c", InodeKind.FILE, 0600, 0, 0);
        assertEquals(b, c, "the torn mutation never happened: its inode number is free again");
        t.write(c, 0, ByteBuffer.wrap(data("after the cut")));
        t.sync();
        store.crash();

        // Garbage after valid records (a torn append of random bytes) is cut as well.
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.wrap(new byte[] {0, 0, 0, 100, 1, 2, 3, 4, 5, 6, 7}));
        }
        try (PageStore reopened = PageStore.open(dir, OPTIONS)) {
            Timeline r = reopened.timeline(id);
            assertEquals("first", read(r, a));
            assertEquals("after the cut", read(r, c));
        }
    }

    @Test
    void flippedByteInALayerIsAnErrorNamingFileAndOffsetNeverAWrongPage() throws IOException {
        TimelineId id;
        long f;
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            id = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(id);
            f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            byte[] page = new byte[Namespace.PAGE_SIZE];
            new java.util.Random(1).nextBytes(page);
            t.write(f, 0, ByteBuffer.wrap(page));
        }
        Path layer = files(dir.resolve("layers"), ".delta").getFirst();
        byte[] bytes = Files.readAllBytes(layer);
        // The random 8 KB page is stored raw and makes up most of the file: its middle is in it.
        bytes[bytes.length / 2] ^= 1;
        Files.write(layer, bytes);
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            Timeline t = store.timeline(id);
            long inode = f;
            IOException e = assertThrows(IOException.class, () -> read(t, inode));
            assertFalse(e instanceof NamespaceException);
            assertTrue(e.getMessage().contains(layer.toString()), e.getMessage());
            assertTrue(e.getMessage().matches(".*at offset \\d+.*"), e.getMessage());
        }
    }

    @Test
    void layerListedInTheManifestButMissingQuarantinesItsTimelineNamingIt() throws IOException {
        TimelineId id;
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            id = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(id);
            t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
        }
        Path layer = files(dir.resolve("layers"), ".delta").getFirst();
        Files.delete(layer);
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            String reason = store.quarantined().get(id);
            assertTrue(reason != null && reason.contains(layer.toString()) && reason.contains("missing"), String.valueOf(reason));
            assertThrows(QuarantinedTimelineException.class, () -> store.timeline(id));
            TimelineId other = store.createRootTimeline(0, 0); // the store itself goes on
            store.timeline(other).create(Namespace.ROOT_INODE, "g", InodeKind.FILE, 0600, 0, 0);
        }
    }

    @Test
    void damagedLayerHeaderQuarantinesItsTimelineAndDescendantsNamingFileAndOffsetAndKeepsTheFile() throws IOException {
        TimelineId id;
        TimelineId child;
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            id = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(id);
            t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            child = store.createBranch(id, t.lastLsn());
        }
        Path layer = files(dir.resolve("layers"), ".delta").getFirst();
        try (FileChannel c = FileChannel.open(layer, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(new byte[] {42}), 40);
        }
        byte[] damaged = Files.readAllBytes(layer);
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            String reason = store.quarantined().get(id);
            assertTrue(reason != null && reason.contains(layer.toString()) && reason.contains("offset"), String.valueOf(reason));
            assertTrue(store.quarantined().containsKey(child), "the child reads through it");
            assertThrows(IllegalStateException.class, () -> store.deleteTimeline(id), "it has a (quarantined) child");
        }
        assertArrayEquals(damaged, Files.readAllBytes(layer), "the damaged file stays as it was");
    }

    @Test
    void halfWrittenAndUnlistedLayerFilesAreRemovedOnOpen() throws IOException {
        TimelineId id;
        long f;
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            id = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(id);
            f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            t.write(f, 0, ByteBuffer.wrap(data("kept")));
        }
        Path layers = dir.resolve("layers");
        Path listed = files(layers, ".delta").getFirst();
        Path tmp = layers.resolve(Manifest.layerFileName(id, 99) + ".tmp");
        Files.write(tmp, new byte[] {1, 2, 3});
        Path unlisted = layers.resolve(Manifest.layerFileName(id, 98));
        Files.copy(listed, unlisted);
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            assertFalse(Files.exists(tmp));
            assertFalse(Files.exists(unlisted));
            assertEquals("kept", read(store.timeline(id), f));
        }
    }

    @Test
    void corruptManifestIsAnErrorNotAnEmptyStore() throws IOException {
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            store.createRootTimeline(0, 0);
        }
        Path manifest = dir.resolve("manifest");
        byte[] bytes = Files.readAllBytes(manifest);
        bytes[bytes.length - 1] ^= 1;
        Files.write(manifest, bytes);
        IOException e = assertThrows(IOException.class, () -> PageStore.open(dir, OPTIONS));
        assertTrue(e.getMessage().contains("manifest") && e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void aWriterKilledWithSigkillLosesNothingItSynced() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "--enable-native-access=ALL-UNNAMED", CrashWriter.class.getName(), dir.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String[] ids = null;
        int[] synced = {-1, -1};
        int lines = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String line;
            while ((line = out.readLine()) != null && System.nanoTime() < deadline) {
                String[] w = line.split(" ");
                if (w[0].equals("timelines")) {
                    ids = w;
                } else if (w[0].equals("synced")) {
                    synced[Integer.parseInt(w[1])] = Integer.parseInt(w[2]);
                    if (++lines == 150) {
                        break; // enough writes, several layer flushes: kill it mid-flight
                    }
                }
            }
        } finally {
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        assertTrue(ids != null && synced[0] > 0 && synced[1] > 0, "writer made progress");
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            long file = Long.parseLong(ids[3]);
            for (int k = 0; k < 2; k++) {
                Timeline t = store.timeline(TimelineId.parse(ids[1 + k]));
                for (int n = 0; n <= synced[k]; n++) {
                    ByteBuffer b = ByteBuffer.allocate(Namespace.PAGE_SIZE);
                    assertEquals(Namespace.PAGE_SIZE, t.read(file, (long) n * Namespace.PAGE_SIZE, b),
                            "timeline " + k + " page " + n);
                    assertArrayEquals(CrashWriter.page(k, n), b.array(), "timeline " + k + " page " + n);
                }
            }
        }
    }
}

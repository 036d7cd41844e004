package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PageStoreTest {

    @TempDir
    Path dir;

    private static final StoreOptions SMALL = StoreOptions.defaults().withInMemoryLayerBytes(64 * 1024)
            .withPageCacheBytes(1 << 20);

    static byte[] bytes(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed * 31 + i * 7 + 1);
        }
        return b;
    }

    static byte[] read(Namespace ns, long inode, long offset, int length) throws IOException {
        ByteBuffer dst = ByteBuffer.allocate(length);
        int n = ns.read(inode, offset, dst);
        byte[] out = new byte[n];
        dst.flip().get(out);
        return out;
    }

    @Test
    void newRootTimelineHasAnEmptyRootOwnedByTheCaller() throws IOException {
        try (PageStore store = PageStore.open(dir, SMALL)) {
            TimelineId id = store.createRootTimeline(26, 27);
            Timeline t = store.timeline(id);
            InodeAttributes root = t.attributes(Namespace.ROOT_INODE).orElseThrow();
            assertEquals(InodeKind.DIRECTORY, root.kind());
            assertEquals(0700, root.mode());
            assertEquals(26, root.uid());
            assertEquals(27, root.gid());
            assertEquals(List.of(), t.list(Namespace.ROOT_INODE));
            assertTrue(t.ancestor().isEmpty());
        }
    }

    @Test
    void writtenBytesReadBackAcrossPagesAndReopen() throws IOException {
        TimelineId id;
        byte[] data = bytes(3 * 8192 + 100, 5);
        long inode;
        try (PageStore store = PageStore.open(dir, SMALL)) {
            id = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(id);
            long base = t.create(Namespace.ROOT_INODE, "base", InodeKind.DIRECTORY, 0700, 0, 0);
            inode = t.create(base, "16384", InodeKind.FILE, 0600, 0, 0);
            t.write(inode, 1000, ByteBuffer.wrap(data));
            t.sync();
            assertArrayEquals(data, read(t, inode, 1000, data.length));
            assertArrayEquals(new byte[1000], read(t, inode, 0, 1000));
            assertEquals(1000 + data.length, t.attributes(inode).orElseThrow().size());
        }
        try (PageStore store = PageStore.open(dir, SMALL)) {
            Timeline t = store.timeline(id);
            assertArrayEquals(data, read(t, inode, 1000, data.length));
            long base = t.lookup(Namespace.ROOT_INODE, "base");
            assertEquals(inode, t.lookup(base, "16384"));
        }
    }

    @Test
    void syncedWritesSurviveReopenWithoutFlushAndLayersAfterFlush() throws IOException {
        TimelineId id;
        long inode;
        try (PageStore store = PageStore.open(dir, SMALL)) {
            id = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(id);
            inode = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            for (int i = 0; i < 40; i++) {
                t.write(inode, (long) i * 8192, ByteBuffer.wrap(bytes(8192, i)));
            }
            t.sync();
            store.flush();
            assertTrue(store.stats().layerFiles() > 0);
        }
        try (PageStore store = PageStore.open(dir, SMALL)) {
            Timeline t = store.timeline(id);
            for (int i = 0; i < 40; i++) {
                assertArrayEquals(bytes(8192, i), read(t, inode, (long) i * 8192, 8192), "page " + i);
            }
        }
    }

    @Test
    void branchSeesParentAtBranchPointAndDivergesIndependently() throws IOException {
        try (PageStore store = PageStore.open(dir, SMALL)) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline parent = store.timeline(root);
            long f = parent.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            parent.write(f, 0, ByteBuffer.wrap("parent-1".getBytes(StandardCharsets.UTF_8)));
            long branchPoint = parent.lastLsn();
            parent.write(f, 0, ByteBuffer.wrap("parent-2".getBytes(StandardCharsets.UTF_8)));

            TimelineId childId = store.createBranch(root, branchPoint);
            Timeline child = store.timeline(childId);
            assertEquals(Optional.of(new Ancestor(root, branchPoint)), child.ancestor());
            assertEquals(branchPoint, child.lastLsn());
            assertEquals("parent-1", new String(read(child, f, 0, 100), StandardCharsets.UTF_8));
            child.write(f, 0, ByteBuffer.wrap("child--1".getBytes(StandardCharsets.UTF_8)));
            long g = child.create(Namespace.ROOT_INODE, "g", InodeKind.FILE, 0600, 0, 0);
            assertNotEquals(f, g);
            assertEquals("child--1", new String(read(child, f, 0, 100), StandardCharsets.UTF_8));
            assertEquals("parent-2", new String(read(parent, f, 0, 100), StandardCharsets.UTF_8));
            assertEquals(Namespace.NO_INODE, parent.lookup(Namespace.ROOT_INODE, "g"));
            assertEquals("parent-1", new String(read(parent.at(branchPoint), f, 0, 100), StandardCharsets.UTF_8));
            assertThrows(IllegalStateException.class, () -> store.deleteTimeline(root));
            store.deleteTimeline(childId);
            assertThrows(NoSuchTimelineException.class, () -> store.timeline(childId));
        }
    }

    @Test
    void truncatedThenExtendedFileReadsZeros() throws IOException {
        try (PageStore store = PageStore.open(dir, SMALL)) {
            Timeline t = store.timeline(store.createRootTimeline(0, 0));
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            byte[] data = bytes(5 * 8192, 9);
            t.write(f, 0, ByteBuffer.wrap(data));
            long full = t.lastLsn();
            t.truncate(f, 8192 + 10);
            t.truncate(f, 5 * 8192);
            byte[] expected = new byte[5 * 8192];
            System.arraycopy(data, 0, expected, 0, 8192 + 10);
            assertArrayEquals(expected, read(t, f, 0, 5 * 8192));
            assertArrayEquals(data, read(t.at(full), f, 0, 5 * 8192));
            t.truncate(f, 100);
            t.write(f, 3 * 8192, ByteBuffer.wrap(new byte[] {1}));
            byte[] expected2 = new byte[3 * 8192 + 1];
            System.arraycopy(data, 0, expected2, 0, 100);
            expected2[3 * 8192] = 1;
            assertArrayEquals(expected2, read(t, f, 0, 10 * 8192));
        }
    }

    @Test
    void namespaceErrorsCarryTheirReason() throws IOException {
        try (PageStore store = PageStore.open(dir, SMALL)) {
            Timeline t = store.timeline(store.createRootTimeline(0, 0));
            long d = t.create(Namespace.ROOT_INODE, "d", InodeKind.DIRECTORY, 0700, 0, 0);
            t.create(d, "x", InodeKind.FILE, 0600, 0, 0);
            assertEquals(NamespaceException.Reason.EXISTS, assertThrows(NamespaceException.class,
                    () -> t.create(Namespace.ROOT_INODE, "d", InodeKind.FILE, 0600, 0, 0)).reason());
            assertEquals(NamespaceException.Reason.NOT_EMPTY, assertThrows(NamespaceException.class,
                    () -> t.removeDirectory(Namespace.ROOT_INODE, "d")).reason());
            assertEquals(NamespaceException.Reason.INVALID_NAME, assertThrows(NamespaceException.class,
                    () -> t.create(Namespace.ROOT_INODE, "../x", InodeKind.FILE, 0600, 0, 0)).reason());
            assertEquals(NamespaceException.Reason.INVALID_ARGUMENT, assertThrows(NamespaceException.class,
                    () -> t.rename(Namespace.ROOT_INODE, "d", d, "inside")).reason());
            assertEquals(NamespaceException.Reason.IS_A_DIRECTORY, assertThrows(NamespaceException.class,
                    () -> t.unlink(Namespace.ROOT_INODE, "d")).reason());
            assertEquals(NamespaceException.Reason.NOT_FOUND, assertThrows(NamespaceException.class,
                    () -> t.unlink(Namespace.ROOT_INODE, "nope")).reason());
        }
    }

    @Test
    void explicitMarksMapTimesToLsnsAcrossReopen() throws IOException {
        TimelineId id;
        long lsn;
        Instant when = Instant.parse("2030-01-01T00:00:00Z");
        try (PageStore store = PageStore.open(dir, SMALL)) {
            id = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(id);
            t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            t.mark(when, "0/16B3748");
            lsn = t.lastLsn();
            t.create(Namespace.ROOT_INODE, "g", InodeKind.FILE, 0600, 0, 0);
        }
        try (PageStore store = PageStore.open(dir, SMALL)) {
            Timeline t = store.timeline(id);
            assertEquals(lsn, t.lsnAt(when.plusSeconds(1)).orElseThrow());
            assertTrue(t.marks().stream().anyMatch(m -> "0/16B3748".equals(m.walPosition())));
        }
    }

    @Test
    void allZeroPagesAreStoredAsTombstonesAndReadAsZeros() throws IOException {
        try (PageStore store = PageStore.open(dir, SMALL)) {
            Timeline t = store.timeline(store.createRootTimeline(0, 0));
            long f = t.create(Namespace.ROOT_INODE, "000000010000000000000001", InodeKind.FILE, 0600, 0, 0);
            t.write(f, 0, ByteBuffer.wrap(bytes(8192, 3)));
            long before = t.lastLsn();
            t.write(f, 0, ByteBuffer.wrap(new byte[64 * 8192])); // WAL segment initialisation
            store.flush();
            long layerBytes = store.stats().layerBytes();
            assertTrue(layerBytes < 16 * 8192, "64 zero pages took " + layerBytes + " bytes of layers");
            assertArrayEquals(new byte[64 * 8192], read(t, f, 0, 64 * 8192));
            assertArrayEquals(bytes(8192, 3), read(t.at(before), f, 0, 8192));
        }
    }
}

package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GarbageCollectionTest {

    private static final int PAGE = Namespace.PAGE_SIZE;
    /** Small layers, no background merges unless a test asks for them. */
    private static final StoreOptions OPTIONS = new StoreOptions(256 * 1024, 4 << 20, false, 1000);

    @TempDir
    Path dir;

    static byte[] random(Random r, int length) {
        byte[] b = new byte[length];
        r.nextBytes(b);
        return b;
    }

    static void writeRandom(Timeline t, long inode, long bytes, Random r) throws IOException {
        for (long off = 0; off < bytes; off += 64 * PAGE) {
            int n = (int) Math.min(64 * PAGE, bytes - off);
            t.write(inode, off, ByteBuffer.wrap(random(r, n)));
        }
    }

    @Test
    void anUnlinkedFileIsReclaimedOnceNoBranchPointSeesIt() throws IOException {
        Random r = new Random(1);
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long doomed = t.create(Namespace.ROOT_INODE, "doomed", InodeKind.FILE, 0600, 0, 0);
            long shrunk = t.create(Namespace.ROOT_INODE, "shrunk", InodeKind.FILE, 0600, 0, 0);
            long kept = t.create(Namespace.ROOT_INODE, "kept", InodeKind.FILE, 0600, 0, 0);
            writeRandom(t, doomed, 2L << 20, r);
            writeRandom(t, shrunk, 1L << 20, r);
            writeRandom(t, kept, 256 * 1024, r);
            TimelineId child = store.createBranch(root, t.lastLsn());
            Map<String, String> childView = Snapshots.of(store.timeline(child));
            t.unlink(Namespace.ROOT_INODE, "doomed");
            t.truncate(shrunk, 0);
            Map<String, String> rootView = Snapshots.of(t);
            store.flush();

            GcResult first = store.collectGarbage(root, t.lastLsn());
            assertEquals(t.lastLsn(), first.horizonLsn());
            assertEquals(1, first.layerFilesAfter());
            long reclaimed = first.bytesBefore() - first.bytesAfter();
            assertTrue(reclaimed < 512 * 1024, "the child's branch point still holds the unlinked file and the "
                    + "truncated pages (" + reclaimed + " bytes freed)");
            assertEquals(childView, Snapshots.of(store.timeline(child)), "the child reads what it read");
            assertEquals(rootView, Snapshots.of(t));

            store.deleteTimeline(child);
            GcResult second = store.collectGarbage(root, t.lastLsn());
            long freed = second.bytesBefore() - second.bytesAfter();
            assertTrue(freed >= 3L << 20, "the unlinked and the truncated file's pages are freed: " + freed);
            assertTrue(second.versionsDropped() >= 384, "versions dropped: " + second.versionsDropped());
            assertEquals(rootView, Snapshots.of(t));
            assertEquals(rootView, Snapshots.of(t.at(t.gcHorizon())));
        }
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            Timeline t = store.timeline(store.timelines().iterator().next());
            assertEquals(t.lastLsn(), t.gcHorizon(), "the horizon is durable");
            assertEquals(List.of("kept", "shrunk"),
                    t.list(Namespace.ROOT_INODE).stream().map(DirectoryEntry::name).toList());
        }
    }

    @Test
    void aChildBranchedBeforeAnUnlinkKeepsReadingItThroughGc() throws IOException {
        Random r = new Random(2);
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "table", InodeKind.FILE, 0600, 0, 0);
            writeRandom(t, f, 1L << 20, r);
            long branchPoint = t.lastLsn();
            TimelineId child = store.createBranch(root, branchPoint);
            Map<String, String> expected = Snapshots.of(store.timeline(child));
            // the parent keeps rewriting and then drops the table
            writeRandom(t, f, 1L << 20, r);
            writeRandom(t, f, 1L << 20, r);
            t.unlink(Namespace.ROOT_INODE, "table");
            store.flush();
            store.collectGarbage(root, t.lastLsn());
            assertEquals(expected, Snapshots.of(store.timeline(child)));
            // a second branch at the retained point is allowed, any other old point is not
            TimelineId twin = store.createBranch(root, branchPoint);
            assertEquals(expected, Snapshots.of(store.timeline(twin)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> store.createBranch(root, branchPoint + 1));
            assertTrue(e.getMessage().contains("below the GC horizon"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t.at(branchPoint));
            assertThrows(IllegalArgumentException.class, () -> t.at(t.gcHorizon() - 1));
            t.at(t.gcHorizon());
        }
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            for (TimelineId id : store.timelines()) {
                if (store.ancestor(id).isPresent()) {
                    assertEquals(1L << 20, store.timeline(id).attributes(
                            store.timeline(id).lookup(Namespace.ROOT_INODE, "table")).orElseThrow().size());
                }
            }
        }
    }

    @Test
    void deletingAChildLetsTheNextGcOfTheParentFreeWhatOnlyItsBranchPointHeld() throws IOException {
        Random r = new Random(12);
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            writeRandom(t, f, 2L << 20, r);
            TimelineId child = store.createBranch(root, t.lastLsn());
            Map<String, String> childView = Snapshots.of(store.timeline(child));
            writeRandom(t, f, 2L << 20, r); // the parent overwrites every page after the branch point
            store.flush();
            GcResult held = store.collectGarbage(root, t.lastLsn());
            assertTrue(held.bytesAfter() > 4L << 20, "both generations are kept: " + held.bytesAfter());
            assertEquals(childView, Snapshots.of(store.timeline(child)));
            store.deleteTimeline(child);
            GcResult freed = store.collectGarbage(root, t.lastLsn());
            assertTrue(freed.bytesAfter() < (2L << 20) + (256 << 10), "the old generation is freed: "
                    + freed.bytesAfter());
            assertTrue(freed.versionsDropped() >= 256, "dropped " + freed.versionsDropped());
        }
    }

    @Test
    void aBranchKeepsTheTombstonesThatHideItsParentsPagesAndFiles() throws IOException {
        Random r = new Random(16);
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            long g = t.create(Namespace.ROOT_INODE, "g", InodeKind.FILE, 0600, 0, 0);
            writeRandom(t, f, 4 * PAGE, r);
            writeRandom(t, g, PAGE, r);
            TimelineId child = store.createBranch(root, t.lastLsn());
            Timeline c = store.timeline(child);
            c.truncate(f, 0);
            c.write(f, 3L * PAGE, ByteBuffer.wrap(random(r, PAGE))); // pages 0..2 read as zeros again
            c.unlink(Namespace.ROOT_INODE, "g");
            for (int i = 0; i < 5; i++) {
                c.setAttributes(f, 0640 + i, null, null, null); // history above the tombstones
            }
            store.flush();
            Map<String, String> before = Snapshots.of(c);
            store.collectGarbage(child, c.lastLsn());
            assertEquals(before, Snapshots.of(c));
            ByteBuffer b = ByteBuffer.allocate(3 * PAGE);
            c.read(f, 0, b);
            assertTrue(Arrays.equals(new byte[3 * PAGE], b.array()), "the parent's old pages stay hidden");
            assertTrue(c.attributes(g).isEmpty(), "the unlinked inherited file stays gone");
        }
    }

    @Test
    void aViewTakenBeforeGcRefusesToReadBelowTheNewHorizon() throws IOException {
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            t.write(f, 0, ByteBuffer.wrap(new byte[]{1}));
            Namespace old = t.at(t.lastLsn());
            t.write(f, 0, ByteBuffer.wrap(new byte[]{2}));
            store.collectGarbage(root, t.lastLsn());
            IOException e = assertThrows(IOException.class, () -> old.read(f, 0, ByteBuffer.allocate(1)));
            assertTrue(e.getMessage().contains("GC horizon"), e.getMessage());
        }
    }

    @Test
    void horizonAboveTheLastLsnIsRefusedAndALowerOneChangesNothing() throws IOException {
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            for (int i = 0; i < 10; i++) {
                t.create(Namespace.ROOT_INODE, "f" + i, InodeKind.FILE, 0600, 0, 0);
            }
            assertThrows(IllegalArgumentException.class, () -> store.collectGarbage(root, t.lastLsn() + 1));
            assertEquals(6, store.collectGarbage(root, 6).horizonLsn());
            assertEquals(6, store.collectGarbage(root, 3).horizonLsn(), "the horizon never moves back");
            assertEquals(6, t.gcHorizon());
            // a branch's horizon at or below its branch point is a no-op
            TimelineId child = store.createBranch(root, 8);
            assertEquals(0, store.collectGarbage(child, 8).horizonLsn());
            // the child cannot reach below its parent's horizon through its own history either
            Timeline c = store.timeline(child);
            assertThrows(IllegalArgumentException.class, () -> c.at(5));
            c.at(7);
        }
    }

    @Test
    void lsnAtNeverAnswersBelowTheHorizon() throws IOException {
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            Instant early = Instant.parse("2026-01-01T00:00:00Z");
            t.create(Namespace.ROOT_INODE, "a", InodeKind.FILE, 0600, 0, 0);
            t.mark(early, null);
            long atEarly = t.lastLsn();
            for (int i = 0; i < 5; i++) {
                t.create(Namespace.ROOT_INODE, "b" + i, InodeKind.FILE, 0600, 0, 0);
            }
            t.mark(early.plusSeconds(60), null);
            assertEquals(atEarly, t.lsnAt(early.plusSeconds(1)).orElseThrow());
            store.collectGarbage(root, atEarly + 2);
            assertTrue(t.lsnAt(early.plusSeconds(1)).isEmpty());
            assertEquals(t.lastLsn(), t.lsnAt(early.plusSeconds(61)).orElseThrow());
            assertTrue(t.marks().stream().allMatch(m -> m.lsn() >= atEarly), "older marks are hidden");
        }
    }

    @Test
    void fortyLayerFilesCompactIntoOneAndReadTheSame() throws IOException {
        Random r = new Random(3);
        List<Long> lsns = new ArrayList<>();
        List<Map<String, String>> views = new ArrayList<>();
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            long g = t.create(Namespace.ROOT_INODE, "g", InodeKind.FILE, 0600, 0, 0);
            for (int i = 0; i < 40; i++) {
                for (int p = 0; p < 8; p++) {
                    int block = r.nextInt(64);
                    t.write(r.nextBoolean() ? f : g, (long) block * PAGE + r.nextInt(100), ByteBuffer.wrap(random(r, 3000)));
                }
                if (i % 7 == 3) {
                    t.truncate(g, r.nextInt(64 * PAGE));
                }
                store.flush();
                lsns.add(t.lastLsn());
                views.add(Snapshots.of(t));
            }
            assertEquals(40, store.stats().layerFiles());
            GcResult result = store.collectGarbage(root, 0);
            assertEquals(40, result.layerFilesBefore());
            assertEquals(1, result.layerFilesAfter());
            assertEquals(0, result.versionsDropped(), "no horizon: nothing dropped");
            assertEquals(1, store.stats().layerFiles());
            for (int i = 0; i < lsns.size(); i++) {
                assertEquals(views.get(i), Snapshots.of(t.at(lsns.get(i))), "at " + lsns.get(i));
            }
            long before = Files.list(dir.resolve("layers")).count();
            assertEquals(1, before, "merged-away files are unlinked");
        }
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            Timeline t = store.timeline(store.timelines().iterator().next());
            for (int i = 0; i < lsns.size(); i++) {
                assertEquals(views.get(i), Snapshots.of(t.at(lsns.get(i))), "after restart at " + lsns.get(i));
            }
        }
    }

    @Test
    void theBackgroundCompactorLeavesALargeOldFileAloneAndMergesTheNewOnes() throws Exception {
        Random r = new Random(10);
        StoreOptions options = OPTIONS.withCompactionThreshold(4);
        try (PageStore store = PageStore.open(dir, options)) {
            TimelineId root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            writeRandom(t, f, 4L << 20, r);
            store.flush();
            store.collectGarbage(root, 0);
            long base = store.stats().layerBytes();
            assertEquals(1, store.stats().layerFiles());
            long compactions = store.stats().compactions();
            long written = store.stats().compactionBytesWritten();
            for (int i = 0; i < 3; i++) { // with the base: 4 files, the threshold
                t.write(f, (long) r.nextInt(512) * PAGE, ByteBuffer.wrap(random(r, PAGE)));
                store.flush();
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (store.stats().compactions() < compactions + 1 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(2, store.stats().layerFiles(), "the 4 MB base and one merge of the 3 new files");
            long merged = store.stats().compactionBytesWritten() - written;
            assertTrue(merged < base / 4, "the base was not rewritten: " + merged + " bytes merged");
        }
    }

    @Test
    void theBackgroundCompactorKeepsTheFileCountBelowItsThreshold() throws Exception {
        Random r = new Random(4);
        StoreOptions options = OPTIONS.withCompactionThreshold(4);
        Map<String, String> view;
        TimelineId root;
        try (PageStore store = PageStore.open(dir, options)) {
            root = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(root);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            for (int i = 0; i < 20; i++) {
                t.write(f, (long) r.nextInt(32) * PAGE, ByteBuffer.wrap(random(r, PAGE)));
                store.flush();
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (store.stats().layerFiles() >= 4 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(store.stats().layerFiles() < 4, "files: " + store.stats().layerFiles());
            assertTrue(store.stats().compactions() >= 1);
            view = Snapshots.of(t);
        }
        try (PageStore again = PageStore.open(dir, options)) {
            assertEquals(view, Snapshots.of(again.timeline(root)));
            assertFalse(again.timeline(root).list(Namespace.ROOT_INODE).isEmpty());
        }
    }
}

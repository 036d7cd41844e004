package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 11, defects 6 and 9: LSNs that only grow along a branch; marks searched, thinned and bounded. */
class LsnFloorAndMarksTest {

    private static final StoreOptions OPTIONS = new StoreOptions(64 * 1024, 1 << 20, true);

    @TempDir
    Path dir;

    private static byte[] bytes(String s) {
        byte[] b = new byte[100];
        System.arraycopy(s.getBytes(), 0, b, 0, s.length());
        return b;
    }

    @Test
    void aBranchWithAFloorWritesAboveItReadsTheBranchPointBelowItAndKeepsItAcrossRestarts() throws IOException {
        TimelineId root;
        TimelineId child;
        long f;
        long branchLsn;
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            root = store.createRootTimeline(0, 0);
            Timeline r = store.timeline(root);
            f = r.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            r.write(f, 0, ByteBuffer.wrap(bytes("parent")));
            branchLsn = r.lastLsn();
            child = store.createBranch(root, branchLsn, branchLsn + 1000);
            Timeline c = store.timeline(child);
            assertEquals(branchLsn + 1000, c.lsnFloor());
            assertEquals(branchLsn + 1000, c.lastLsn(), "an empty timeline's head is its floor");
            c.write(f, 0, ByteBuffer.wrap(bytes("child")));
            assertEquals(branchLsn + 1001, c.lastLsn(), "its own LSNs start above the floor");
            ByteBuffer b = ByteBuffer.allocate(100);
            c.at(branchLsn + 500).read(f, 0, b);
            assertArrayEquals(bytes("parent"), b.array(), "LSNs up to the floor read the branch point");
            assertEquals(branchLsn + 1000, c.firstMarkAtOrAbove(0).orElseThrow().lsn(), "its first mark names the floor");
        }
        try (PageStore store = PageStore.open(dir, OPTIONS)) {
            Timeline c = store.timeline(child);
            assertEquals(branchLsn + 1000, c.lsnFloor(), "the floor is in the manifest");
            assertEquals(branchLsn + 1001, c.lastLsn());
            c.write(f, 0, ByteBuffer.wrap(bytes("again")));
            assertEquals(branchLsn + 1002, c.lastLsn());
        }
    }

    @Test
    void lsnAtFindsTheNewestMarkAtOrBeforeATimeEvenAfterTheClockSteppedBack() {
        MarkIndex index = new MarkIndex();
        Instant t0 = Instant.parse("2026-12-01T00:00:00Z");
        for (int i = 0; i < 1000; i++) {
            index.append(new Timeline.Mark(10L * i, t0.plusSeconds(i), null));
        }
        assertEquals(OptionalLong.of(5000), index.lsnAt(t0.plusSeconds(500).plusMillis(400)));
        assertEquals(OptionalLong.empty(), index.lsnAt(t0.minusSeconds(1)));
        assertEquals(OptionalLong.of(9990), index.lsnAt(t0.plusSeconds(5000)));
        index.append(new Timeline.Mark(10_000, t0.plusSeconds(10), null)); // the clock stepped back
        assertEquals(OptionalLong.of(10_000), index.lsnAt(t0.plusSeconds(10)), "the newest LSN at or before the time");
        assertEquals(OptionalLong.of(90), index.lsnAt(t0.plusSeconds(9)));
        assertEquals(OptionalLong.of(10_000), index.lsnAt(t0.plusSeconds(500)));
        assertEquals(null, index.append(new Timeline.Mark(5, t0.plusSeconds(2000), null)), "an older LSN is refused");
        assertEquals(5010L, index.firstAtOrAbove(5001).orElseThrow().lsn());
    }

    @Test
    void thinningKeepsTheHorizonMarkTheLastHourWholeOneAMinuteOfTheDayAndOneAnHourBefore() {
        MarkIndex index = new MarkIndex();
        Instant now = Instant.parse("2026-12-08T00:00:00Z");
        int week = 7 * 86_400;
        for (int age = week; age >= 0; age -= 1) { // a week of marks, one a second
            long lsn = week - age + 1;
            index.append(new Timeline.Mark(lsn, now.minusSeconds(age), null));
        }
        long horizon = 3_600; // the first hour of the week is below the GC horizon
        List<Timeline.Mark> kept = index.thinned(horizon, now);
        assertEquals(horizon, kept.getFirst().lsn(), "the newest mark at or below the horizon stays");
        int lastHour = 0;
        for (Timeline.Mark m : kept) {
            if (!m.time().isBefore(now.minusSeconds(3_600))) {
                lastHour++;
            }
        }
        assertEquals(3_601, lastHour, "every mark of the last hour");
        assertTrue(kept.size() < 3_601 + 1_440 + 24 * 7 + 10, "bounded: " + kept.size() + " of " + index.size());
        List<Instant> times = new ArrayList<>();
        kept.forEach(m -> times.add(m.time()));
        assertEquals(times.stream().sorted().toList(), times, "still in time order");
        // what lsnAt answers for a time in the thinned part: a mark at most a minute earlier
        MarkIndex thinned = new MarkIndex();
        thinned.replace(kept);
        Instant query = now.minusSeconds(7_200).plusSeconds(17);
        long exact = index.lsnAt(query).getAsLong();
        long coarse = thinned.lsnAt(query).getAsLong();
        assertTrue(coarse <= exact && exact - coarse < 60, "within a minute: " + coarse + " vs " + exact);
    }

    @Test
    void garbageCollectionThinsTheMarksFileAndTheThinnedMarksSurviveARestart() throws Exception {
        TimelineId id;
        int before;
        try (LayeredStore store = LayeredStore.open(dir, OPTIONS)) {
            id = store.createRootTimeline(0, 0);
            TimelineImpl t = (TimelineImpl) store.timeline(id);
            long f = t.create(Namespace.ROOT_INODE, "f", InodeKind.FILE, 0600, 0, 0);
            Instant start = Instant.now();
            for (int i = 0; i < 2_000; i++) {
                t.write(f, 0, ByteBuffer.wrap(bytes("v" + i)));
                t.mark(start.plusSeconds(30L * i), null); // two marks a minute
            }
            before = t.markCount();
            store.collectGarbage(id, t.lastLsn() / 2);
            assertTrue(t.markCount() <= before / 2 + 2, "marks below the horizon go: " + t.markCount() + " of " + before);
            before = t.markCount();
            t.thinMarks(start.plusSeconds(30L * 2_000 + 3 * 86_400)); // as seen three days later
            assertTrue(t.markCount() < 40, "one an hour: " + t.markCount() + " of " + before);
            before = t.markCount();
        }
        try (LayeredStore store = LayeredStore.open(dir, OPTIONS)) {
            assertEquals(before, ((TimelineImpl) store.timeline(id)).markCount(), "the file was rewritten");
        }
    }
}

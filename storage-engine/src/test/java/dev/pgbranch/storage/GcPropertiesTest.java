package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * GC never changes what a reader can still read: random histories over a root and branches
 * (some deleted), with flushes, background merges (a low threshold), GC at random horizons,
 * clean restarts and crashes. Before each GC every readable point is recorded (each live
 * timeline at a sample of LSNs from its new horizon on, and each child at its branch point);
 * after the GC, after later background merges and after every restart each must read the same.
 * The store runs on a {@link FaultyDisk}: a restart may be a simulated power cut (every timeline
 * synced first), which loses the page cache but must lose nothing GC or a merge made durable.
 */
class GcPropertiesTest {

    private static final String[] NAMES = {"a", "b", "c", "d"};
    private static final int PAGE = Namespace.PAGE_SIZE;
    /** Inode numbers a history of at most 70 operations can reach. */
    private static final long MAX_INODE = 80;
    /** 8 KB layers and a merge every 3 files: many flushes and background merges per history. */
    static final StoreOptions OPTIONS = new StoreOptions(PAGE, 64 * 1024, true, 3);
    private static final long SEGMENT = 64 * 1024;

    enum Stop { CLEAN, CRASH, POWER_CUT }

    sealed interface Op permits Create, Write, Truncate, Unlink, Branch, Delete, Flush, Gc, Restart, Verify {
    }

    record Create(int timeline, int name) implements Op {
    }

    record Write(int timeline, int name, int offset, int length, int seed) implements Op {
    }

    record Truncate(int timeline, int name, int size) implements Op {
    }

    record Unlink(int timeline, int name) implements Op {
    }

    record Branch(int timeline, int lsnChoice) implements Op {
    }

    record Delete(int timeline) implements Op {
    }

    record Flush() implements Op {
    }

    record Gc(int timeline, int horizonChoice) implements Op {
    }

    record Restart(Stop how) implements Op {
    }

    record Verify() implements Op {
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Integer> tl = Arbitraries.integers().between(0, 7);
        Arbitrary<Integer> name = Arbitraries.integers().between(0, NAMES.length - 1);
        Arbitrary<Op> op = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Combinators.combine(tl, name).as(Create::new)),
                net.jqwik.api.Tuple.of(10, Combinators.combine(tl, name, Arbitraries.integers().between(0, 5 * PAGE),
                        Arbitraries.integers().between(1, 2 * PAGE + 100), Arbitraries.integers())
                        .as(Write::new)),
                net.jqwik.api.Tuple.of(3, Combinators.combine(tl, name, Arbitraries.integers().between(0, 5 * PAGE))
                        .as(Truncate::new)),
                net.jqwik.api.Tuple.of(2, Combinators.combine(tl, name).as(Unlink::new)),
                net.jqwik.api.Tuple.of(2, Combinators.combine(tl, Arbitraries.integers().between(0, 1000))
                        .as(Branch::new)),
                net.jqwik.api.Tuple.of(1, tl.map(Delete::new)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(new Flush())),
                net.jqwik.api.Tuple.of(3, Combinators.combine(tl, Arbitraries.integers().between(0, 1000))
                        .as(Gc::new)),
                net.jqwik.api.Tuple.of(2, Arbitraries.of(Stop.values()).map(Restart::new)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(new Verify())));
        return op.list().ofMinSize(10).ofMaxSize(70);
    }

    /** What a viewer timeline read at an LSN. */
    record Expectation(TimelineId viewer, long lsn, Map<String, String> view) {
    }

    @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
    void gcNeverChangesWhatAReaderCanStillRead(@ForAll("operations") @Size(max = 70) List<Op> ops,
                                               @ForAll long seed) throws Exception {
        Path dir = Files.createTempDirectory("pgbranch-gc-prop");
        FaultyDisk disk = new FaultyDisk(seed);
        PageStore store = LayeredStore.open(dir, OPTIONS, SEGMENT, disk);
        List<TimelineId> live = new ArrayList<>();
        List<Expectation> expectations = new ArrayList<>();
        try {
            live.add(store.createRootTimeline(0, 0));
            for (Op op : ops) {
                switch (op) {
                    case Flush f -> store.flush();
                    case Verify v -> verify(store, expectations, "after background merges");
                    case Restart r -> {
                        if (r.how() == Stop.CLEAN) {
                            store.close();
                        } else {
                            for (TimelineId id : live) {
                                store.timeline(id).sync(); // a crash or power cut then loses nothing
                            }
                            ((LayeredStore) store).crash();
                            if (r.how() == Stop.POWER_CUT) {
                                disk.powerCut();
                            }
                        }
                        store = LayeredStore.open(dir, OPTIONS, SEGMENT, disk);
                        assertTrue(((LayeredStore) store).quarantined().isEmpty(), "after " + r.how());
                        verify(store, expectations, "after " + r.how());
                    }
                    case Branch b -> {
                        Timeline parent = store.timeline(pick(live, b.timeline()));
                        long floor = floor(store, parent);
                        long lsn = floor + b.lsnChoice() % (parent.lastLsn() - floor + 1);
                        live.add(store.createBranch(parent.id(), lsn));
                    }
                    case Delete d -> {
                        TimelineId id = pick(live, d.timeline());
                        PageStore s = store;
                        boolean leaf = live.stream().noneMatch(o -> isChild(s, o, id));
                        if (leaf && store.ancestor(id).isPresent()) {
                            store.deleteTimeline(id);
                            live.remove(id);
                            expectations.removeIf(e -> e.viewer().equals(id));
                        }
                    }
                    case Gc g -> {
                        Timeline t = store.timeline(pick(live, g.timeline()));
                        long current = t.gcHorizon();
                        long requested = current + g.horizonChoice() % (t.lastLsn() - current + 1);
                        long start = t.ancestor().map(Ancestor::lsn).orElse(1L);
                        long predicted = Math.min(requested, t.lastLsn()) > Math.max(start, current)
                                ? Math.min(requested, t.lastLsn()) : current;
                        expectations.clear();
                        record(store, live, t.id(), predicted, expectations);
                        GcResult result = store.collectGarbage(t.id(), requested);
                        assertEquals(predicted, result.horizonLsn());
                        assertEquals(predicted, t.gcHorizon());
                        verify(store, expectations, "after GC of " + t.id() + " at " + requested);
                        if (predicted > start) {
                            long below = predicted - 1;
                            PageStore s = store;
                            boolean branchPoint = live.stream().anyMatch(o -> isChild(s, o, t.id())
                                    && s.ancestor(o).orElseThrow().lsn() == below);
                            if (!branchPoint) {
                                assertThrows(IllegalArgumentException.class, () -> s.createBranch(t.id(), below));
                            }
                            assertThrows(IllegalArgumentException.class, () -> t.at(below));
                        }
                    }
                    default -> mutate(store.timeline(pick(live, timelineOf(op))), op);
                }
            }
            store.close();
            store = LayeredStore.open(dir, OPTIONS, SEGMENT, disk);
            verify(store, expectations, "after the last restart");
        } finally {
            store.close();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static TimelineId pick(List<TimelineId> live, int index) {
        return live.get(index % live.size());
    }

    private static boolean isChild(PageStore store, TimelineId child, TimelineId parent) {
        return store.ancestor(child).map(a -> a.timeline().equals(parent)).orElse(false);
    }

    /** The lowest LSN of {@code t} one may read or branch at. */
    private static long floor(PageStore store, Timeline t) {
        long start = t.ancestor().map(Ancestor::lsn).orElse(1L);
        return Math.max(start, t.gcHorizon());
    }

    /**
     * Records every readable point that must survive a GC of {@code target} with the new
     * horizon {@code horizon}: each live timeline at a sample of its readable LSNs (those of the
     * target from the new horizon on), each child at its branch point.
     */
    private static void record(PageStore store, List<TimelineId> live, TimelineId target, long horizon,
                               List<Expectation> out) throws IOException {
        for (TimelineId id : live) {
            Timeline t = store.timeline(id);
            long floor = Math.max(floor(store, t), id.equals(target) ? horizon : 0);
            TreeSet<Long> lsns = new TreeSet<>();
            lsns.add(floor); // for a child whose horizon is not above it: its parent's retained point
            lsns.add(t.lastLsn());
            long span = t.lastLsn() - floor;
            for (int i = 1; i < 8 && span > 1; i++) {
                lsns.add(floor + span * i / 8);
            }
            for (long lsn : lsns) {
                out.add(new Expectation(id, lsn, Snapshots.withInodes(t.at(lsn), MAX_INODE)));
            }
        }
    }

    private static void verify(PageStore store, List<Expectation> expectations, String when) throws IOException {
        for (Expectation e : expectations) {
            Timeline t = store.timeline(e.viewer());
            assertEquals(e.view(), Snapshots.withInodes(t.at(e.lsn()), MAX_INODE),
                    "timeline " + e.viewer() + " at " + e.lsn() + " " + when);
        }
    }

    private static int timelineOf(Op op) {
        return switch (op) {
            case Create c -> c.timeline();
            case Write w -> w.timeline();
            case Truncate t -> t.timeline();
            case Unlink u -> u.timeline();
            default -> throw new AssertionError(op);
        };
    }

    private static Optional<Long> file(Timeline t, int name) throws IOException {
        long inode = t.lookup(Namespace.ROOT_INODE, NAMES[name]);
        return inode == Namespace.NO_INODE ? Optional.empty() : Optional.of(inode);
    }

    private static void mutate(Timeline t, Op op) throws IOException {
        switch (op) {
            case Create c -> {
                if (file(t, c.name()).isEmpty()) {
                    t.create(Namespace.ROOT_INODE, NAMES[c.name()], InodeKind.FILE, 0600, 0, 0);
                }
            }
            case Write w -> {
                Optional<Long> f = file(t, w.name());
                if (f.isPresent()) {
                    byte[] b = new byte[w.length()];
                    for (int i = 0; i < b.length; i++) {
                        b[i] = (byte) (w.seed() + i * 31 + (i >> 7));
                    }
                    t.write(f.get(), w.offset(), ByteBuffer.wrap(b));
                }
            }
            case Truncate tr -> {
                Optional<Long> f = file(t, tr.name());
                if (f.isPresent()) {
                    t.truncate(f.get(), tr.size());
                }
            }
            case Unlink u -> {
                if (file(t, u.name()).isPresent()) {
                    t.unlink(Namespace.ROOT_INODE, NAMES[u.name()]);
                }
            }
            default -> throw new AssertionError(op);
        }
    }
}

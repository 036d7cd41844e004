package dev.pgbranch.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * The engine on a {@link FaultyDisk}, against the model of {@link EngineModelPropertiesTest}:
 * random mutations, syncs, branches, flushes, restarts, simulated power cuts and injected
 * faults (a failed fsync, write, rename or directory fsync; ENOSPC). After every power cut, each
 * timeline must have kept at least what a sync (or a flush, a branch of it, a clean close)
 * acknowledged and at most what was written, and read exactly as the model at that LSN; no
 * timeline may come back quarantined, and nothing may read wrong.
 *
 * <p>A fault the engine reports (a failed sync, a mutation refused with an I/O error) is
 * followed by a power cut, as an operator's restart would be: the engine promises nothing about
 * unsynced writes once the log has failed, only that acknowledged ones survive.
 */
class PowerCutPropertiesTest {

    sealed interface Step permits Mutation, Sync, PowerCut, Fault {
    }

    record Mutation(EngineModelPropertiesTest.Op op) implements Step {
    }

    record Sync(int timeline) implements Step {
    }

    record PowerCut() implements Step {
    }

    enum FaultKind { FSYNC, WRITE, NO_SPACE, RENAME, DIRECTORY_SYNC }

    record Fault(FaultKind kind, int in) implements Step {
    }

    /** Tallies over every try, printed once: what the closing note of a run quotes. */
    static final Map<String, Long> TALLY = new java.util.concurrent.ConcurrentHashMap<>();

    @AfterContainer
    static void report() {
        System.out.println("power-cut properties: " + new java.util.TreeMap<>(TALLY));
    }

    private static void count(String what, long n) {
        TALLY.merge(what, n, Long::sum);
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Step> mutation = EngineModelPropertiesTest.operation().map(op -> (Step) new Mutation(op));
        Arbitrary<Integer> any = Arbitraries.integers().between(0, 1_000_000);
        Arbitrary<Step> step = Arbitraries.frequencyOf(
                Tuple.of(20, mutation),
                Tuple.of(4, any.map(t -> (Step) new Sync(t))),
                Tuple.of(2, Arbitraries.just((Step) new PowerCut())),
                Tuple.of(Integer.getInteger("faultWeight", 1), Combinators.combine(Arbitraries.of(FaultKind.values()), Arbitraries.integers().between(1, 6))
                        .as((k, n) -> (Step) new Fault(k, n))));
        return step.list().ofMinSize(5).ofMaxSize(120);
    }

    /** What the current try did, for the failure message. */
    private static final ThreadLocal<StringBuilder> TRACE = ThreadLocal.withInitial(StringBuilder::new);

    @Property(edgeCases = EdgeCasesMode.NONE) // tries: jqwik.tries.default (150, junit-platform.properties)
    void acknowledgedWritesSurvivePowerCutsAndFaults(@ForAll("steps") List<Step> steps, @ForAll long seed)
            throws Exception {
        TRACE.get().setLength(0);
        Path dir = Files.createTempDirectory("pgbranch-powercut");
        FaultyDisk disk = new FaultyDisk(seed);
        StoreOptions options = new StoreOptions(16 * 1024, 64 * 1024, true, 4);
        long segment = 48 * 1024;
        LayeredStore[] store = {LayeredStore.open(dir, options, segment, disk)};
        EngineModelPropertiesTest harness = new EngineModelPropertiesTest();
        try {
            List<EngineModelPropertiesTest.MTimeline> model = new ArrayList<>();
            Map<EngineModelPropertiesTest.MTimeline, Long> acked = new HashMap<>();
            TimelineId root = store[0].createRootTimeline(70, 71);
            EngineModelPropertiesTest.MTimeline mroot = new EngineModelPropertiesTest.MTimeline(root, null, 0);
            mroot.history.put(0L, new EngineModelPropertiesTest.MFs());
            EngineModelPropertiesTest.MFs initial = new EngineModelPropertiesTest.MFs();
            initial.inodes.put(1L, new EngineModelPropertiesTest.MInode(true, 0700, 70, 71, 1));
            mroot.history.put(1L, initial);
            mroot.last = 1;
            model.add(mroot);
            acked.put(mroot, 1L);
            for (Step s : steps) {
                TRACE.get().append(s).append('\n');
                boolean cut = false;
                try {
                    switch (s) {
                        case PowerCut p -> cut = true;
                        case Fault f -> arm(disk, f);
                        case Sync sy -> {
                            EngineModelPropertiesTest.MTimeline t = model.get(sy.timeline() % model.size());
                            store[0].timeline(t.id).sync();
                            acked.put(t, t.last);
                        }
                        case Mutation m -> {
                            switch (m.op()) {
                                case EngineModelPropertiesTest.Restart r -> {
                                    store[0].close();
                                    ackAll(model, acked);
                                    store[0] = LayeredStore.open(dir, options, segment, disk);
                                }
                                case EngineModelPropertiesTest.Crash c -> {
                                    store[0].crash(); // kill -9: the page cache survives
                                    store[0] = LayeredStore.open(dir, options, segment, disk);
                                }
                                case EngineModelPropertiesTest.Flush f -> {
                                    store[0].flush();
                                    ackAll(model, acked);
                                }
                                case EngineModelPropertiesTest.Branch b -> {
                                    EngineModelPropertiesTest.MTimeline parent = model.get(b.timeline() % model.size());
                                    long span = parent.last - parent.start() + 1;
                                    long lsn = parent.start() + b.lsnChoice() % span;
                                    TimelineId child = store[0].createBranch(parent.id, lsn);
                                    acked.put(parent, parent.last); // the parent was synced first
                                    EngineModelPropertiesTest.MTimeline c =
                                            new EngineModelPropertiesTest.MTimeline(child, parent, lsn);
                                    model.add(c);
                                    acked.put(c, lsn);
                                }
                                case EngineModelPropertiesTest.Delete d -> {
                                    EngineModelPropertiesTest.MTimeline t = model.get(d.timeline() % model.size());
                                    // A branch whose creation reported a fault may exist all the same
                                    // (made durable before the fault): the model does not know it.
                                    boolean hasChild = store[0].timelines().stream().anyMatch(x ->
                                            store[0].ancestor(x).map(a -> a.timeline().equals(t.id)).orElse(false));
                                    if (t.ancestor != null && !hasChild && model.stream().noneMatch(x -> x.ancestor == t)) {
                                        model.remove(t); // gone, or (if this fails) no longer checked
                                        store[0].deleteTimeline(t.id);
                                    }
                                }
                                case EngineModelPropertiesTest.Check c -> {
                                    EngineModelPropertiesTest.MTimeline t = model.get(c.timeline() % model.size());
                                    long lsn = c.lsnChoice() % (t.last + 1);
                                    EngineModelPropertiesTest.compare(t.at(lsn), store[0].timeline(t.id).at(lsn), "at " + lsn);
                                    count("reads checked", 1);
                                }
                                default -> {
                                    try {
                                        harness.mutate(store[0], model, m.op());
                                    } catch (NamespaceException e) {
                                        assertEquals(NamespaceException.Reason.NO_SPACE, e.reason(), "refusal " + e);
                                        count("mutations refused with ENOSPC", 1);
                                    }
                                }
                            }
                        }
                    }
                } catch (IOException e) {
                    if (e instanceof NamespaceException n && n.reason() != NamespaceException.Reason.NO_SPACE) {
                        throw e;
                    }
                    count("faults reported to the caller", 1);
                    TRACE.get().append("  -> ").append(e).append('\n');
                    cut = true; // the operator restarts the failed store
                }
                if (cut) {
                    powerCut(store, disk, dir, options, segment, model, acked);
                }
            }
            powerCut(store, disk, dir, options, segment, model, acked);
        } finally {
            store[0].crash();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Writes the disk's journal to a file (too long for a message); returns its path. */
    private static Path saveJournal(FaultyDisk disk) {
        try {
            Path file = Files.createTempFile("powercut-journal", ".txt");
            Files.writeString(file, disk.journal());
            return file;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void arm(FaultyDisk disk, Fault f) {
        switch (f.kind()) {
            case FSYNC -> disk.failForce(f.in());
            case WRITE -> disk.failWrite(f.in(), false);
            case NO_SPACE -> disk.failWrite(f.in(), true);
            case RENAME -> disk.failRename(f.in());
            case DIRECTORY_SYNC -> disk.failDirectorySync(f.in());
        }
        count("faults armed", 1);
    }

    private static void ackAll(List<EngineModelPropertiesTest.MTimeline> model,
                               Map<EngineModelPropertiesTest.MTimeline, Long> acked) {
        for (EngineModelPropertiesTest.MTimeline t : model) {
            acked.put(t, t.last);
        }
    }

    /**
     * Cuts the power, reopens, and checks every timeline: acknowledged &lt;= recovered LSN &lt;=
     * written, and the recovered state reads exactly as the model at that LSN. The model then
     * forgets what was lost.
     */
    private static void powerCut(LayeredStore[] store, FaultyDisk disk, Path dir, StoreOptions options, long segment,
                                 List<EngineModelPropertiesTest.MTimeline> model,
                                 Map<EngineModelPropertiesTest.MTimeline, Long> acked) throws IOException {
        store[0].crash();
        disk.powerCut();
        count("power cuts", 1);
        store[0] = LayeredStore.open(dir, options, segment, disk);
        assertTrue(store[0].quarantined().isEmpty(), () -> "a power cut quarantined " + store[0].quarantined()
                + "\nsteps:\n" + TRACE.get() + "\nfile operations: " + saveJournal(disk));
        for (EngineModelPropertiesTest.MTimeline t : model) {
            Timeline engine = store[0].timeline(t.id);
            long recovered = engine.lastLsn();
            long ack = acked.getOrDefault(t, t.start());
            if (recovered < ack || recovered > t.last) {
                fail("timeline " + t.id + " recovered to LSN " + recovered + " after a power cut; acknowledged " + ack
                        + ", written " + t.last + "\nsteps:\n" + TRACE.get());
            }
            count("acknowledged writes checked", ack - t.start());
            count("unacknowledged writes lost", t.last - recovered);
            t.history.tailMap(recovered, false).clear();
            t.last = recovered;
            acked.put(t, recovered);
            EngineModelPropertiesTest.compare(t.head(), engine, "head of " + t.id + " after a power cut");
        }
    }
}

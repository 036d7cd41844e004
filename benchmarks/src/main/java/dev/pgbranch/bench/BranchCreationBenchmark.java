package dev.pgbranch.bench;

import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreOptions;
import dev.pgbranch.storage.StoreStats;
import dev.pgbranch.storage.Timeline;
import dev.pgbranch.storage.TimelineId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Timeline (branch) creation on a small and a large parent: it must not depend on the parent's
 * size (no page is copied). Each created branch is deleted outside the measured time, so the
 * manifest does not grow across invocations. With and without fsync (manifest, marks file).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class BranchCreationBenchmark {

    @Param({"10", "1024"})
    public int parentMegabytes;

    /** With fsync: the real cost (manifest + marks file); without: the engine's own work. */
    @Param({"true", "false"})
    public boolean fsync;

    private Path directory;
    private PageStore store;
    private TimelineId parent;
    private long branchLsn;
    private TimelineId branch;

    @Setup(Level.Trial)
    public void createParent() throws IOException {
        directory = Files.createTempDirectory("pgbranch-bench-branch");
        StoreOptions options = new StoreOptions(64L << 20, 256L << 20, fsync);
        store = PageStore.open(directory, options);
        parent = store.createRootTimeline(0, 0);
        Timeline t = store.timeline(parent);
        BenchData.fill(t, "relation", (long) parentMegabytes * (1 << 20) / Namespace.PAGE_SIZE);
        branchLsn = t.lastLsn();
        // Close and reopen so that the parent's data is on disk and writeback of it does not
        // slow the fsyncs being measured.
        store.close();
        store = PageStore.open(directory, options);
        StoreStats stats = store.stats();
        System.out.printf("%nparent: %d MB, %d layer files, %d layer bytes%n", parentMegabytes, stats.layerFiles(),
                stats.layerBytes());
    }

    @Benchmark
    public TimelineId createBranch() throws IOException {
        branch = store.createBranch(parent, branchLsn);
        return branch;
    }

    @TearDown(Level.Invocation)
    public void deleteBranch() throws IOException {
        if (branch != null) {
            store.deleteTimeline(branch);
            branch = null;
        }
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        store.close();
        BenchData.delete(directory);
    }
}

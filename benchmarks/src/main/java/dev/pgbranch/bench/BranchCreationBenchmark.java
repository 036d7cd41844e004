package dev.pgbranch.bench;

import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreOptions;
import dev.pgbranch.storage.StoreStats;
import dev.pgbranch.storage.TimelineId;
import java.io.IOException;
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
 * Timeline (branch) creation on parents of 10 MB, 1 GB and (full suite: {@code -p
 * parentMegabytes=10,1024,10240}) 10 GB of pages: it must not depend on the parent's size (no
 * page is copied). Each created branch is deleted outside the measured time, so the manifest
 * does not grow across invocations. With and without fsync (manifest, marks file).
 *
 * <p>The parent is built with fsync off and in 1 MB writes ({@link BenchData#parent}), once per
 * run when the suite runner gives a cache directory, and the store is reopened for the
 * measurement so that its data is at rest in layer files.
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

    private BenchData.Parent fixture;
    private PageStore store;
    private TimelineId parent;
    private long branchLsn;
    private TimelineId branch;

    @Setup(Level.Trial)
    public void createParent() throws IOException {
        fixture = BenchData.parent(parentMegabytes);
        store = PageStore.open(fixture.directory(),
                BenchData.noBackgroundCompaction(new StoreOptions(64L << 20, 256L << 20, fsync)));
        parent = fixture.timeline();
        branchLsn = store.timeline(parent).lastLsn();
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
        fixture.release();
    }
}

package dev.pgbranch.bench;

import dev.pgbranch.storage.InodeKind;
import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreOptions;
import dev.pgbranch.storage.Timeline;
import dev.pgbranch.storage.TimelineId;
import java.io.IOException;
import java.nio.ByteBuffer;
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
 * Reset at storage level, what {@code branch reset} asks of the engine: a new timeline at the
 * parent's head ({@code createBranch(parent, parent.lastLsn())}) and the deletion of the
 * branch's old timeline, which has diverged by 16 pages written before each invocation (outside
 * the measured time). With fsync, on 10 MB and 1 GB parents: it must not depend on the size.
 *
 * <p>Thread-safety: one benchmark thread.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class ResetBenchmark {

    private static final int DIVERGED_PAGES = 16;

    @Param({"10", "1024"})
    public int parentMegabytes;

    private BenchData.Parent fixture;
    private PageStore store;
    private TimelineId parent;
    private TimelineId child;
    private final byte[] page = BenchData.page(7);

    @Setup(Level.Trial)
    public void createParent() throws IOException {
        fixture = BenchData.parent(parentMegabytes);
        store = PageStore.open(fixture.directory(), BenchData.noBackgroundCompaction(StoreOptions.defaults()));
        parent = fixture.timeline();
        child = store.createBranch(parent, store.timeline(parent).lastLsn());
    }

    /** The branch diverges from its parent, as a branch being reset has. */
    @Setup(Level.Invocation)
    public void diverge() throws IOException {
        Timeline t = store.timeline(child);
        long f = t.create(Namespace.ROOT_INODE, "diverged", InodeKind.FILE, 0600, 0, 0);
        for (int n = 0; n < DIVERGED_PAGES; n++) {
            t.write(f, (long) n * Namespace.PAGE_SIZE, ByteBuffer.wrap(page));
        }
    }

    @Benchmark
    public TimelineId reset() throws IOException {
        TimelineId fresh = store.createBranch(parent, store.timeline(parent).lastLsn());
        store.deleteTimeline(child);
        child = fresh;
        return fresh;
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        store.deleteTimeline(child);
        store.close();
        fixture.release();
    }
}

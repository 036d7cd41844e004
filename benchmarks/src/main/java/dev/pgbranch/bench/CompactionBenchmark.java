package dev.pgbranch.bench;

import dev.pgbranch.storage.GcResult;
import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreOptions;
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
 * Compaction throughput: {@link PageStore#collectGarbage} at the timeline's last LSN on a
 * timeline holding {@code megabytes} MB of page versions of which half are garbage: a file of
 * {@code megabytes / 2} MB written, then wholly rewritten, each pass flushed into 16 MB layer
 * files. Each iteration builds a fresh store first (not measured). Throughput in MB/s of page
 * versions merged = megabytes / score (the suite runner computes it; the layer bytes before and
 * after are printed).
 *
 * <p>Thread-safety: one benchmark thread.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class CompactionBenchmark {

    @Param({"256"})
    public int megabytes;

    private Path directory;
    private PageStore store;
    private TimelineId id;
    private long horizon;
    private GcResult result;

    @Setup(Level.Iteration)
    public void writeTwice() throws IOException {
        directory = Files.createTempDirectory("pgbranch-bench-compaction");
        try {
            // Only the measured call compacts: the background compactor would merge during the setup.
            store = PageStore.open(directory, BenchData.noBackgroundCompaction(StoreOptions.defaults()
                    .withInMemoryLayerBytes(16L << 20)));
            id = store.createRootTimeline(0, 0);
            Timeline t = store.timeline(id);
            long pages = (long) megabytes / 2 * (1 << 20) / Namespace.PAGE_SIZE;
            long file = BenchData.fillFast(t, "relation", pages);
            store.flush();
            // The second pass overwrites every page: the first pass's versions become garbage.
            BenchData.rewriteFast(t, file, pages);
            store.flush();
            horizon = t.lastLsn();
        } catch (IOException | RuntimeException e) {
            // JMH runs no @TearDown after a failed @Setup: leave no directory behind.
            BenchData.delete(directory);
            throw e;
        }
    }

    @Benchmark
    public GcResult compact() throws IOException {
        result = store.collectGarbage(id, horizon);
        return result;
    }

    @TearDown(Level.Iteration)
    public void close() throws IOException {
        System.out.printf("%n%s%n", result);
        store.close();
        BenchData.delete(directory);
    }
}

package dev.pgbranch.bench;

import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreOptions;
import dev.pgbranch.storage.StoreStats;
import dev.pgbranch.storage.Timeline;
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
 * Flush throughput: the time {@link PageStore#flush()} takes to write {@code megabytes} MB of
 * page images from the in-memory layer into layer files (LZ4, CRC32C, index, bitmaps, fsync of
 * the file and the manifest). Each iteration first writes the pages into a fresh store whose
 * in-memory layer is large enough to hold them all (not measured). Throughput in MB/s of page
 * images = megabytes / score (the suite runner computes it).
 *
 * <p>Thread-safety: one benchmark thread.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class FlushBenchmark {

    @Param({"128"})
    public int megabytes;

    private Path directory;
    private PageStore store;

    @Setup(Level.Iteration)
    public void fillInMemoryLayer() throws IOException {
        directory = Files.createTempDirectory("pgbranch-bench-flush");
        try {
            store = PageStore.open(directory, BenchData.noBackgroundCompaction(StoreOptions.defaults()
                    .withInMemoryLayerBytes(((long) megabytes + 64) << 20)));
            Timeline t = store.timeline(store.createRootTimeline(0, 0));
            BenchData.fillFast(t, "relation", (long) megabytes * (1 << 20) / Namespace.PAGE_SIZE);
        } catch (IOException | RuntimeException e) {
            // JMH runs no @TearDown after a failed @Setup: leave no directory behind.
            BenchData.delete(directory);
            throw e;
        }
    }

    @Benchmark
    public StoreStats flush() throws IOException {
        store.flush();
        return store.stats();
    }

    @TearDown(Level.Iteration)
    public void close() throws IOException {
        System.out.printf("%n%s%n", store.stats());
        store.close();
        BenchData.delete(directory);
    }
}

package dev.pgbranch.bench;

import dev.pgbranch.storage.GcResult;
import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreOptions;
import dev.pgbranch.storage.Timeline;
import dev.pgbranch.storage.TimelineId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
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
 * Read amplification: GetPage@LSN at the head of a timeline whose key range was rewritten
 * across {@value #REWRITES} delta layer files, before and after compaction.
 *
 * <p>A 16 MB file is written into one layer file; then {@value #REWRITES} rounds each rewrite
 * a strided slice of it (round {@code i} rewrites the pages {@code p} with
 * {@code p % REWRITES == i}) and are flushed into a layer file of their own. A page's newest
 * version therefore sits, uniformly, 1 to {@value #REWRITES} files below the top, and a read
 * walks that many files' indexes: the worst case for a layered read path. {@code compacted}
 * runs {@link PageStore#collectGarbage} with the timeline's last LSN as horizon first, which
 * merges the files. Engine page cache off (every read decodes from a layer file), OS cache warm.
 *
 * <p>Thread-safety: one benchmark thread.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class ReadAmplificationBenchmark {

    private static final int PAGES = 2048;
    private static final int REWRITES = 40;

    @Param({"false", "true"})
    public boolean compacted;

    private Path directory;
    private PageStore store;
    private Timeline timeline;
    private long file;
    private final ByteBuffer buffer = ByteBuffer.allocate(Namespace.PAGE_SIZE);

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        directory = Files.createTempDirectory("pgbranch-bench-readamp");
        try {
            TimelineId id;
            // No background compaction: "before" must keep its 41 files, "after" is the explicit call.
            StoreOptions options = BenchData.noBackgroundCompaction(StoreOptions.defaults());
            try (PageStore writer = PageStore.open(directory, options)) {
                id = writer.createRootTimeline(0, 0);
                Timeline t = writer.timeline(id);
                file = BenchData.fill(t, "relation", PAGES);
                writer.flush();
                for (int round = 0; round < REWRITES; round++) {
                    byte[] page = BenchData.page(PAGES + round);
                    for (int n = round; n < PAGES; n += REWRITES) {
                        t.write(file, (long) n * Namespace.PAGE_SIZE, ByteBuffer.wrap(page));
                    }
                    writer.flush();
                }
                t.sync();
                if (compacted) {
                    GcResult gc = writer.collectGarbage(id, t.lastLsn());
                    System.out.printf("%ncompaction: %s%n", gc);
                }
            }
            store = PageStore.open(directory, options.withPageCacheBytes(0));
            timeline = store.timeline(id);
            System.out.printf("%n%s%n", store.stats());
        } catch (IOException | RuntimeException e) {
            // JMH runs no @TearDown after a failed @Setup: leave no directory behind.
            BenchData.delete(directory);
            throw e;
        }
    }

    @Benchmark
    public ByteBuffer getPage() throws IOException {
        buffer.clear();
        timeline.read(file, (long) ThreadLocalRandom.current().nextInt(PAGES) * Namespace.PAGE_SIZE, buffer);
        return buffer;
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        store.close();
        BenchData.delete(directory);
    }
}

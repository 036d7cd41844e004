package dev.pgbranch.bench;

import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreOptions;
import dev.pgbranch.storage.Timeline;
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
 * GetPage@LSN: an 8 KB read of a random page of a 64 MB relation whose pages are all in layer
 * files, served from the engine's page cache ({@code pageCache}, warmed first) or decoded from
 * the layer files every time ({@code layerFiles}: the engine's page cache is disabled; the OS
 * page cache is warm, so this measures pread + CRC32C + LZ4 + lookup, not the disk), at the
 * head of a timeline that is {@code depth} branches below the one that wrote the pages (each
 * intermediate timeline has layer files of its own).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class GetPageBenchmark {

    private static final int PAGES = 8192;

    @Param({"pageCache", "layerFiles"})
    public String source;

    @Param({"0", "1", "5", "20"})
    public int depth;

    private Path directory;
    private PageStore store;
    private Timeline timeline;
    private long file;
    private final ByteBuffer buffer = ByteBuffer.allocate(Namespace.PAGE_SIZE);

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        directory = Files.createTempDirectory("pgbranch-bench-getpage");
        try {
            long cacheBytes = source.equals("pageCache") ? 256L << 20 : 0;
            StoreOptions options = BenchData.noBackgroundCompaction(StoreOptions.defaults().withInMemoryLayerBytes(16L << 20));
            PageStore writer = PageStore.open(directory, options);
            var id = writer.createRootTimeline(0, 0);
            Timeline t = writer.timeline(id);
            file = BenchData.fill(t, "relation", PAGES);
            writer.flush();
            for (int d = 0; d < depth; d++) {
                id = writer.createBranch(id, t.lastLsn());
                t = writer.timeline(id);
                BenchData.fill(t, "own-" + d, 16);
                writer.flush();
            }
            writer.close();
            store = PageStore.open(directory, options.withPageCacheBytes(cacheBytes));
            timeline = store.timeline(id);
            if (cacheBytes > 0) {
                for (int n = 0; n < PAGES; n++) {
                    read(n);
                }
            }
        } catch (IOException | RuntimeException e) {
            // JMH runs no @TearDown after a failed @Setup: leave no directory behind.
            BenchData.delete(directory);
            throw e;
        }
    }

    private ByteBuffer read(long page) throws IOException {
        buffer.clear();
        timeline.read(file, page * Namespace.PAGE_SIZE, buffer);
        return buffer;
    }

    @Benchmark
    public ByteBuffer getPage() throws IOException {
        return read(ThreadLocalRandom.current().nextInt(PAGES));
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        System.out.printf("%n%s%n", store.stats());
        store.close();
        BenchData.delete(directory);
    }
}

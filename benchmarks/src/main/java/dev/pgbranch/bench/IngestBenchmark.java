package dev.pgbranch.bench;

import dev.pgbranch.storage.InodeKind;
import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreOptions;
import dev.pgbranch.storage.Timeline;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Ingest: an 8 KB page write (ingest log append + in-memory index, layer flushes in the
 * background), alone and followed by sync() from 1, 4 and 16 threads at once (what Postgres's
 * per-commit fdatasync costs, with group commit sharing the fsyncs among concurrent writers).
 * Real fsyncs. SampleTime gives each operation's latency (p50, p99); with every thread always
 * busy, throughput is threads / mean latency (the suite runner reports it as ops/s).
 *
 * <p>Thread-safety: the benchmark threads share one timeline, as a compute's backends do.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class IngestBenchmark {

    private static final int PAGES = 8192;

    private Path directory;
    private PageStore store;
    private Timeline timeline;
    private long file;
    private final AtomicLong next = new AtomicLong();
    private final byte[] page = BenchData.page(42);

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        directory = Files.createTempDirectory("pgbranch-bench-ingest");
        try {
            store = PageStore.open(directory, StoreOptions.defaults());
            timeline = store.timeline(store.createRootTimeline(0, 0));
            file = timeline.create(Namespace.ROOT_INODE, "relation", InodeKind.FILE, 0600, 0, 0);
        } catch (IOException | RuntimeException e) {
            // JMH runs no @TearDown after a failed @Setup: leave no directory behind.
            BenchData.delete(directory);
            throw e;
        }
    }

    private void write() throws IOException {
        long n = next.getAndIncrement() % PAGES;
        timeline.write(file, n * Namespace.PAGE_SIZE, ByteBuffer.wrap(page));
    }

    @Benchmark
    @Threads(1)
    public void writePage() throws IOException {
        write();
    }

    @Benchmark
    @Threads(1)
    public void writePageAndSyncFrom1Thread() throws IOException {
        write();
        timeline.sync();
    }

    @Benchmark
    @Threads(4)
    public void writePageAndSyncFrom4Threads() throws IOException {
        write();
        timeline.sync();
    }

    @Benchmark
    @Threads(16)
    public void writePageAndSyncFrom16Threads() throws IOException {
        write();
        timeline.sync();
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        System.out.printf("%n%s%n", store.stats());
        store.close();
        BenchData.delete(directory);
    }
}

package dev.pgbranch.bench;

import dev.pgbranch.storage.InodeKind;
import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.PageStore;
import dev.pgbranch.storage.StoreOptions;
import dev.pgbranch.storage.Timeline;
import dev.pgbranch.storage.TimelineId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Fixture helpers shared by the benchmarks: page contents, filling a file, large parents that
 * several forks reuse, cleaning up.
 *
 * <p>Thread-safety: stateless; the fixtures it builds are used by one benchmark fork at a time.
 */
final class BenchData {

    /**
     * System property naming a directory in which large parent stores are built once and reused
     * by every later fork and parameter set (the benchmarks only add and delete branches in them,
     * which leaves the parent as it was). Without it each trial builds its own and deletes it.
     * The suite runner ({@code scripts/bench --only jmh}) sets it and deletes the directory after
     * the run.
     */
    static final String PARENT_CACHE_PROPERTY = "pgbranch.bench.parentCache";

    /** Marks a cached parent store as completely built; a directory without it is rebuilt. */
    private static final String COMPLETE = "bench-parent-complete";
    /** Pages per write call while building parents: 1 MB, so the build is bound by the engine, not the call count. */
    private static final int CHUNK_PAGES = 128;

    private BenchData() {
    }

    /**
     * Store options for fixtures whose layer layout is part of what is measured: the background
     * compactor (which merges a timeline's files past a threshold) is kept out of the way, so
     * that the layout is the one the benchmark built and no merge runs during a measurement.
     */
    static StoreOptions noBackgroundCompaction(StoreOptions options) {
        return options.withCompactionThreshold(Integer.MAX_VALUE);
    }

    /**
     * A page that looks like a heap page: about half random bytes, half zeros, so that LZ4 has
     * something to do without making the data unrealistically small.
     */
    static byte[] page(long n) {
        byte[] p = new byte[Namespace.PAGE_SIZE];
        SplittableRandom random = new SplittableRandom(n);
        for (int i = 0; i < p.length / 2; i++) {
            p[i] = (byte) random.nextInt(256);
        }
        return p;
    }

    /** Creates {@code name} in the root directory and writes {@code pages} pages into it, one call per page. */
    static long fill(Timeline t, String name, long pages) throws IOException {
        long f = t.create(Namespace.ROOT_INODE, name, InodeKind.FILE, 0600, 0, 0);
        for (long n = 0; n < pages; n++) {
            t.write(f, n * Namespace.PAGE_SIZE, ByteBuffer.wrap(page(n)));
        }
        t.sync();
        return f;
    }

    /**
     * Like {@link #fill} but in 1 MB writes of pages drawn from a pool of 1024 distinct ones
     * (generating 10 GB of random bytes would cost more than writing them).
     */
    static long fillFast(Timeline t, String name, long pages) throws IOException {
        long f = t.create(Namespace.ROOT_INODE, name, InodeKind.FILE, 0600, 0, 0);
        writeFast(t, f, pages, 0);
        return f;
    }

    /** Overwrites the first {@code pages} pages of {@code file} with other contents than {@link #fillFast}'s. */
    static void rewriteFast(Timeline t, long file, long pages) throws IOException {
        writeFast(t, file, pages, 1);
    }

    private static void writeFast(Timeline t, long file, long pages, int salt) throws IOException {
        byte[][] pool = new byte[1024][];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = page(i + (long) salt * pool.length);
        }
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK_PAGES * Namespace.PAGE_SIZE);
        for (long n = 0; n < pages; n += CHUNK_PAGES) {
            int count = (int) Math.min(CHUNK_PAGES, pages - n);
            chunk.clear();
            for (int i = 0; i < count; i++) {
                // Offset each page's pool index by its chunk so neighbouring chunks differ.
                chunk.put(pool[(int) ((n + i * 7L + n / CHUNK_PAGES) % pool.length)]);
            }
            chunk.flip();
            t.write(file, n * Namespace.PAGE_SIZE, chunk);
        }
        t.sync();
    }

    /**
     * A store holding one root timeline with a {@code megabytes} MB file, closed: in the
     * {@link #PARENT_CACHE_PROPERTY} directory if set (built there once, with fsync off since a
     * crash during the build only means rebuilding it), else in a new temporary directory the
     * caller deletes ({@link Parent#owned}).
     */
    static Parent parent(int megabytes) throws IOException {
        String cache = System.getProperty(PARENT_CACHE_PROPERTY);
        Path directory;
        if (cache == null || cache.isBlank()) {
            directory = Files.createTempDirectory("pgbranch-bench-parent");
        } else {
            directory = Path.of(cache).resolve(megabytes + "mb");
            Path marker = directory.resolve(COMPLETE);
            if (Files.exists(marker)) {
                return new Parent(directory, TimelineId.parse(Files.readString(marker).strip()), false);
            }
            delete(directory);
            Files.createDirectories(directory);
        }
        long t0 = System.nanoTime();
        TimelineId id;
        try (PageStore store = PageStore.open(directory, noBackgroundCompaction(new StoreOptions(64L << 20, 64L << 20, false)))) {
            id = store.createRootTimeline(0, 0);
            fillFast(store.timeline(id), "relation", (long) megabytes * (1 << 20) / Namespace.PAGE_SIZE);
        }
        long built = System.nanoTime();
        // Built without fsync: push it to disk now, or its writeback would land in the measured fsyncs.
        forceTree(directory);
        System.out.printf("%nbuilt a %d MB parent in %.1f s (fsync off for the build) + %.1f s to force it to disk, in %s%n",
                megabytes, (built - t0) / 1e9, (System.nanoTime() - built) / 1e9, directory);
        if (cache == null || cache.isBlank()) {
            return new Parent(directory, id, true);
        }
        Files.writeString(directory.resolve(COMPLETE), id + "\n", StandardCharsets.US_ASCII);
        return new Parent(directory, id, false);
    }

    /**
     * A parent store fixture.
     *
     * @param owned the caller deletes the directory at the end of its trial (no cache in use)
     */
    record Parent(Path directory, TimelineId timeline, boolean owned) {

        void release() throws IOException {
            if (owned) {
                delete(directory);
            }
        }
    }

    /** fsyncs every regular file under {@code directory}, then the directories. */
    static void forceTree(Path directory) throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                boolean isDirectory = Files.isDirectory(p);
                try (FileChannel channel = isDirectory ? FileChannel.open(p) : FileChannel.open(p, StandardOpenOption.WRITE)) {
                    channel.force(true);
                }
            }
        }
    }

    static void delete(Path directory) throws IOException {
        if (directory == null || !Files.exists(directory)) {
            return;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}

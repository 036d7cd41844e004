package dev.pgbranch.bench;

import dev.pgbranch.storage.InodeKind;
import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.Timeline;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/** Fixture helpers shared by the benchmarks: page contents, filling a file, cleaning up. */
final class BenchData {

    private BenchData() {
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

    /** Creates {@code name} in the root directory and writes {@code pages} pages into it. */
    static long fill(Timeline t, String name, long pages) throws IOException {
        long f = t.create(Namespace.ROOT_INODE, name, InodeKind.FILE, 0600, 0, 0);
        for (long n = 0; n < pages; n++) {
            t.write(f, n * Namespace.PAGE_SIZE, ByteBuffer.wrap(page(n)));
        }
        t.sync();
        return f;
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

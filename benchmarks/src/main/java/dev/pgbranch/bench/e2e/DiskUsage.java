package dev.pgbranch.bench.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Bytes a directory occupies on disk, as {@code du -s -B1 -x} counts them: allocated blocks, not
 * apparent sizes, and without crossing into other filesystems (the FUSE mounts of running computes
 * live under the pgbranch data directory and must not be counted twice).
 *
 * <p>Thread-safety: stateless.
 */
final class DiskUsage {

    private DiskUsage() {
    }

    static long bytes(Path directory) {
        Commands.Result result = Commands.run(List.of("du", "-s", "-B1", "-x", directory.toString()), Map.of(),
                Path.of("/"), Duration.ofMinutes(10));
        // du exits 1 when a file vanished while it walked (e.g. a WAL segment recycled): its total stands.
        String first = result.output().lines().filter(l -> l.endsWith(directory.toString())).findFirst().orElse("");
        String[] fields = first.split("\\s+");
        try {
            return Long.parseLong(fields[0]);
        } catch (NumberFormatException e) {
            throw new BenchException("du -s " + directory + " failed (exit " + result.exitCode() + "): " + result.tail(5), e);
        }
    }
}

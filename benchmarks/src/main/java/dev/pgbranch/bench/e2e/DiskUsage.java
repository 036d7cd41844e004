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

    /**
     * A data directory's bytes split into its write-ahead log and the rest. Both sides' logs are
     * reported apart: their size at any moment depends on pre-allocation, recycling and trimming
     * (pgbranch's active ingest-log segment is a 64 MB pre-allocated file after a roll and a small
     * one after a restart; Postgres recycles pg_wal segments up to max_wal_size), so two samples
     * of the whole directory can differ by more than what was written between them.
     */
    record Usage(long total, long writeAheadLog) {
        long data() {
            return total - writeAheadLog;
        }
    }

    static Usage of(Path directory, Path writeAheadLog) {
        long total = bytes(directory);
        long log = java.nio.file.Files.isDirectory(writeAheadLog) ? bytes(writeAheadLog) : 0;
        return new Usage(total, log);
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

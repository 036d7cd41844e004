package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The ingest log's start: the base of its first segment after the last trim, kept in
 * {@code wal/START} and made durable before trimmed segments are deleted, so that recovery
 * deletes a trimmed segment a power cut brought back instead of replaying or judging it.
 *
 * <pre>
 *  file START   start position i64 | CRC32C u32 of the 8 bytes before it   (big-endian)
 * </pre>
 *
 * <p>Crash behaviour: written to {@code START.tmp}, fsynced, renamed, directory fsynced. A
 * missing or damaged file reads as 0 (nothing is known to be trimmed).
 *
 * <p>Thread-safety: stateless; {@link IngestLog} serializes writers.
 */
final class LogStart {

    static final String FILE = "START";
    static final int LENGTH = 12;
    static final int CRC_OFFSET = 8;

    private LogStart() {
    }

    static void write(Path directory, long start, boolean fsync, Disk disk) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(LENGTH);
        b.putLong(0, start);
        b.putInt(CRC_OFFSET, LayerFormat.crc(b.array(), 0, CRC_OFFSET));
        Path tmp = directory.resolve(FILE + ".tmp");
        try (FileChannel out = disk.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            while (b.hasRemaining()) {
                out.write(b, b.position()); // advances b by what it wrote
            }
            if (fsync) {
                out.force(true);
            }
        }
        disk.move(tmp, directory.resolve(FILE));
        if (fsync) {
            disk.syncDirectory(directory);
        }
    }

    static long read(Path directory, Disk disk) throws IOException {
        byte[] bytes;
        try {
            bytes = disk.readAll(directory.resolve(FILE));
        } catch (NoSuchFileException e) {
            return 0;
        }
        if (bytes.length != LENGTH) {
            return 0;
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        return b.getInt(CRC_OFFSET) == LayerFormat.crc(bytes, 0, CRC_OFFSET) ? b.getLong(0) : 0;
    }
}

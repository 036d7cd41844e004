package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;

/**
 * A timeline's marks (LSN, wall-clock time, optional WAL position), appended one record at a
 * time, not fsynced: marks only name LSNs that were durable when made, so losing the newest ones
 * in a power cut costs time resolution, never a wrong point. {@link #rewrite} replaces the file
 * atomically (after a thinning).
 *
 * <pre>
 *  record  length u16 (of body) | body CRC32C u32 | body
 *  body    lsn i64 | epoch seconds i64 | nanos i32 | WAL position length u16 | ASCII WAL position
 * </pre>
 *
 * <p>Crash behaviour: on open the valid prefix is kept and a torn tail record is cut; a
 * rewrite leaves the old or the new file (temp file, fsync, rename, directory fsync).
 *
 * <p>Thread-safety: {@link #append} is synchronized.
 */
final class MarksFile implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(MarksFile.class.getName());

    private final Path path;
    private FileChannel channel; // guarded by this; reopened after an interrupt closed it
    private boolean closed; // guarded by this
    private final boolean fsync;
    private final Disk disk;

    private MarksFile(Path path, FileChannel channel, boolean fsync, Disk disk) {
        this.disk = disk;
        this.path = path;
        this.channel = channel;
        this.fsync = fsync;
    }

    /** Opens (creating) the file and returns it with its valid marks, cutting a torn tail. */
    static MarksFile open(Path path, boolean fsync, Disk disk, List<Timeline.Mark> marks) throws IOException {
        FileChannel channel = disk.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            long size = channel.size();
            ByteBuffer all = ByteBuffer.allocate((int) Math.min(size, Integer.MAX_VALUE - 8));
            while (all.hasRemaining() && channel.read(all, all.position()) >= 0) {
                // read it all
            }
            all.flip();
            int valid = 0;
            while (all.remaining() >= 6) {
                int start = all.position();
                int length = Short.toUnsignedInt(all.getShort());
                int crc = all.getInt();
                if (length < 22 || all.remaining() < length) {
                    break;
                }
                if (LayerFormat.crc(all.array(), all.position(), length) != crc) {
                    break;
                }
                long lsn = all.getLong();
                Instant time = Instant.ofEpochSecond(all.getLong(), all.getInt());
                int walLength = Short.toUnsignedInt(all.getShort());
                if (walLength != length - 22) {
                    all.position(start);
                    break;
                }
                byte[] wal = new byte[walLength];
                all.get(wal);
                marks.add(new Timeline.Mark(lsn, time, walLength == 0 ? null : new String(wal, StandardCharsets.US_ASCII)));
                valid = all.position();
            }
            if (valid < size) {
                LOG.log(System.Logger.Level.WARNING, "marks file {0}: cutting torn tail at offset {1}", path, String.valueOf(valid));
                channel.truncate(valid);
                channel.force(true);
            }
            channel.position(valid);
            return new MarksFile(path, channel, fsync, disk);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    synchronized void append(Timeline.Mark mark) throws IOException {
        // An interrupt would close the channel: hold it back during the I/O.
        boolean interrupted = Thread.interrupted();
        try {
            appendInterruptibly(mark);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void appendInterruptibly(Timeline.Mark mark) throws IOException {
        ByteBuffer b = encode(mark);
        if (closed) {
            throw new IOException("marks file " + path + " is closed");
        }
        if (!channel.isOpen()) {
            channel = disk.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            channel.position(channel.size());
        }
        long start = channel.position();
        try {
            while (b.hasRemaining()) {
                channel.write(b);
            }
        } catch (IOException e) {
            try {
                if (!channel.isOpen()) {
                    channel = disk.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
                }
                channel.truncate(start); // never leave a torn record in front of later ones
                channel.position(start);
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    Path path() {
        return path;
    }

    /** Replaces the file's records by {@code marks}, atomically; appends go on after them. */
    synchronized void rewrite(List<Timeline.Mark> marks) throws IOException {
        if (closed) {
            throw new IOException("marks file " + path + " is closed");
        }
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try (FileChannel out = disk.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            for (Timeline.Mark m : marks) {
                ByteBuffer b = encode(m);
                while (b.hasRemaining()) {
                    out.write(b);
                }
            }
            if (fsync) {
                out.force(true);
            }
        }
        disk.move(tmp, path);
        if (fsync) {
            disk.syncDirectory(path.getParent());
        }
        channel.close();
        channel = disk.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        channel.position(channel.size());
    }

    private static ByteBuffer encode(Timeline.Mark mark) {
        byte[] wal = mark.walPosition() == null ? new byte[0] : mark.walPosition().getBytes(StandardCharsets.US_ASCII);
        int length = 22 + wal.length;
        ByteBuffer b = ByteBuffer.allocate(6 + length);
        b.putShort((short) length).putInt(0).putLong(mark.lsn()).putLong(mark.time().getEpochSecond())
                .putInt(mark.time().getNano()).putShort((short) wal.length).put(wal);
        b.putInt(2, LayerFormat.crc(b.array(), 6, length));
        b.flip();
        return b;
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        channel.close();
    }
}

package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * The store's write-ahead ingest log, shared by every timeline: a sequence of segment files
 * (format in {@link LogFormat}) addressed by a global byte position.
 *
 * <p>Appends are sequential under one lock. {@link #sync(long)} makes the log durable up to a
 * position with group commit: the first caller becomes the leader and fsyncs everything
 * appended so far; callers arriving meanwhile wait on the same lock and usually find their
 * position already covered, so N concurrent syncs cost about one fsync.
 *
 * <p>Thread-safety: all methods are thread-safe.
 *
 * <p>Crash behaviour: a segment is forced before the next one is started, so only the tail of
 * the last segment can be torn. {@link #replay} keeps the valid prefix, truncates the segment at
 * the first invalid record and deletes any later segment. If an append fails midway, the
 * partial record is cut off; if even that fails, the log refuses further appends and syncs
 * (reopen the store to recover).
 *
 * <p>Interrupts: a FileChannel closes itself for every thread when a thread is interrupted in
 * it. Callers' interrupt status is held back during log I/O and restored afterwards; an
 * interrupt arriving mid-call fails that call only (InterruptedIOException, its partial record
 * cut) and the segment is reopened for the others.
 */
final class IngestLog implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(IngestLog.class.getName());
    static final long SEGMENT_BYTES = 64L << 20;

    private final Path directory;
    private final boolean fsync;
    private final long segmentBytes;
    private final ReentrantLock appendLock = new ReentrantLock();
    private final ReentrantLock syncLock = new ReentrantLock();

    /** Guarded by appendLock. */
    private final List<Segment> segments = new ArrayList<>();
    /** Guarded by appendLock; read without it only for stats. */
    private volatile long writePosition;
    private volatile long flushedPosition;
    private volatile IOException failure;

    /**
     * One segment file. A thread interrupted inside a FileChannel operation closes the channel
     * for everyone (ClosedByInterruptException): {@link #channel()} reopens it, so an interrupt
     * only fails the interrupted caller's own call.
     */
    private static final class Segment {
        final long base;
        final Path path;
        private volatile FileChannel channel;
        private volatile boolean retired;

        Segment(long base, Path path, FileChannel channel) {
            this.base = base;
            this.path = path;
            this.channel = channel;
        }

        FileChannel channel() throws IOException {
            FileChannel c = channel;
            if (c.isOpen()) {
                return c;
            }
            synchronized (this) {
                if (retired) {
                    throw new ClosedChannelException();
                }
                if (!channel.isOpen()) {
                    channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
                }
                return channel;
            }
        }

        synchronized void retire() throws IOException {
            retired = true;
            channel.close();
        }
    }

    /** Rethrows an I/O failure of an interrupted thread as what it is. */
    private static IOException interrupted(IOException e) {
        if (e instanceof java.nio.channels.ClosedByInterruptException || Thread.currentThread().isInterrupted()) {
            java.io.InterruptedIOException i = new java.io.InterruptedIOException("interrupted during ingest log I/O");
            i.initCause(e);
            return i;
        }
        return e;
    }

    /** Receives each valid record during {@link #replay}. */
    interface Replayer {
        void record(LogFormat.Record record, long startPosition, long endPosition) throws IOException;
    }

    private IngestLog(Path directory, boolean fsync, long segmentBytes) {
        this.directory = directory;
        this.fsync = fsync;
        this.segmentBytes = segmentBytes;
    }

    /**
     * Opens the log in {@code directory}, replays its valid prefix into {@code replayer} and
     * cuts anything after it, leaving the log ready for appends.
     */
    static IngestLog open(Path directory, boolean fsync, Replayer replayer) throws IOException {
        return open(directory, fsync, SEGMENT_BYTES, replayer);
    }

    /** As {@link #open(Path, boolean, Replayer)} with a given segment size (tests use small ones). */
    static IngestLog open(Path directory, boolean fsync, long segmentBytes, Replayer replayer) throws IOException {
        Files.createDirectories(directory);
        IngestLog log = new IngestLog(directory, fsync, segmentBytes);
        try {
            log.recover(replayer);
        } catch (IOException | RuntimeException e) {
            log.close();
            throw e;
        }
        return log;
    }

    private static String segmentName(long base) {
        return String.format("%016x.log", base);
    }

    private void recover(Replayer replayer) throws IOException {
        List<Long> bases = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                if (name.matches("[0-9a-f]{16}\\.log")) {
                    bases.add(Long.parseUnsignedLong(name.substring(0, 16), 16));
                } else if (name.endsWith(".tmp")) {
                    Files.deleteIfExists(p);
                }
            }
        }
        bases.sort(Long::compare);
        boolean cut = false;
        for (int i = 0; i < bases.size(); i++) {
            long base = bases.get(i);
            Path path = directory.resolve(segmentName(base));
            if (cut) {
                LOG.log(System.Logger.Level.WARNING, "deleting ingest log segment {0} after a torn record", path);
                Files.delete(path);
                continue;
            }
            if (!segments.isEmpty()) {
                Segment previous = segments.getLast();
                long expected = previous.base + previous.channel().size();
                if (expected != base) {
                    throw new IOException("ingest log segment " + path + " starts at " + base
                            + " but the previous one ends at " + expected + " (missing or damaged segment)");
                }
            }
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            segments.add(new Segment(base, path, channel));
            long validEnd = replaySegment(base, path, channel, replayer);
            if (validEnd < channel.size()) {
                LOG.log(System.Logger.Level.WARNING,
                        "ingest log {0}: cutting torn or corrupt tail at offset {1} ({2} bytes dropped)",
                        path, String.valueOf(validEnd), String.valueOf(channel.size() - validEnd));
                channel.truncate(validEnd);
                channel.force(true);
                cut = true;
            }
        }
        if (segments.isEmpty()) {
            startSegment(0);
        }
        Segment last = segments.getLast();
        writePosition = last.base + last.channel().size();
        flushedPosition = writePosition;
    }

    /** Returns the offset just past the last valid record of the segment. */
    private static long replaySegment(long base, Path path, FileChannel channel, Replayer replayer) throws IOException {
        long size = channel.size();
        long offset = 0;
        ByteBuffer header = ByteBuffer.allocate(LogFormat.HEADER_LENGTH);
        while (offset + LogFormat.HEADER_LENGTH <= size) {
            header.clear();
            readFully(channel, header, offset);
            header.flip();
            int length = header.getInt();
            int crc = header.getInt();
            if (length < LogFormat.BODY_FIXED_LENGTH || length > LogFormat.MAX_BODY_LENGTH
                    || offset + LogFormat.HEADER_LENGTH + length > size) {
                return offset;
            }
            ByteBuffer body = ByteBuffer.allocate(length);
            readFully(channel, body, offset + LogFormat.HEADER_LENGTH);
            body.flip();
            if (LogFormat.crc(body) != crc) {
                return offset;
            }
            LogFormat.Record record;
            try {
                record = LogFormat.decode(body);
            } catch (IllegalArgumentException e) {
                LOG.log(System.Logger.Level.WARNING, "ingest log " + path + ": undecodable record at offset " + offset, e);
                return offset;
            }
            long end = offset + LogFormat.HEADER_LENGTH + length;
            replayer.record(record, base + offset, base + end);
            offset = end;
        }
        return offset;
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position);
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
            position += n;
        }
    }

    private void startSegment(long base) throws IOException {
        Path path = directory.resolve(segmentName(base));
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        segments.add(new Segment(base, path, channel));
        if (fsync) {
            Fsync.directory(directory);
        }
    }

    /**
     * Appends one record; returns the log position just past it (what {@link #sync} takes).
     */
    long append(TimelineId timeline, long lsn, Batch batch) throws IOException {
        ByteBuffer record = LogFormat.encode(timeline, lsn, batch);
        // An interrupt would close the channel under every thread: hold it back during the I/O.
        boolean interrupted = Thread.interrupted();
        appendLock.lock();
        try {
            checkHealthy();
            Segment active = segments.getLast();
            long offset = writePosition - active.base;
            if (offset > 0 && offset + record.remaining() > segmentBytes) {
                // Everything before the new segment must be durable before it exists, so that
                // only the last segment's tail can ever be torn.
                try {
                    active.channel().force(false);
                } catch (IOException e) {
                    throw interrupted(e);
                }
                startSegment(writePosition);
                active = segments.getLast();
                offset = 0;
            }
            try {
                while (record.hasRemaining()) {
                    active.channel().write(record, offset + record.position());
                }
            } catch (IOException e) {
                // Cut whatever part of the record reached the file, so that later records
                // are not hidden behind a torn one at recovery.
                boolean again = Thread.interrupted();
                try {
                    active.channel().truncate(offset);
                } catch (IOException | RuntimeException e2) {
                    e.addSuppressed(e2);
                    failure = new IOException("ingest log " + active.path + " is damaged after a failed append", e);
                } finally {
                    if (again) {
                        Thread.currentThread().interrupt();
                    }
                }
                throw interrupted(e);
            }
            writePosition += record.limit();
            return writePosition;
        } finally {
            appendLock.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void checkHealthy() throws IOException {
        IOException f = failure;
        if (f != null) {
            throw new IOException(f.getMessage(), f);
        }
    }

    /** Returns once every record ending at or before {@code position} is durable. */
    void sync(long position) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            syncInterruptibly(position);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void syncInterruptibly(long position) throws IOException {
        while (flushedPosition < position) {
            syncLock.lock();
            try {
                if (flushedPosition >= position) {
                    return;
                }
                long target;
                Segment segment;
                appendLock.lock();
                try {
                    checkHealthy();
                    target = writePosition;
                    segment = segments.getLast();
                } finally {
                    appendLock.unlock();
                }
                try {
                    if (fsync) {
                        segment.channel().force(false);
                    }
                    syncs++;
                } catch (ClosedChannelException e) {
                    if (isClosed()) {
                        throw new IOException("ingest log is closed", e);
                    }
                    if (Thread.currentThread().isInterrupted() || e instanceof java.nio.channels.ClosedByInterruptException) {
                        throw interrupted(e);
                    }
                    continue; // retired by a trim, or closed by another thread's interrupt: retry
                }
                flushedPosition = target;
            } finally {
                syncLock.unlock();
            }
        }
    }

    private volatile boolean closed;
    /** Group commits performed (one fsync each); guarded by syncLock. */
    private long syncs;

    long syncCount() {
        syncLock.lock();
        try {
            return syncs;
        } finally {
            syncLock.unlock();
        }
    }

    private boolean isClosed() {
        return closed;
    }

    long writePosition() {
        return writePosition;
    }

    long flushedPosition() {
        return flushedPosition;
    }

    /**
     * Deletes whole segments that end at or before {@code position}: everything they hold is
     * in layer files listed by a durable manifest. The active segment is kept.
     */
    void trimBefore(long position) throws IOException {
        List<Segment> doomed = new ArrayList<>();
        appendLock.lock();
        try {
            while (segments.size() > 1 && segments.get(1).base <= position) {
                doomed.add(segments.removeFirst());
            }
        } finally {
            appendLock.unlock();
        }
        for (Segment s : doomed) {
            s.retire();
            Files.deleteIfExists(s.path);
        }
    }

    /** Bytes of log not yet trimmed. */
    long bytes() {
        appendLock.lock();
        try {
            return segments.isEmpty() ? 0 : writePosition - segments.getFirst().base;
        } finally {
            appendLock.unlock();
        }
    }

    @Override
    public void close() throws IOException {
        appendLock.lock();
        try {
            closed = true;
            IOException first = null;
            for (Segment s : segments) {
                try {
                    if (fsync && failure == null) {
                        s.channel().force(false);
                    }
                    s.retire();
                } catch (IOException e) {
                    if (first == null) {
                        first = e;
                    }
                }
            }
            segments.clear();
            if (first != null) {
                throw first;
            }
        } finally {
            appendLock.unlock();
        }
    }
}

package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The store's write-ahead ingest log, shared by every timeline: a sequence of segment files
 * (format in {@link LogFormat}) addressed by a global byte position.
 *
 * <p>Appends are sequential under one lock and never wait for the disk: rolling over to a new
 * segment only renames a spare file (or creates one) and never fsyncs. {@link #sync(long)}
 * makes the log durable up to a position with group commit: the first caller becomes the
 * leader and forces every segment that holds unforced records (oldest first), then the
 * directory if a segment was added since its last fsync; callers arriving meanwhile wait and
 * usually find their position already covered, so N concurrent syncs cost about one fsync.
 *
 * <p>Segments are pre-allocated: a background thread writes a zero-filled spare segment and
 * forces it (data and size) ahead of time, so that a later fdatasync of appended records
 * writes data blocks only, no file-system journal commit for a growing file (about half the
 * latency on ext4). The same thread forces the log once {@link #WRITEBACK_BYTES} of it are
 * unsynced, so that a burst of page writes is on its way to disk before the next commit's
 * fsync has to wait for all of it. The first spare is made at the first roll, and only with
 * ample free disk space; without one (no space, or not ready yet) a roll creates a plain empty
 * segment.
 *
 * <p>Thread-safety: all methods are thread-safe.
 *
 * <p>Crash behaviour: a sync acknowledges a position only once every segment up to it is
 * forced and every segment file name is durable, so whatever any sync acknowledged is a
 * durable prefix of the log. Each record carries the position that was durable when it was
 * appended, which is how {@link LogRecovery} tells a torn tail (cut) from damaged history
 * (cut too, the timelines involved reported for quarantine, the cut bytes moved aside). A
 * failed fsync fails the log for good: every later append and sync fails until the store is
 * reopened (a retried fsync proves nothing). If an append fails midway, the partial record is
 * cut off; if even that fails, the log fails the same way.
 *
 * <p>Interrupts: a FileChannel closes itself for every thread when a thread is interrupted in
 * it. Callers' interrupt status is held back during log I/O and restored afterwards; an
 * interrupt arriving mid-call fails that call only (InterruptedIOException, its partial record
 * cut) and the segment is reopened for the others.
 */
final class IngestLog implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(IngestLog.class.getName());
    static final long SEGMENT_BYTES = 64L << 20;
    /** Unsynced bytes after which the background thread forces the log on its own. */
    static final long WRITEBACK_BYTES = 1L << 20;
    /** Name of the pre-allocated spare segment (a .tmp: deleted by recovery). */
    static final String SPARE_NAME = "spare-segment.tmp";
    private static final int ZERO_CHUNK = 1 << 20;
    private static final long SPARE_FORCE_BYTES = 4L << 20;
    /** A spare is made only with this many segments' worth of free space on the disk. */
    private static final long SPARE_HEADROOM_SEGMENTS = 8;

    private final Path directory;
    private final boolean fsync;
    private final long segmentBytes;
    private final Disk disk;
    /** Serializes trims (the flusher, deletes and close trim). */
    private final Object trimLock = new Object();
    private final Path quarantine;
    private LogRecovery.Cut recoveryCut;
    private final ReentrantLock appendLock = new ReentrantLock();
    private final ReentrantLock syncLock = new ReentrantLock();

    /** Guarded by appendLock. */
    private final List<Segment> segments = new ArrayList<>();
    /** Segments added since open (guarded by appendLock) and durable by name (guarded by syncLock). */
    private long segmentsAdded;
    private long segmentsNamedDurably;
    /** A zero-filled, forced spare segment ready to be renamed in; guarded by appendLock. */
    private boolean spareReady;
    /**
     * Whether the background thread should (try to) make a spare; guarded by appendLock. Set by
     * each roll (when fsync is on: the spare only saves fsync work), so a store whose log never
     * rolls (small or short-lived) never writes one.
     */
    private boolean spareWanted;
    private volatile Thread background;
    /** Guarded by appendLock; read without it only for stats. */
    private volatile long writePosition;
    private volatile long flushedPosition;
    private volatile IOException failure;

    /**
     * One segment file. A thread interrupted inside a FileChannel operation closes the channel
     * for everyone (ClosedByInterruptException): {@link #channel()} reopens it, so an interrupt
     * only fails the interrupted caller's own call.
     */
    private final class Segment {
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
                    channel = disk.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
                }
                return channel;
            }
        }

        boolean isRetired() {
            return retired;
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

    private IngestLog(Path directory, Path quarantine, boolean fsync, long segmentBytes, Disk disk) {
        this.disk = disk;
        this.quarantine = quarantine;
        this.directory = directory;
        this.fsync = fsync;
        this.segmentBytes = segmentBytes;
    }

    /**
     * Opens the log in {@code directory}, replays its valid prefix into {@code replayer} and
     * cuts anything after it, leaving the log ready for appends.
     */
    static IngestLog open(Path directory, boolean fsync, Replayer replayer) throws IOException {
        return open(directory, directory.resolveSibling("quarantine"), fsync, SEGMENT_BYTES, OsDisk.INSTANCE, replayer,
                cut -> { });
    }

    /** As {@link #open(Path, boolean, Replayer)} with a given segment size (tests use small ones). */
    static IngestLog open(Path directory, boolean fsync, long segmentBytes, Replayer replayer) throws IOException {
        return open(directory, directory.resolveSibling("quarantine"), fsync, segmentBytes, OsDisk.INSTANCE, replayer,
                cut -> { });
    }

    /**
     * As {@link #open(Path, boolean, Replayer)} with a given segment size (tests use small ones), disk,
     * and directory where recovery moves what it cuts ({@link LogRecovery}).
     */
    static IngestLog open(Path directory, Path quarantine, boolean fsync, long segmentBytes, Disk disk,
                          Replayer replayer, LogRecovery.CutListener cuts) throws IOException {
        disk.createDirectories(directory);
        IngestLog log = new IngestLog(directory, quarantine, fsync, segmentBytes, disk);
        try {
            log.recover(replayer, cuts);
        } catch (IOException | RuntimeException e) {
            log.close();
            throw e;
        }
        log.background = Thread.ofPlatform().daemon().name("pgbranch-log-writeback").start(log::backgroundLoop);
        return log;
    }

    private static String segmentName(long base) {
        return LogRecovery.segmentName(base);
    }

    private void recover(Replayer replayer, LogRecovery.CutListener cuts) throws IOException {
        LogRecovery.Result result = new LogRecovery(directory, quarantine, disk, fsync).run(replayer, cuts);
        for (LogRecovery.KeptSegment k : result.segments()) {
            segments.add(new Segment(k.base(), k.path(), k.channel()));
        }
        recoveryCut = result.cut();
        if (segments.isEmpty()) {
            startSegment(result.end());
        }
        writePosition = result.end();
        flushedPosition = writePosition;
    }

    /** Where recovery cut the log, and why; null if the log was intact. */
    LogRecovery.Cut recoveryCut() {
        return recoveryCut;
    }

    /** Creates the first segment of an empty log (at open: no appends yet, so fsync here is fine). */
    private void startSegment(long base) throws IOException {
        Path path = directory.resolve(segmentName(base));
        FileChannel channel = disk.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        segments.add(new Segment(base, path, channel));
        if (fsync) {
            disk.syncDirectory(directory);
        }
    }

    /**
     * Starts the segment at {@code base}: renames the spare into place if one is ready, else
     * creates an empty file. Called with appendLock held; never fsyncs (the next sync makes the
     * name durable before acknowledging anything in it).
     */
    private Segment roll(long base) throws IOException {
        Path path = directory.resolve(segmentName(base));
        FileChannel channel = null;
        if (spareReady) {
            spareReady = false;
            try {
                disk.move(directory.resolve(SPARE_NAME), path);
                channel = disk.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "ingest log: the spare segment could not be used", e);
                disk.deleteIfExists(path);
            }
        }
        if (channel == null) {
            channel = disk.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        }
        Segment segment = new Segment(base, path, channel);
        segments.add(segment);
        segmentsAdded++;
        spareWanted = fsync;
        LockSupport.unpark(background);
        return segment;
    }

    /**
     * Appends one record; returns the log position just past it (what {@link #sync} takes).
     */
    long append(TimelineId timeline, long lsn, Batch batch) throws IOException {
        ByteBuffer record = LogFormat.encode(timeline, lsn, flushedPosition, batch);
        // An interrupt would close the channel under every thread: hold it back during the I/O.
        boolean interrupted = Thread.interrupted();
        appendLock.lock();
        try {
            checkHealthy();
            Segment active = segments.getLast();
            long offset = writePosition - active.base;
            if (offset > 0 && offset + record.remaining() > segmentBytes) {
                // No fsync here: sync() forces older segments before it acknowledges anything
                // in this one, and recovery drops segments that follow a shortfall.
                try {
                    active = roll(writePosition);
                } catch (IOException e) {
                    throw interrupted(e);
                }
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
            if (writePosition - flushedPosition >= WRITEBACK_BYTES) {
                LockSupport.unpark(background);
            }
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
                long added;
                List<Segment> unforced = new ArrayList<>(2);
                appendLock.lock();
                try {
                    checkHealthy();
                    target = writePosition;
                    added = segmentsAdded;
                    long from = flushedPosition;
                    for (int i = 0; i < segments.size(); i++) {
                        long end = i + 1 < segments.size() ? segments.get(i + 1).base : Long.MAX_VALUE;
                        if (end > from) {
                            unforced.add(segments.get(i));
                        }
                    }
                } finally {
                    appendLock.unlock();
                }
                try {
                    if (fsync) {
                        for (Segment segment : unforced) {
                            force(segment);
                        }
                        if (added > segmentsNamedDurably) {
                            disk.syncDirectory(directory);
                        }
                    }
                    segmentsNamedDurably = added;
                    syncs++;
                } catch (ClosedChannelException e) {
                    if (isClosed()) {
                        throw new IOException("ingest log is closed", e);
                    }
                    if (Thread.currentThread().isInterrupted() || e instanceof java.nio.channels.ClosedByInterruptException) {
                        throw interrupted(e);
                    }
                    continue; // closed by another thread's interrupt: retry
                } catch (IOException e) {
                    // After a failed fsync the kernel may have dropped the dirty pages and marked
                    // them clean: a retry would "succeed" without writing them ("fsyncgate"). So
                    // the log fails for good; only a reopen, replaying what is really on disk,
                    // tells what survived.
                    IOException sticky = new IOException("ingest log fsync failed; the store accepts no writes until "
                            + "it is reopened: " + e.getMessage(), e);
                    appendLock.lock();
                    try {
                        if (failure == null) {
                            failure = sticky;
                        }
                    } finally {
                        appendLock.unlock();
                    }
                    throw sticky;
                }
                flushedPosition = target;
            } finally {
                syncLock.unlock();
            }
        }
    }

    /** Forces one segment; one retired by a trim meanwhile needs nothing (layer files hold it). */
    private static void force(Segment segment) throws IOException {
        try {
            segment.channel().force(false);
        } catch (ClosedChannelException e) {
            if (!segment.isRetired()) {
                throw e;
            }
        }
    }

    /**
     * The background thread: prepares a spare segment when one is wanted and forces the log
     * once {@link #WRITEBACK_BYTES} are unsynced. Woken by appends and rolls; exits on close.
     */
    private void backgroundLoop() {
        while (!closed) {
            boolean makeSpare;
            appendLock.lock();
            try {
                makeSpare = spareWanted && !spareReady && failure == null;
                spareWanted = false;
            } finally {
                appendLock.unlock();
            }
            if (makeSpare) {
                prepareSpare();
            }
            long write = writePosition;
            if (write - flushedPosition >= WRITEBACK_BYTES && !closed && failure == null) {
                try {
                    sync(write);
                } catch (IOException e) {
                    if (!closed) {
                        // The next caller's own sync reports it; retrying in a loop would only spin.
                        LOG.log(System.Logger.Level.WARNING, "ingest log background writeback failed", e);
                        LockSupport.parkNanos(1_000_000_000L);
                    }
                }
                continue;
            }
            LockSupport.parkNanos(100_000_000L);
        }
    }

    /**
     * Writes a zero-filled segment-sized spare and forces it (data and size), outside every
     * lock. Best effort: without space for it, rolls create plain segments.
     */
    private void prepareSpare() {
        Path spare = directory.resolve(SPARE_NAME);
        try {
            disk.deleteIfExists(spare);
            if (disk.usableSpace(directory) < SPARE_HEADROOM_SEGMENTS * segmentBytes) {
                // Zeros must never take the space appends and layer flushes need: on a nearly
                // full disk a spare would turn into ENOSPC for Postgres's own writes.
                LOG.log(System.Logger.Level.DEBUG, "ingest log: too little free space for a spare segment");
                return;
            }
            try (FileChannel channel = disk.open(spare, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(ZERO_CHUNK, segmentBytes));
                long position = 0;
                while (position < segmentBytes && !closed) {
                    zeros.clear();
                    zeros.limit((int) Math.min(zeros.capacity(), segmentBytes - position));
                    position += channel.write(zeros, position);
                    if (fsync && position % SPARE_FORCE_BYTES == 0) {
                        // In steps: one 64 MB write-back would queue ahead of commits' fsyncs.
                        channel.force(false);
                    }
                }
                if (fsync) {
                    channel.force(true);
                }
            }
            appendLock.lock();
            try {
                if (closed) {
                    disk.deleteIfExists(spare);
                } else {
                    spareReady = true;
                }
            } finally {
                appendLock.unlock();
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "ingest log: no spare segment (" + e + "); rolls create plain ones");
            try {
                disk.deleteIfExists(spare);
            } catch (IOException e2) {
                LOG.log(System.Logger.Level.DEBUG, "ingest log: removing the spare segment failed", e2);
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

    /** Whether a pre-allocated spare waits for the next roll (tests). */
    boolean hasSpare() {
        appendLock.lock();
        try {
            return spareReady;
        } finally {
            appendLock.unlock();
        }
    }

    long flushedPosition() {
        return flushedPosition;
    }

    /**
     * Deletes whole segments that end at or before {@code position}: everything they hold is
     * in layer files listed by a durable manifest. The active segment is kept.
     */
    void trimBefore(long position) throws IOException {
        synchronized (trimLock) {
            int count = 0;
            long start;
            appendLock.lock();
            try {
                while (count + 1 < segments.size() && segments.get(count + 1).base <= position) {
                    count++;
                }
                start = segments.get(count).base;
            } finally {
                appendLock.unlock();
            }
            if (count == 0) {
                return;
            }
            // The new start is durable before any segment leaves the list (syncs force only
            // listed segments) or the disk: a deletion a power cut undoes brings back a segment
            // recovery then knows to be trimmed (never written back whole, perhaps, since a flush
            // made its records durable elsewhere), instead of judging it. If writing the start
            // fails, nothing changed: the segments stay listed, and forced by the next sync.
            LogStart.write(directory, start, fsync, disk);
            List<Segment> doomed = new ArrayList<>(count);
            appendLock.lock();
            try {
                // Only trims (under trimLock) and close remove segments.
                while (!segments.isEmpty() && segments.getFirst().base < start) {
                    doomed.add(segments.removeFirst());
                }
            } finally {
                appendLock.unlock();
            }
            for (Segment s : doomed) {
                s.retire();
                disk.deleteIfExists(s.path);
            }
        }
    }

    /**
     * Checks every record of the log up to the write position ({@code store verify}): adds a
     * finding for each segment whose records do not run unbroken to where the next one starts.
     * Returns {records, bytes} checked. Safe beside appends (it reads only what they finished).
     */
    long[] verify(List<StoreReport.Finding> findings) throws IOException {
        List<Segment> snapshot;
        long end;
        appendLock.lock();
        try {
            snapshot = List.copyOf(segments);
            end = writePosition;
        } finally {
            appendLock.unlock();
        }
        long records = 0;
        long bytes = 0;
        for (int i = 0; i < snapshot.size(); i++) {
            Segment s = snapshot.get(i);
            long limit = (i + 1 < snapshot.size() ? snapshot.get(i + 1).base : end) - s.base;
            FileChannel c;
            try {
                c = s.channel();
            } catch (ClosedChannelException trimmed) {
                continue;
            }
            long p = 0;
            // Unmapped on leaving (a MappedByteBuffer would pin a segment trimmed meanwhile).
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                ByteBuffer map = c.map(FileChannel.MapMode.READ_ONLY, 0, Math.min(limit, c.size()), arena).asByteBuffer();
                while (p < limit && LogRecovery.validRecordAt(map, p, map.limit())) {
                    p += LogFormat.HEADER_LENGTH + map.getInt((int) p);
                    records++;
                }
            }
            bytes += p;
            if (p < limit) {
                findings.add(new StoreReport.Finding(s.path, p, "invalid ingest log record (checksum, length or type) "
                        + "inside the log's acknowledged range; " + (limit - p) + " bytes follow it"));
            }
        }
        return new long[] {records, bytes};
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
        } finally {
            appendLock.unlock();
        }
        Thread b = background;
        if (b != null) {
            LockSupport.unpark(b);
            boolean interrupted = false;
            while (true) {
                try {
                    b.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        appendLock.lock();
        try {
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
            try {
                disk.deleteIfExists(directory.resolve(SPARE_NAME));
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
            if (first != null) {
                throw first;
            }
        } finally {
            appendLock.unlock();
        }
    }
}

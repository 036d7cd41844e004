package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

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
 * durable prefix of the log. A damaged record with valid records behind it is corruption, not a
 * torn tail: open fails naming the segment and offset and changes nothing (see
 * {@link #corruptionEvidence}). Otherwise recovery keeps the longest valid prefix: it reads each segment up
 * to its first invalid record (a torn record, or the zero padding of a pre-allocated segment);
 * a segment that does not start exactly where the previous one's valid records end comes
 * after a shortfall that no sync acknowledged, so it and every later segment are deleted.
 * Bytes after the valid end of the last segment are cut (a stale record left there could
 * otherwise line up behind future appends and be replayed). If an append fails midway, the
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
        log.background = Thread.ofPlatform().daemon().name("pgbranch-log-writeback").start(log::backgroundLoop);
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
        long validEnd = 0; // of the last kept segment, relative to its base
        for (int i = 0; i < bases.size(); i++) {
            long base = bases.get(i);
            Path path = directory.resolve(segmentName(base));
            if (!cut && !segments.isEmpty()) {
                long expected = segments.getLast().base + validEnd;
                if (base < expected) {
                    throw new IOException("ingest log segment " + path + " starts at " + base
                            + " but the previous one holds records up to " + expected + " (damaged segment)");
                }
                if (base > expected) {
                    // The previous segment is short of where this one starts: the records in
                    // between were never acknowledged (a sync forces every earlier segment
                    // first), so neither was anything from here on.
                    LOG.log(System.Logger.Level.WARNING,
                            "ingest log: segment {0} ends at {1}, before the next one starts at {2}: "
                                    + "dropping the later, never synced segments",
                            segments.getLast().path, String.valueOf(expected), String.valueOf(base));
                    cut = true;
                }
            }
            if (cut) {
                LOG.log(System.Logger.Level.WARNING, "deleting ingest log segment {0} after a torn record", path);
                Files.delete(path);
                continue;
            }
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            segments.add(new Segment(base, path, channel));
            validEnd = replaySegment(base, path, channel, replayer);
            if (validEnd < channel.size()) {
                String evidence = corruptionEvidence(channel, validEnd, i + 1 < bases.size()
                        ? directory.resolve(segmentName(bases.get(i + 1))) : null);
                if (evidence != null) {
                    throw new IOException("ingest log segment " + path + " is corrupt at offset " + validEnd + ": "
                            + evidence + ", so this is damaged synced history, not a torn tail; nothing was cut "
                            + "or deleted");
                }
            }
        }
        if (segments.isEmpty()) {
            startSegment(0);
            validEnd = 0;
        }
        Segment last = segments.getLast();
        FileChannel channel = last.channel();
        long size = channel.size();
        if (validEnd < size) {
            // Zero padding of a pre-allocated segment is normal; anything else is a torn tail.
            // Either way it goes: stale bytes could line up behind future appends.
            if (!isZero(channel, validEnd, size)) {
                LOG.log(System.Logger.Level.WARNING,
                        "ingest log {0}: cutting torn or corrupt tail at offset {1} ({2} bytes dropped)",
                        last.path, String.valueOf(validEnd), String.valueOf(size - validEnd));
            }
            channel.truncate(validEnd);
            if (fsync) {
                channel.force(true);
            }
        }
        writePosition = last.base + validEnd;
        flushedPosition = writePosition;
    }

    /**
     * Tells a damaged record inside synced history from a torn tail, for the invalid record at
     * {@code offset}: returns why it is corruption, or null for a torn tail.
     *
     * <p>A kill -9 leaves only the last record's prefix cut off by the end of the file, or the
     * zeros of a pre-allocated segment behind it; a power loss may also leave a file-system page
     * that was never written back, which reads as zeros, with later records present (no sync
     * acknowledged those). A record whose length field is zero is therefore a torn tail, as is
     * an invalid record with nothing valid behind it. A record with a nonzero header that fails
     * its checksum and is followed by a valid record (right at its end, anywhere later in the
     * segment, or at the start of the next segment) is damaged history: refusing to open keeps
     * every later record, which a cut would silently drop. (A power loss that drops a page
     * inside a record, not at its header, also ends up here: the store then refuses to open
     * rather than guess.)
     */
    private static String corruptionEvidence(FileChannel channel, long offset, Path next) throws IOException {
        long size = channel.size();
        if (size - offset < LogFormat.HEADER_LENGTH || size > Integer.MAX_VALUE) {
            return null;
        }
        java.nio.MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_ONLY, 0, size);
        int o = (int) offset;
        if (map.getInt(o) == 0) {
            return null; // a zero length: the segment's records end here (pre-allocated or lost page)
        }
        int length = map.getInt(o);
        boolean sane = length >= LogFormat.BODY_FIXED_LENGTH && length <= LogFormat.MAX_BODY_LENGTH
                && offset + LogFormat.HEADER_LENGTH + length <= size;
        if (sane) {
            long end = offset + LogFormat.HEADER_LENGTH + length;
            if (end < size && validRecordAt(map, end, size)) {
                return "its length is sane, its checksum fails, and a valid record starts at its end (offset "
                        + end + ")";
            }
        }
        for (long p = offset + 1; p + LogFormat.HEADER_LENGTH + LogFormat.BODY_FIXED_LENGTH <= size; p++) {
            if (validRecordAt(map, p, size)) {
                return "a valid record follows it at offset " + p;
            }
        }
        if (next != null && Files.size(next) >= LogFormat.HEADER_LENGTH) {
            try (FileChannel c = FileChannel.open(next, StandardOpenOption.READ)) {
                long nextSize = c.size();
                if (nextSize <= Integer.MAX_VALUE
                        && validRecordAt(c.map(FileChannel.MapMode.READ_ONLY, 0, nextSize), 0, nextSize)) {
                    return "the next segment " + next + " starts with a valid record";
                }
            }
        }
        return null;
    }

    /** Whether a whole record with a matching checksum and a known type starts at {@code p}. */
    private static boolean validRecordAt(ByteBuffer map, long p, long size) {
        if (p + LogFormat.HEADER_LENGTH + LogFormat.BODY_FIXED_LENGTH > size) {
            return false;
        }
        int length = map.getInt((int) p);
        if (length < LogFormat.BODY_FIXED_LENGTH || length > LogFormat.MAX_BODY_LENGTH
                || p + LogFormat.HEADER_LENGTH + length > size) {
            return false;
        }
        int bodyStart = (int) p + LogFormat.HEADER_LENGTH;
        if (map.get(bodyStart + 24) != LogFormat.TYPE_BATCH) {
            return false; // cheap filter before the checksum
        }
        return LogFormat.crc(map.slice(bodyStart, length)) == map.getInt((int) p + 4);
    }

    private static boolean isZero(FileChannel channel, long from, long to) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(ZERO_CHUNK);
        long position = from;
        while (position < to) {
            buffer.clear();
            buffer.limit((int) Math.min(ZERO_CHUNK, to - position));
            int n = channel.read(buffer, position);
            if (n < 0) {
                break;
            }
            for (int i = 0; i < n; i++) {
                if (buffer.get(i) != 0) {
                    return false;
                }
            }
            position += n;
        }
        return true;
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

    /** Creates the first segment of an empty log (at open: no appends yet, so fsync here is fine). */
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
                Files.move(directory.resolve(SPARE_NAME), path, StandardCopyOption.ATOMIC_MOVE);
                channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "ingest log: the spare segment could not be used", e);
                Files.deleteIfExists(path);
            }
        }
        if (channel == null) {
            channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
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
        ByteBuffer record = LogFormat.encode(timeline, lsn, batch);
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
                            Fsync.directory(directory);
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
            Files.deleteIfExists(spare);
            if (Files.getFileStore(directory).getUsableSpace() < SPARE_HEADROOM_SEGMENTS * segmentBytes) {
                // Zeros must never take the space appends and layer flushes need: on a nearly
                // full disk a spare would turn into ENOSPC for Postgres's own writes.
                LOG.log(System.Logger.Level.DEBUG, "ingest log: too little free space for a spare segment");
                return;
            }
            try (FileChannel channel = FileChannel.open(spare, StandardOpenOption.CREATE_NEW,
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
                    Files.deleteIfExists(spare);
                } else {
                    spareReady = true;
                }
            } finally {
                appendLock.unlock();
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "ingest log: no spare segment (" + e + "); rolls create plain ones");
            try {
                Files.deleteIfExists(spare);
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
                Files.deleteIfExists(directory.resolve(SPARE_NAME));
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

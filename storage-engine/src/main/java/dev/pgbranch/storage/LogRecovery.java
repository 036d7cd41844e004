package dev.pgbranch.storage;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Recovery of the ingest log at open: replays the log's valid prefix and decides what the first
 * invalid record (or a gap between segments) means. The role of Kafka's {@code LogLoader}.
 *
 * <p>Where the valid prefix ends at position X with bytes or segments behind it, one of:
 * <ul>
 *   <li><b>torn tail</b>: nothing behind X was ever acknowledged. A power cut leaves exactly
 *       this: a record whose pages never reached the disk read as zeros (segments are fresh or
 *       zero-filled spares), later pages may have. Signature: a zero length, a gap between
 *       segments, or an all-zero 512-byte sector within the invalid record; and no valid
 *       record behind X whose {@code synced} field lies past X. The log is cut at X.</li>
 *   <li><b>damaged history</b>: a valid record behind X was appended when the log was already
 *       durable past X (its {@code synced} field, {@link LogFormat}), or the invalid record is
 *       nonzero garbage with valid records behind it (a flipped bit, not a lost page). The log
 *       is cut at X as well, so that every timeline not involved goes on serving, and the
 *       timelines that wrote behind X or own the damaged record are reported for quarantine
 *       ({@link Damage#affected}): they may have lost acknowledged writes.</li>
 * </ul>
 * Bytes cut from behind X are never simply deleted when valid records are among them: they
 * are moved to {@code quarantine/wal-<X>/} first (a later segment by rename, the rest of the
 * segment holding X by copy, fsynced), where {@code store verify} reports them and an operator
 * command purges them. A crash during that is safe: the next open finds the same X again.
 *
 * <p>Limits: without a {@code synced} proof (records of format 1, or damage within the last
 * group commit) a flipped bit inside a record that also holds a zero sector reads as a torn
 * write. Records up to X are replayed even when damage is found behind them.
 *
 * <p>Thread-safety: single use, at open, before the log is shared.
 */
final class LogRecovery {

    private static final System.Logger LOG = System.getLogger(LogRecovery.class.getName());
    /** Granularity at which a disk persists a write whole (or not at all). */
    static final int SECTOR = 512;

    /** What ended the valid prefix. */
    enum CutKind {
        /** Writes that were never acknowledged: cut silently (or preserved, if valid records were cut). */
        TORN_TAIL,
        /** History that had been durable is damaged: affected timelines must be quarantined. */
        DAMAGED
    }

    /** A segment kept for appends: its base position, file and open channel. */
    record KeptSegment(long base, Path path, FileChannel channel) {
    }

    /**
     * Where and why the log was cut.
     *
     * @param position global log position X where the valid prefix ends
     * @param segment the segment file holding X
     * @param offset X within that segment
     * @param evidence why this is damage or a torn tail, for the operator
     * @param affected timelines with valid records behind X, and the damaged record's owner if
     *     its id could be read
     * @param ownerUnknown whether the damaged record's timeline could not be read
     * @param preserved where the cut bytes were moved, or null if nothing valid was cut
     */
    record Cut(CutKind kind, long position, Path segment, long offset, String evidence, Set<TimelineId> affected,
               boolean ownerUnknown, Path preserved) {
    }

    /** The outcome: segments to append to, the end of the valid log, and the cut if any (or null). */
    record Result(List<KeptSegment> segments, long end, Cut cut) {
    }

    private final Path directory;
    private final Path quarantine;
    private final Disk disk;
    private final boolean fsync;
    /**
     * The highest log position a replayed record proves durable: a record's {@code synced} field
     * is a position an fsync had covered, and succeeded on, when the record was appended.
     */
    private long provenDurable;

    LogRecovery(Path directory, Path quarantine, Disk disk, boolean fsync) {
        this.directory = directory;
        this.quarantine = quarantine;
        this.disk = disk;
        this.fsync = fsync;
    }

    static String segmentName(long base) {
        return String.format("%016x.log", base);
    }

    /** Told of a cut before it is made (the store makes a quarantine durable first). */
    interface CutListener {
        void beforeCut(Cut cut) throws IOException;
    }

    Result run(IngestLog.Replayer replayer, CutListener listener) throws IOException {
        List<Long> bases = new ArrayList<>();
        for (Path p : disk.list(directory)) {
            String name = p.getFileName().toString();
            if (name.matches("[0-9a-f]{16}\\.log")) {
                bases.add(Long.parseUnsignedLong(name.substring(0, 16), 16));
            } else if (name.endsWith(".tmp")) {
                disk.deleteIfExists(p); // a spare segment in the making: zeros, never records
            }
        }
        bases.sort(Long::compare);
        long start = LogStart.read(directory, disk);
        while (!bases.isEmpty() && bases.getFirst() < start) {
            // Trimmed: its deletion did not survive a power cut (see IngestLog#trimBefore).
            disk.deleteIfExists(directory.resolve(segmentName(bases.removeFirst())));
        }
        List<KeptSegment> kept = new ArrayList<>();
        long end = bases.isEmpty() ? 0 : bases.getFirst();
        int cutSegment = -1; // index in kept of the segment holding X
        boolean gap = false;
        try {
            for (int i = 0; i < bases.size(); i++) {
                long base = bases.get(i);
                if (!kept.isEmpty() && base != end) {
                    cutSegment = kept.size() - 1;
                    gap = true;
                    break;
                }
                Path path = directory.resolve(segmentName(base));
                FileChannel channel = disk.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
                kept.add(new KeptSegment(base, path, channel));
                long validEnd = replaySegment(base, path, channel, replayer);
                end = base + validEnd;
                if (validEnd < channel.size() && !isZero(channel, validEnd, channel.size())) {
                    cutSegment = kept.size() - 1;
                    break;
                }
            }
            if (cutSegment < 0) {
                if (!kept.isEmpty()) {
                    cutTail(kept.getLast(), end - kept.getLast().base()); // zero padding of a spare
                }
                makeDurable(kept, end);
                return new Result(kept, end, null);
            }
            KeptSegment holder = kept.get(cutSegment);
            long offset = end - holder.base();
            List<Path> later = new ArrayList<>();
            for (Long base : bases) {
                if (base > holder.base()) {
                    later.add(directory.resolve(segmentName(base)));
                }
            }
            Cut cut = judge(holder, offset, end, later, gap);
            listener.beforeCut(cut);
            for (KeptSegment k : kept.subList(cutSegment + 1, kept.size())) {
                k.channel().close();
            }
            List<KeptSegment> remaining = new ArrayList<>(kept.subList(0, cutSegment + 1));
            if (cut.preserved() != null) {
                preserve(holder, offset, later, cut.preserved());
            } else {
                for (Path p : later) {
                    disk.deleteIfExists(p); // only zeros or torn bytes, behind a torn tail
                }
            }
            cutTail(holder, offset);
            makeDurable(remaining, end);
            LOG.log(cut.kind() == CutKind.DAMAGED ? System.Logger.Level.ERROR : System.Logger.Level.WARNING,
                    "ingest log cut at position {0} ({1} offset {2}): {3}{4}", String.valueOf(end), holder.path(),
                    String.valueOf(offset), cut.evidence(),
                    cut.preserved() == null ? "" : "; the cut bytes were moved to " + cut.preserved());
            return new Result(remaining, end, cut);
        } catch (IOException | RuntimeException e) {
            for (KeptSegment k : kept) {
                try {
                    k.channel().close();
                } catch (IOException e2) {
                    e.addSuppressed(e2);
                }
            }
            throw e;
        }
    }

    /** Decides what the invalid bytes at {@code offset} of {@code holder} are. */
    private Cut judge(KeptSegment holder, long offset, long position, List<Path> later, boolean gap) throws IOException {
        FileChannel channel = holder.channel();
        long size = channel.size();
        // Valid records behind X: in the rest of this segment (at any offset: the invalid
        // record's length cannot be trusted) and from the start of every later segment.
        Set<TimelineId> writers = new HashSet<>();
        long maxSynced = LogFormat.SYNCED_UNKNOWN;
        long firstValid = -1;
        // Mapped in confined arenas, unmapped on leaving: a MappedByteBuffer would keep a segment
        // that is deleted or moved right after this (a cut) mapped until a garbage collection.
        if (!gap && size <= Integer.MAX_VALUE) {
            try (Arena arena = Arena.ofConfined()) {
                ByteBuffer map = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena).asByteBuffer();
                for (long p = offset + 1; p + LogFormat.HEADER_LENGTH + LogFormat.BODY_FIXED_LENGTH <= size; p++) {
                    if (validRecordAt(map, p, size)) {
                        firstValid = firstValid < 0 ? holder.base() + p : firstValid;
                        int body = (int) p + LogFormat.HEADER_LENGTH;
                        writers.add(new TimelineId(map.getLong(body), map.getLong(body + 8)));
                        maxSynced = Math.max(maxSynced, syncedAt(map, body));
                        p += LogFormat.HEADER_LENGTH + map.getInt((int) p) - 1;
                    }
                }
            }
        }
        for (Path p : later) {
            try (FileChannel c = disk.open(p, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
                long n = c.size();
                if (n > Integer.MAX_VALUE) {
                    continue;
                }
                ByteBuffer map = c.map(FileChannel.MapMode.READ_ONLY, 0, n, arena).asByteBuffer();
                long q = 0;
                while (validRecordAt(map, q, n)) {
                    int body = (int) q + LogFormat.HEADER_LENGTH;
                    firstValid = firstValid < 0 ? Long.parseUnsignedLong(p.getFileName().toString().substring(0, 16), 16) + q
                            : firstValid;
                    writers.add(new TimelineId(map.getLong(body), map.getLong(body + 8)));
                    maxSynced = Math.max(maxSynced, syncedAt(map, body));
                    q += LogFormat.HEADER_LENGTH + map.getInt((int) q);
                }
            }
        }
        Path preserved = quarantine.resolve("wal-" + String.format("%016x", position));
        if (firstValid < 0) {
            return new Cut(CutKind.TORN_TAIL, position, holder.path(), offset,
                    gap ? "the next segment does not start where this one's records end, and holds no valid record"
                            : "an incomplete record with no valid record behind it (a torn write)",
                    Set.of(), false, null);
        }
        if (maxSynced > position) {
            return damaged(holder, offset, position, writers, preserved, "a valid record at position " + firstValid
                    + " or later was appended when the log was durable up to " + maxSynced
                    + ", past this point: history that had been synced is damaged");
        }
        if (gap || zeroSignature(channel, offset, size)) {
            return new Cut(CutKind.TORN_TAIL, position, holder.path(), offset,
                    "a record with unwritten (zero) sectors, and no record behind it proves it was ever synced "
                            + "(a power cut); valid but never acknowledged records from position " + firstValid + " on were cut",
                    Set.copyOf(writers), false, preserved);
        }
        return damaged(holder, offset, position, writers, preserved,
                "the record fails its checksum though none of its sectors is unwritten, and valid records follow at "
                        + "position " + firstValid + ": damaged history, not a torn write");
    }

    private Cut damaged(KeptSegment holder, long offset, long position, Set<TimelineId> writers, Path preserved,
                        String evidence) throws IOException {
        Set<TimelineId> affected = new HashSet<>(writers);
        TimelineId owner = ownerAt(holder.channel(), offset);
        if (owner != null) {
            affected.add(owner);
        }
        return new Cut(CutKind.DAMAGED, position, holder.path(), offset, evidence, Set.copyOf(affected), owner == null,
                preserved);
    }

    /** The timeline id the (invalid) record at {@code offset} names, if its bytes are there. */
    private static TimelineId ownerAt(FileChannel channel, long offset) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(LogFormat.HEADER_LENGTH + 16);
        if (offset + b.capacity() > channel.size()) {
            return null;
        }
        readFully(channel, b, offset);
        TimelineId id = new TimelineId(b.getLong(LogFormat.HEADER_LENGTH), b.getLong(LogFormat.HEADER_LENGTH + 8));
        return id.high() == 0 && id.low() == 0 ? null : id;
    }

    private static long syncedAt(ByteBuffer map, int body) {
        return map.get(body + LogFormat.TYPE_OFFSET) == LogFormat.TYPE_BATCH_SYNCED
                ? map.getLong(body + LogFormat.SYNCED_OFFSET) : LogFormat.SYNCED_UNKNOWN;
    }

    /**
     * Whether the invalid record at {@code offset} looks like a write that did not reach the
     * disk whole: a zero length, or a 512-byte sector overlapping it that is all zeros.
     */
    private static boolean zeroSignature(FileChannel channel, long offset, long size) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(4);
        if (offset + 4 > size) {
            return true;
        }
        readFully(channel, header, offset);
        int length = header.getInt(0);
        if (length == 0) {
            return true;
        }
        long end = length > 0 && length <= LogFormat.MAX_BODY_LENGTH
                ? Math.min(size, offset + LogFormat.HEADER_LENGTH + length) : Math.min(size, offset + 4096);
        for (long s = offset / SECTOR * SECTOR; s < end; s += SECTOR) {
            if (s + SECTOR <= size && isZero(channel, s, s + SECTOR)) {
                return true;
            }
        }
        return false;
    }

    /** Copies the cut part of the holder and moves later segments into {@code target}, durably. */
    private void preserve(KeptSegment holder, long offset, List<Path> later, Path target) throws IOException {
        disk.createDirectories(target);
        FileChannel in = holder.channel();
        long size = in.size();
        Path copy = target.resolve(holder.path().getFileName() + ".from-" + offset);
        try (FileChannel out = disk.open(copy, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1 << 16);
            for (long p = offset; p < size; ) {
                b.clear();
                int n = in.read(b, p);
                if (n <= 0) {
                    break;
                }
                b.flip();
                while (b.hasRemaining()) {
                    out.write(b, p - offset + b.position());
                }
                p += n;
            }
            if (fsync) {
                out.force(true);
            }
        }
        for (Path p : later) {
            disk.move(p, target.resolve(p.getFileName()));
        }
        if (fsync) {
            disk.syncDirectory(target);
        }
    }

    /**
     * Makes what is replayed durable, up to {@code end}: the store is about to treat every
     * replayed record as durable. After a kill -9 the log's tail may sit in the page cache only;
     * after a failed fsync (one swallowed at a close, or the kernel's own writeback failing) it
     * may sit there marked clean, where a plain fsync succeeds without writing it
     * ("fsyncgate"). So the bytes past {@link #provenDurable} are written again, from the page
     * cache to itself, before the fsync: pages dirtied anew are written back for sure.
     */
    private void makeDurable(List<KeptSegment> segments, long end) throws IOException {
        if (!fsync) {
            return;
        }
        for (int i = 0; i < segments.size(); i++) {
            KeptSegment k = segments.get(i);
            long segmentEnd = i + 1 < segments.size() ? segments.get(i + 1).base() : end;
            long from = Math.max(k.base(), provenDurable);
            if (from < segmentEnd) {
                rewrite(k.channel(), from - k.base(), segmentEnd - k.base());
            }
            k.channel().force(true);
        }
        disk.syncDirectory(directory);
    }

    /** Writes bytes [from, to) of a file over themselves. */
    private static void rewrite(FileChannel channel, long from, long to) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(1 << 16, to - from));
        for (long p = from; p < to; ) {
            buffer.clear();
            buffer.limit((int) Math.min(buffer.capacity(), to - p));
            readFully(channel, buffer, p);
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer, p + buffer.position());
            }
            p += buffer.limit();
        }
    }

    private void cutTail(KeptSegment segment, long validEnd) throws IOException {
        FileChannel channel = segment.channel();
        if (channel.size() > validEnd) {
            channel.truncate(validEnd);
            if (fsync) {
                channel.force(true);
            }
        }
    }

    /** Whether a whole record with a matching checksum and a known type starts at {@code p}. */
    static boolean validRecordAt(ByteBuffer map, long p, long size) {
        if (p + LogFormat.HEADER_LENGTH + LogFormat.BODY_FIXED_LENGTH > size) {
            return false;
        }
        int length = map.getInt((int) p);
        if (length < LogFormat.BODY_FIXED_LENGTH || length > LogFormat.MAX_BODY_LENGTH
                || p + LogFormat.HEADER_LENGTH + length > size) {
            return false;
        }
        int bodyStart = (int) p + LogFormat.HEADER_LENGTH;
        if (!LogFormat.knownType(map.get(bodyStart + LogFormat.TYPE_OFFSET))) {
            return false; // cheap filter before the checksum
        }
        return LogFormat.crc(map.slice(bodyStart, length)) == map.getInt((int) p + 4);
    }

    static boolean isZero(FileChannel channel, long from, long to) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(1 << 20, Math.max(0, to - from)));
        long position = from;
        while (position < to) {
            buffer.clear();
            buffer.limit((int) Math.min(buffer.capacity(), to - position));
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

    /**
     * Replays a segment's valid records; returns the offset just past the last one. Raises
     * {@link #provenDurable} to the highest {@code synced} field among them.
     */
    private long replaySegment(long base, Path path, FileChannel channel, IngestLog.Replayer replayer)
            throws IOException {
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
            if (body.get(LogFormat.TYPE_OFFSET) == LogFormat.TYPE_BATCH_SYNCED) {
                provenDurable = Math.max(provenDurable, body.getLong(LogFormat.SYNCED_OFFSET));
            }
            replayer.record(record, base + offset, base + end);
            offset = end;
        }
        return offset;
    }

    static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position);
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
            position += n;
        }
    }
}

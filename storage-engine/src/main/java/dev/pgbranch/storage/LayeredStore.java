package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;

/**
 * The {@link PageStore} implementation: timelines of versioned keys over one shared
 * {@link IngestLog}, per-timeline {@link InMemoryLayer}s flushed to {@link LayerFile}s by one
 * background flusher thread, merged (and garbage-collected, {@link LayerMerge}) by one
 * background compactor thread or by {@link #collectGarbage} on the caller's thread, and a
 * {@link Manifest} of live timelines, their GC horizons and layers.
 *
 * <pre>
 *  directory/
 *    LOCK                    held (file lock) while open: one store per directory
 *    manifest                live timelines + layer files, replaced atomically
 *    wal/&lt;position&gt;.log      ingest log segments
 *    layers/&lt;tl&gt;-&lt;id&gt;.delta  layer files
 *    marks/&lt;tl&gt;.marks        per-timeline (LSN, time, WAL position) marks
 *    quarantine/             what recovery or an operator set aside: cut log tails
 *                            (wal-&lt;position&gt;/), layer files (layers/); never read back
 * </pre>
 *
 * <p>Thread-safety: all public methods are thread-safe. Timeline creation and deletion are
 * serialized, and so is the computation of a GC's retained points with them (same lock);
 * merges of one timeline are serialized by its compaction lock and never hold its writer lock;
 * manifest writes are serialized; a read-write lock orders log appends (shared)
 * against the computation of the log trim point (exclusive), so a record is always either in
 * a timeline's in-memory layer or in a trimmed-safe place when the trim point is computed.
 *
 * <p>Crash behaviour (every rule tested on a simulated disk that loses unsynced writes at a
 * power cut, {@code FaultyDisk}): on open the manifest and the layer files it lists are fsynced
 * (after a kill -9 they may sit in the page cache only); unfinished (.tmp) layer files and
 * unlisted ones of known timelines are deleted (their versions are in listed files or still in
 * the log); unlisted files of unknown timelines are moved to {@code quarantine/layers/}. A listed
 * layer that fails its checks holds its timeline and every descendant back ({@link #quarantined}),
 * its manifest entry kept as read; the others are served. Then the ingest log is replayed above
 * each timeline's disk-consistent LSN ({@link LogRecovery}: a torn tail cut, damaged history
 * quarantining the timelines involved, made durable before the cut). A flushed layer counts
 * (durable LSN, log trim point) only once a completed manifest write lists it, and the log is
 * trimmed only behind such a manifest and never past a quarantined timeline's records. Nothing
 * is deleted because a manifest does not mention it, except those provably redundant files.
 *
 * <p>Memory: one budget ({@link StoreOptions#memoryBudgetBytes}) for every timeline's
 * in-memory layers; writers wait, bounded, while it is exceeded.
 */
final class LayeredStore implements PageStore {

    private static final System.Logger LOG = System.getLogger(LayeredStore.class.getName());
    /** Frozen layers a timeline may have waiting for the flusher before its writer waits. */
    private static final int MAX_FROZEN = 2;
    /** How long a writer waits for its timeline's flush backlog before it fails. */
    static final long BACKLOG_WAIT_SECONDS = 30;
    /**
     * How long a merged-away layer file stays open after it was unlinked: readers that took the
     * timeline's layers just before the swap finish their reads on it (a read takes
     * microseconds to milliseconds; on Linux an unlinked open file stays readable).
     */
    static final long RETIRED_CLOSE_SECONDS = 60;

    /** Points in a merge where tests inject failures (a crash there: {@link #crash()}). */
    interface CompactionProbe {
        void reached(String step) throws IOException;
    }

    private final Path directory;
    private final Path layersDirectory;
    private final Path marksDirectory;
    private final Path quarantineDirectory;
    /** Timelines held back from serving, with their manifest entries kept exactly as read. */
    private final ConcurrentHashMap<TimelineId, Manifest.TimelineEntry> heldBack = new ConcurrentHashMap<>();
    /** First log position of each held-back timeline's records: the log is not trimmed past it. */
    private final ConcurrentHashMap<TimelineId, Long> logPins = new ConcurrentHashMap<>();
    private final StoreOptions options;
    private final Disk disk;
    private final long segmentBytes;
    private final PageCache cache;
    private final ConcurrentHashMap<TimelineId, TimelineImpl> timelines = new ConcurrentHashMap<>();
    private final ReentrantReadWriteLock appendLock = new ReentrantReadWriteLock();
    private final Object timelinesLock = new Object();
    private final Object manifestLock = new Object();
    private final ExecutorService flusher;
    /** Background merges of timelines with many layer files (never the flusher: flushes go on). */
    private final ExecutorService compactor;
    private final Set<TimelineId> compactionsQueued = ConcurrentHashMap.newKeySet();
    /** Merged-away layer files: unlinked at once, closed {@link #RETIRED_CLOSE_SECONDS} later. */
    private final Set<LayerFile> retired = ConcurrentHashMap.newKeySet();
    private final AtomicLong compactions = new AtomicLong();
    private final AtomicLong compactionBytes = new AtomicLong();
    private final AtomicLong versionsDropped = new AtomicLong();
    /** Bytes of every live timeline's in-memory layers; held to {@link StoreOptions#memoryBudgetBytes}. */
    private final AtomicLong memoryBytes = new AtomicLong();
    private final AtomicLong memoryPeak = new AtomicLong();
    /** Test hook called at the steps of a merge ("written", "swapped"); may throw to fail it there. */
    volatile CompactionProbe probe = step -> { };
    private final ScheduledExecutorService marker;
    private final Map<TimelineId, Future<?>> pendingFlushes = new ConcurrentHashMap<>();

    private FileChannel lockChannel;
    private FileLock lock;
    private IngestLog log;
    private long nextLayerId; // guarded by manifestLock
    private volatile boolean closed;

    private LayeredStore(Path directory, StoreOptions options, long segmentBytes, Disk disk) {
        this.disk = disk;
        this.segmentBytes = segmentBytes;
        this.directory = directory;
        this.layersDirectory = directory.resolve("layers");
        this.marksDirectory = directory.resolve("marks");
        this.quarantineDirectory = directory.resolve("quarantine");
        this.options = options;
        this.cache = new PageCache(options.pageCacheBytes());
        this.flusher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pgbranch-layer-flusher");
            t.setDaemon(true);
            return t;
        });
        this.compactor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pgbranch-compactor");
            t.setDaemon(true);
            return t;
        });
        this.marker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgbranch-time-marks");
            t.setDaemon(true);
            return t;
        });
    }

    static LayeredStore open(Path directory, StoreOptions options) throws IOException {
        return open(directory, options, IngestLog.SEGMENT_BYTES, OsDisk.INSTANCE);
    }

    /** As {@link #open(Path, StoreOptions)} with a given ingest log segment size (tests). */
    static LayeredStore open(Path directory, StoreOptions options, long segmentBytes) throws IOException {
        return open(directory, options, segmentBytes, OsDisk.INSTANCE);
    }

    /** As {@link #open(Path, StoreOptions, long)} on a given disk (tests simulate power cuts with one). */
    static LayeredStore open(Path directory, StoreOptions options, long segmentBytes, Disk disk) throws IOException {
        LayeredStore store = new LayeredStore(directory, options, segmentBytes, disk);
        try {
            store.recover();
        } catch (IOException | RuntimeException e) {
            store.abandon();
            throw e;
        }
        store.marker.scheduleWithFixedDelay(store::autoMarks, 1, 1, TimeUnit.SECONDS);
        return store;
    }

    // ------------------------------------------------------------------ recovery

    private void recover() throws IOException {
        disk.createDirectories(directory);
        disk.createDirectories(layersDirectory);
        disk.createDirectories(marksDirectory);
        lockChannel = disk.open(directory.resolve("LOCK"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            throw new IOException("page store " + directory + " is already open (by this or another process)");
        }
        Manifest manifest = Manifest.read(directory, disk);
        if (manifest == null) {
            // A new store has neither layers nor log segments. Writing an empty manifest over
            // existing ones would make every layer file unlisted, and the next open delete them.
            List<Path> layerFiles = disk.list(layersDirectory);
            Path wal = directory.resolve("wal");
            boolean segments = disk.exists(wal)
                    && disk.list(wal).stream().anyMatch(p -> p.getFileName().toString().endsWith(".log"));
            if (!layerFiles.isEmpty() || segments) {
                throw new IOException("page store " + directory + " has no manifest but holds "
                        + layerFiles.size() + " layer file(s)" + (segments ? " and ingest log segments" : "")
                        + ": refusing to start an empty store over them (restore the manifest, or move the "
                        + "directory away to start afresh)");
            }
            manifest = Manifest.empty();
            manifest.write(directory, options.fsync(), disk);
        }
        nextLayerId = manifest.nextLayerId();
        if (options.fsync()) {
            // After a kill -9 the manifest (and what it lists) may be in the page cache only;
            // the store is about to trim and serve by it (PostgreSQL fsyncs its data directory
            // at startup after a crash for the same reason). The manifest is written anew rather
            // than fsynced: after a failed fsync or directory fsync of the last process its
            // bytes or its name may be cached but marked clean, which an fsync would not write.
            // The layers it lists were forced before it listed them; here they are only forced.
            manifest.write(directory, true, disk);
            for (Manifest.TimelineEntry t : manifest.timelines()) {
                for (Manifest.LayerEntry l : t.layers()) {
                    Path p = layersDirectory.resolve(Manifest.layerFileName(t.id(), l.id()));
                    if (disk.exists(p)) {
                        try (FileChannel c = disk.open(p, StandardOpenOption.READ)) {
                            c.force(true);
                        }
                    }
                }
            }
            disk.syncDirectory(layersDirectory);
        }

        Set<String> listed = new HashSet<>();
        Map<TimelineId, Manifest.TimelineEntry> entries = new HashMap<>();
        for (Manifest.TimelineEntry t : manifest.timelines()) {
            entries.put(t.id(), t);
            for (Manifest.LayerEntry l : t.layers()) {
                listed.add(Manifest.layerFileName(t.id(), l.id()));
                nextLayerId = Math.max(nextLayerId, l.id() + 1);
            }
        }
        for (Path p : disk.list(layersDirectory)) {
            String name = p.getFileName().toString();
            if (listed.contains(name)) {
                continue;
            }
            TimelineId owner = parseId(name);
            if (name.endsWith(".tmp") || (owner != null && entries.containsKey(owner))) {
                // An unfinished write, or a file of a known timeline that no manifest lists: a
                // flush whose manifest write did not happen (its versions are still in the log,
                // which is trimmed only behind a manifest listing them) or a merged-away input
                // (its versions are in the listed output). Either way redundant.
                LOG.log(System.Logger.Level.INFO, "deleting unlisted layer file {0}", p);
                disk.deleteIfExists(p);
            } else {
                // A timeline the manifest does not know (an older manifest put back?): keep it.
                Path aside = quarantineDirectory.resolve("layers");
                disk.createDirectories(aside);
                LOG.log(System.Logger.Level.WARNING, "layer file {0} belongs to no timeline of the manifest: "
                        + "moved to {1}", p, aside);
                disk.move(p, aside.resolve(name));
            }
        }
        for (Manifest.TimelineEntry t : manifest.timelines()) {
            if (t.quarantine() != null) {
                holdBack(t, t.quarantine(), entries);
            }
        }
        for (Manifest.TimelineEntry t : manifest.timelines()) {
            if (!heldBack.containsKey(t.id())) {
                try {
                    instantiate(t, entries);
                } catch (DamagedLayerException e) {
                    LOG.log(System.Logger.Level.ERROR, "quarantining timeline " + e.timeline() + " and its descendants", e);
                    holdBack(entries.get(e.timeline()), e.getMessage(), entries);
                }
            }
        }
        for (Path p : disk.list(marksDirectory)) {
            String name = p.getFileName().toString();
            TimelineId owner = parseId(name);
            if (!name.endsWith(".marks") || (!timelines.containsKey(owner) && !heldBack.containsKey(owner))) {
                disk.deleteIfExists(p);
            }
        }
        Map<TimelineId, Long> replayedFrom = new HashMap<>();
        log = IngestLog.open(directory.resolve("wal"), quarantineDirectory, options.fsync(), segmentBytes, disk,
                (record, start, end) -> {
                    replayedFrom.putIfAbsent(record.timeline(), start);
                    TimelineImpl t = timelines.get(record.timeline());
                    if (t != null) {
                        t.replay(record.lsn(), record.batch(), start);
                    }
                },
                cut -> quarantineForLog(cut, entries, replayedFrom));
        for (Map.Entry<TimelineId, Long> e : replayedFrom.entrySet()) {
            if (heldBack.containsKey(e.getKey())) {
                logPins.put(e.getKey(), e.getValue()); // its records stay until an operator decides
            }
        }
        for (TimelineImpl t : timelines.values()) {
            if (t.oldestFrozen() != null) {
                scheduleFlush(t);
            }
        }
    }

    /**
     * Called by log recovery before it cuts damaged history: holds back the timelines that
     * wrote behind the cut or own the damaged record (every live one if that is unknown), and
     * makes that durable first, so that a crash after the cut cannot forget it.
     */
    private void quarantineForLog(LogRecovery.Cut cut, Map<TimelineId, Manifest.TimelineEntry> entries,
                                  Map<TimelineId, Long> replayedFrom) throws IOException {
        if (cut.kind() != LogRecovery.CutKind.DAMAGED) {
            return;
        }
        Set<TimelineId> affected = new HashSet<>();
        boolean ownerKnown = !cut.ownerUnknown();
        for (TimelineId id : cut.affected()) {
            if (entries.containsKey(id)) {
                affected.add(id);
            }
        }
        if (!ownerKnown || affected.isEmpty()) {
            affected.addAll(timelines.keySet()); // the damaged record could be anybody's last write
        }
        String reason = "ingest log damaged at " + cut.segment().getFileName() + " offset " + cut.offset() + " ("
                + cut.evidence() + "); what it held from there on was moved to " + cut.preserved()
                + " and may include acknowledged writes of this timeline";
        for (TimelineId id : affected) {
            TimelineImpl t = timelines.remove(id);
            if (t != null) {
                for (LayerFile f : t.layers().files()) {
                    closeQuietly(f);
                }
                closeQuietly(t.marksFile());
                t.markDeleted();
                memoryReleased(t.pendingBytes());
            }
            if (!heldBack.containsKey(id)) {
                holdBack(entries.get(id), reason, entries);
            }
        }
        // Descendants of a held-back timeline read through it: held back too.
        for (TimelineId id : List.copyOf(timelines.keySet())) {
            TimelineImpl t = timelines.get(id);
            if (t != null && t.ancestorTimeline() != null && heldBack.containsKey(t.ancestorTimeline().id())) {
                timelines.remove(id);
                for (LayerFile f : t.layers().files()) {
                    closeQuietly(f);
                }
                closeQuietly(t.marksFile());
                t.markDeleted();
                memoryReleased(t.pendingBytes());
                holdBack(entries.get(id), "its ancestor " + t.ancestorTimeline().id() + " is quarantined", entries);
            }
        }
        writeManifest();
    }

    /** Holds a timeline and every descendant back from serving, keeping their manifest entries as they are. */
    private void holdBack(Manifest.TimelineEntry entry, String reason, Map<TimelineId, Manifest.TimelineEntry> entries) {
        heldBack.put(entry.id(), entry.quarantine() != null ? entry : entry.withQuarantine(reason));
        for (Manifest.TimelineEntry other : entries.values()) {
            if (other.ancestor() != null && other.ancestor().timeline().equals(entry.id())
                    && !heldBack.containsKey(other.id())) {
                holdBack(other, "its ancestor " + entry.id() + " is quarantined", entries);
            }
        }
    }

    private static TimelineId parseId(String fileName) {
        try {
            return TimelineId.parse(fileName.substring(0, Math.min(32, fileName.length())));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private TimelineImpl instantiate(Manifest.TimelineEntry entry, Map<TimelineId, Manifest.TimelineEntry> entries)
            throws IOException {
        TimelineImpl existing = timelines.get(entry.id());
        if (existing != null) {
            return existing;
        }
        TimelineImpl ancestor = null;
        if (entry.ancestor() != null) {
            Manifest.TimelineEntry a = entries.get(entry.ancestor().timeline());
            if (a == null) {
                throw new DamagedLayerException(entry.id(), new IOException("manifest: timeline " + entry.id()
                        + " has a missing ancestor " + entry.ancestor().timeline()));
            }
            ancestor = instantiate(a, entries);
        }
        TimelineImpl t = new TimelineImpl(this, entry.id(), ancestor,
                entry.ancestor() == null ? 0 : entry.ancestor().lsn(), entry.diskConsistentLsn(), entry.lsnFloor());
        List<LayerFile> files = new ArrayList<>();
        try {
            for (Manifest.LayerEntry l : entry.layers()) {
                Path path = layersDirectory.resolve(Manifest.layerFileName(entry.id(), l.id()));
                LayerFile f = LayerFile.open(l.id(), path, disk);
                files.add(f);
                if (f.size() != l.size()) {
                    throw new IOException("layer file " + path + " has " + f.size() + " bytes, the manifest says "
                            + l.size() + " (offset " + Math.min(f.size(), l.size()) + ")");
                }
                if (!f.timeline().equals(entry.id())) {
                    throw new IOException("layer file " + path + " belongs to timeline " + f.timeline() + " (offset 16)");
                }
            }
        } catch (IOException | RuntimeException e) {
            for (LayerFile f : files) {
                f.close();
            }
            if (e instanceof DamagedLayerException d) {
                throw d;
            }
            throw new DamagedLayerException(entry.id(), e instanceof IOException io ? io : new IOException(e));
        }
        t.loadFiles(files);
        t.loadHorizon(entry.gcHorizon());
        timelines.put(entry.id(), t);
        List<Timeline.Mark> marks = new ArrayList<>();
        MarksFile mf = MarksFile.open(marksDirectory.resolve(entry.id() + ".marks"), options.fsync(), disk, marks);
        t.openMarks(mf, marks);
        return t;
    }

    // ------------------------------------------------------------------ timelines

    @Override
    public TimelineId createRootTimeline(int uid, int gid) throws IOException {
        checkOpen();
        synchronized (timelinesLock) {
            TimelineId id = TimelineId.random();
            TimelineImpl t = new TimelineImpl(this, id, null, 0, 0, 0);
            t.openMarks(MarksFile.open(marksDirectory.resolve(id + ".marks"), options.fsync(), disk, new ArrayList<>()),
                    List.of());
            timelines.put(id, t);
            try {
                t.initializeRoot(uid, gid);
                t.sync();
                writeManifest();
                t.addMark(new Timeline.Mark(t.lastLsn(), Instant.now(), null));
            } catch (IOException | RuntimeException e) {
                timelines.remove(id);
                t.markDeleted();
                closeQuietly(t.marksFile());
                throw e;
            }
            return id;
        }
    }

    @Override
    public TimelineId createBranch(TimelineId ancestorId, long ancestorLsn, long lsnFloor) throws IOException {
        checkOpen();
        synchronized (timelinesLock) {
            TimelineImpl ancestor = live(ancestorId);
            if (ancestorLsn > ancestor.lastLsn()) {
                throw new IllegalArgumentException("LSN " + Lsn.format(ancestorLsn) + " is above the last LSN "
                        + Lsn.format(ancestor.lastLsn()) + " of timeline " + ancestorId);
            }
            if (ancestorLsn < ancestor.startLsn()) {
                throw new IllegalArgumentException("LSN " + Lsn.format(ancestorLsn) + " is below the start "
                        + Lsn.format(ancestor.startLsn()) + " of timeline " + ancestorId);
            }
            // Below the horizon only an existing child's branch point is still intact (GC
            // retains exactly those, and it computes them under this same lock).
            if (ancestorLsn < ancestor.gcHorizon() && !isBranchPoint(ancestor, ancestorLsn)) {
                throw new IllegalArgumentException("LSN " + Lsn.format(ancestorLsn) + " is below the GC horizon "
                        + Lsn.format(ancestor.gcHorizon()) + " of timeline " + ancestorId
                        + ": that history was garbage-collected");
            }
            ancestor.sync();
            TimelineId id = TimelineId.random();
            TimelineImpl t = new TimelineImpl(this, id, ancestor, ancestorLsn, ancestorLsn, lsnFloor);
            t.openMarks(MarksFile.open(marksDirectory.resolve(id + ".marks"), options.fsync(), disk, new ArrayList<>()),
                    List.of());
            timelines.put(id, t);
            try {
                writeManifest();
                t.addMark(new Timeline.Mark(t.lastLsn(), Instant.now(), null));
            } catch (IOException | RuntimeException e) {
                timelines.remove(id);
                t.markDeleted();
                closeQuietly(t.marksFile());
                throw e;
            }
            return id;
        }
    }

    /** Whether a live child of {@code t} branched at {@code lsn}; the caller holds timelinesLock. */
    private boolean isBranchPoint(TimelineImpl t, long lsn) {
        for (long point : childPoints(t)) {
            if (point == lsn) {
                return true;
            }
        }
        return false;
    }

    /**
     * Deletes a held-back timeline on an operator's explicit request (the caller holds
     * timelinesLock and checked it has no children): its entry leaves the manifest first, then
     * its files go, and its log records stop pinning the log.
     */
    private void purgeQuarantined(TimelineId id) throws IOException {
        Manifest.TimelineEntry entry = heldBack.remove(id);
        try {
            writeManifest();
        } catch (IOException | RuntimeException e) {
            heldBack.put(id, entry);
            throw e;
        }
        for (Manifest.LayerEntry l : entry.layers()) {
            disk.deleteIfExists(layersDirectory.resolve(Manifest.layerFileName(id, l.id())));
        }
        disk.deleteIfExists(marksDirectory.resolve(id + ".marks"));
        logPins.remove(id);
        LOG.log(System.Logger.Level.WARNING, "purged quarantined timeline {0} ({1})", id, entry.quarantine());
    }

    /** Branch points of the live children of {@code t}; the caller holds timelinesLock. */
    private long[] childPoints(TimelineImpl t) {
        // A held-back child pins its branch point too: an operator may yet release it.
        return java.util.stream.LongStream.concat(
                timelines.values().stream()
                        .filter(c -> c.ancestorTimeline() == t && !c.isDeleted())
                        .mapToLong(c -> c.ancestor().orElseThrow().lsn()),
                heldBack.values().stream()
                        .filter(e -> e.ancestor() != null && e.ancestor().timeline().equals(t.id()))
                        .mapToLong(e -> e.ancestor().lsn()))
                .toArray();
    }

    private TimelineImpl live(TimelineId id) {
        TimelineImpl t = id == null ? null : timelines.get(id);
        if (t == null) {
            Manifest.TimelineEntry held = id == null ? null : heldBack.get(id);
            if (held != null) {
                throw new QuarantinedTimelineException(id, held.quarantine());
            }
            throw new NoSuchTimelineException(id);
        }
        return t;
    }

    @Override
    public Map<TimelineId, String> quarantined() {
        Map<TimelineId, String> result = new HashMap<>();
        for (Manifest.TimelineEntry e : heldBack.values()) {
            result.put(e.id(), e.quarantine());
        }
        return Map.copyOf(result);
    }

    @Override
    public Timeline timeline(TimelineId id) throws NoSuchTimelineException {
        return live(id);
    }

    @Override
    public Set<TimelineId> timelines() {
        return Set.copyOf(timelines.keySet());
    }

    @Override
    public Optional<Ancestor> ancestor(TimelineId id) throws NoSuchTimelineException {
        Manifest.TimelineEntry held = id == null ? null : heldBack.get(id);
        return held != null ? Optional.ofNullable(held.ancestor()) : live(id).ancestor();
    }

    @Override
    public void deleteTimeline(TimelineId id) throws IOException {
        checkOpen();
        TimelineImpl t;
        synchronized (timelinesLock) {
            for (Manifest.TimelineEntry e : heldBack.values()) {
                if (e.ancestor() != null && e.ancestor().timeline().equals(id)) {
                    throw new IllegalStateException("timeline " + id + " is the ancestor of " + e.id()
                            + " (quarantined)");
                }
            }
            if (heldBack.containsKey(id)) {
                purgeQuarantined(id);
                return;
            }
            t = live(id);
            for (TimelineImpl other : timelines.values()) {
                if (other.ancestorTimeline() == t) {
                    throw new IllegalStateException("timeline " + id + " is the ancestor of " + other.id());
                }
            }
            t.markDeleted();
            timelines.remove(id);
            writeManifest();
        }
        Future<?> pending = pendingFlushes.remove(id);
        if (pending != null) {
            await(pending);
        }
        // A merge of this timeline finishes first (it sees the deletion and keeps nothing).
        t.compactionLock().lock();
        try {
            for (LayerFile f : t.layers().files()) {
                f.close();
                cache.evictFile(f.id());
                disk.deleteIfExists(f.path());
            }
        } finally {
            t.compactionLock().unlock();
        }
        usageCache.remove(id);
        memoryReleased(t.pendingBytes());
        t.closeMarks();
        disk.deleteIfExists(t.marksFile().path());
        trimLog();
    }

    // ------------------------------------------------------------------ writes and flushes

    StoreOptions options() {
        return options;
    }

    PageCache cache() {
        return cache;
    }

    IngestLog log() {
        return log;
    }

    /**
     * Appends a timeline's record and indexes it in its open layer, as one step with respect
     * to the computation of the log trim point. Returns the log position past the record.
     */
    long append(TimelineImpl t, long lsn, Batch batch) throws IOException {
        checkOpen();
        appendLock.readLock().lock();
        try {
            long end = log.append(t.id(), lsn, batch);
            t.index(lsn, batch, end - 1);
            return end;
        } catch (IOException e) {
            if (DiskErrors.isNoSpace(e)) {
                throw new NamespaceException(NamespaceException.Reason.NO_SPACE, "ingest log: no space left on device");
            }
            throw e;
        } finally {
            appendLock.readLock().unlock();
        }
    }

    /**
     * Queues a drain of the timeline's frozen layers, unless one is queued or running: the
     * drain flushes them all, oldest first, so a backlog never outgrows one schedule.
     */
    void scheduleFlush(TimelineImpl t) {
        pendingFlushes.compute(t.id(), (id, pending) -> {
            if (pending != null && !pending.isDone()) {
                return pending;
            }
            try {
                return flusher.submit(() -> drainFrozen(t));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                return null; // closing: the frozen layers stay in the ingest log and are replayed on open
            }
        });
    }

    void memoryAdded(long bytes) {
        long now = memoryBytes.addAndGet(bytes);
        if (now > memoryPeak.get()) {
            memoryPeak.accumulateAndGet(now, Math::max);
        }
    }

    void memoryReleased(long bytes) {
        memoryBytes.addAndGet(-bytes);
    }

    /**
     * Keeps every timeline's in-memory layers together within the memory budget: past it, the
     * largest open layer (across timelines) is frozen and flushed, and the writer waits until
     * the flusher has brought the total back under the budget. Called before an append by the
     * writer of {@code t}, which holds t's writer lock (other timelines' layers are frozen only
     * if their writer lock is free, never waited for). Bounded like {@link #awaitFlushBacklog}.
     */
    private void awaitMemoryBudget(TimelineImpl t, long deadline) throws IOException {
        long budget = options.memoryBudgetBytes();
        while (memoryBytes.get() > budget && !closed) {
            TimelineImpl largest = null;
            for (TimelineImpl c : timelines.values()) {
                if (!c.isDeleted() && (largest == null || c.openBytes() > largest.openBytes())) {
                    largest = c;
                }
            }
            if (largest != null && largest.openBytes() > 0) {
                boolean frozen;
                if (largest == t || largest.writerHeldByCurrentThread()) {
                    largest.freezeHeld();
                    frozen = true;
                } else {
                    frozen = largest.tryFreeze();
                }
                if (frozen) {
                    scheduleFlush(largest);
                    continue;
                }
            }
            IOException failure = t.flushFailure();
            if (failure != null) {
                throw backlogFailure(t, failure);
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("in-memory layers stayed above the store's memory budget of " + budget
                        + " bytes for " + BACKLOG_WAIT_SECONDS + " s (the layer flusher does not keep up)");
            }
            for (TimelineImpl c : timelines.values()) {
                if (c.oldestFrozen() != null) {
                    scheduleFlush(c); // a drain may have stopped at a failure: retry
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    /**
     * Makes the writer wait while the timeline has more than {@link #MAX_FROZEN} frozen layers
     * (backpressure: memory stays bounded when the disk is slower than the writer). The caller
     * holds the timeline's writer lock, so the wait is bounded: it ends when a flush attempt
     * made while waiting fails ({@code NO_SPACE} for a full disk: the mutation is refused, and
     * the next one tries again), or after {@link #BACKLOG_WAIT_SECONDS}. Another timeline's
     * success or failure does not matter here.
     */
    void awaitFlushBacklog(TimelineImpl t) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BACKLOG_WAIT_SECONDS);
        while (t.layers().frozen().size() > MAX_FROZEN && !t.isDeleted()) {
            if (closed) {
                throw new IOException("page store " + directory + " is closing");
            }
            scheduleFlush(t);
            Future<?> f = pendingFlushes.get(t.id());
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IOException("layer flushes of timeline " + t.id() + " did not keep up for "
                        + BACKLOG_WAIT_SECONDS + " s");
            }
            if (f == null) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
                continue;
            }
            try {
                f.get(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                continue; // still flushing: look again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while waiting for a layer flush");
            } catch (ExecutionException e) {
                throw new IOException("layer flush failed", e.getCause());
            }
            // A drain ran to its end while we waited: if the backlog is still there, it failed.
            IOException failure = t.flushFailure();
            if (failure != null && t.layers().frozen().size() > MAX_FROZEN) {
                throw backlogFailure(t, failure);
            }
        }
        awaitMemoryBudget(t, deadline);
    }

    private static IOException backlogFailure(TimelineImpl t, IOException failure) {
        if (DiskErrors.isNoSpace(failure)) {
            return new NamespaceException(NamespaceException.Reason.NO_SPACE,
                    "layer flush of timeline " + t.id() + ": no space left on device");
        }
        return new IOException("layer flush of timeline " + t.id() + " failed: " + failure.getMessage(), failure);
    }

    /** Flushes every frozen layer of the timeline, oldest first, stopping at the first failure. */
    private void drainFrozen(TimelineImpl t) {
        InMemoryLayer layer;
        while ((layer = t.oldestFrozen()) != null && !t.isDeleted() && !closed) {
            flushOldest(t);
            if (t.oldestFrozen() == layer) {
                return; // failed: recorded on the timeline; the next schedule retries
            }
        }
    }

    private static void await(Future<?> f) throws IOException {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for a layer flush", e);
        } catch (ExecutionException e) {
            throw new IOException("layer flush failed", e.getCause());
        }
    }

    private void flushOldest(TimelineImpl t) {
        InMemoryLayer layer = t.oldestFrozen();
        if (layer == null || t.isDeleted()) {
            return;
        }
        try {
            long id;
            synchronized (manifestLock) {
                id = nextLayerId++;
            }
            Path path = layersDirectory.resolve(Manifest.layerFileName(t.id(), id));
            LayerWriter.write(path, t.id(), layer, options.fsync(), disk);
            LayerFile file = LayerFile.open(id, path, disk);
            synchronized (manifestLock) {
                if (t.isDeleted()) {
                    file.close();
                    disk.deleteIfExists(path);
                    return;
                }
                // Listed by a durable manifest first, then swapped in: only then do the durable
                // LSN and the log trim point move past the frozen layer's records. (The other
                // way round, a crash or a failed manifest write left the only copy in a file
                // that recovery treats as unlisted, behind a trimmed log.) Under manifestLock,
                // so that no manifest written in between leaves the file out.
                try {
                    writeManifest(t, file);
                } catch (IOException | RuntimeException e) {
                    file.close(); // unlisted: the next open deletes it (the log still holds its records)
                    throw e;
                }
                t.layerWritten(layer, file);
            }
            t.flushSucceeded();
            trimLog();
            scheduleCompaction(t);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "flushing a layer of timeline " + t.id() + " failed", e);
            t.flushFailed(e instanceof IOException io ? io : new IOException(e));
        }
    }

    private void writeManifest() throws IOException {
        writeManifest(null, null);
    }

    /**
     * Writes the manifest of every live timeline's layer files, plus {@code added} as the newest
     * file of {@code owner} if given (a flush lists its file here before anyone may rely on
     * it: see {@link #flushOldest}), and every held-back timeline's entry as it was read.
     */
    private void writeManifest(TimelineImpl owner, LayerFile added) throws IOException {
        synchronized (manifestLock) {
            List<Manifest.TimelineEntry> entries = new ArrayList<>();
            for (TimelineImpl t : timelines.values()) {
                if (t.isDeleted()) {
                    continue;
                }
                List<Manifest.LayerEntry> layers = new ArrayList<>();
                TimelineImpl.Layers l = t.layers();
                for (LayerFile f : l.files()) {
                    layers.addFirst(new Manifest.LayerEntry(f.id(), f.size()));
                }
                long diskConsistent = l.files().isEmpty()
                        ? t.ancestor().map(Ancestor::lsn).orElse(0L)
                        : l.files().getFirst().maxLsn();
                if (t == owner) {
                    layers.addLast(new Manifest.LayerEntry(added.id(), added.size()));
                    diskConsistent = Math.max(diskConsistent, added.maxLsn());
                }
                entries.add(new Manifest.TimelineEntry(t.id(), t.ancestor().orElse(null), diskConsistent,
                        t.gcHorizon(), List.copyOf(layers), t.lsnFloor(), null));
            }
            entries.addAll(heldBack.values());
            new Manifest(nextLayerId, List.copyOf(entries)).write(directory, options.fsync(), disk);
        }
    }

    private void trimLog() throws IOException {
        long needed;
        List<TimelineImpl> laggards = new ArrayList<>();
        appendLock.writeLock().lock();
        try {
            long write = log.writePosition();
            needed = write;
            for (TimelineImpl t : timelines.values()) {
                long position = t.neededLogPosition();
                needed = Math.min(needed, position);
                if (position < write - 2 * segmentBytes) {
                    laggards.add(t);
                }
            }
        } finally {
            appendLock.writeLock().unlock();
        }
        for (long pin : logPins.values()) {
            needed = Math.min(needed, pin);
        }
        log.trimBefore(needed);
        // A timeline that wrote a little long ago and then went idle would pin the log's old
        // segments forever: flush its small in-memory layer so that the log can be trimmed.
        for (TimelineImpl t : laggards) {
            if (t.tryFreeze()) {
                scheduleFlush(t);
            }
        }
    }

    // ------------------------------------------------------------------ compaction and GC

    @Override
    public GcResult collectGarbage(TimelineId id, long horizonLsn) throws IOException {
        checkOpen();
        TimelineImpl t = live(id);
        if (horizonLsn < 0 || horizonLsn > t.lastLsn()) {
            throw new IllegalArgumentException("GC horizon " + Lsn.format(horizonLsn) + " is above the last LSN "
                    + Lsn.format(t.lastLsn()) + " of timeline " + id);
        }
        GcResult result;
        t.compactionLock().lock();
        try {
            checkOpen();
            result = compact(t, horizonLsn, true, false);
        } finally {
            t.compactionLock().unlock();
        }
        try {
            t.thinMarks(Instant.now());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "thinning the time marks of timeline " + id + " failed", e);
        }
        return result;
    }

    /** Queues a background merge of a timeline that has reached the compaction threshold. */
    private void scheduleCompaction(TimelineImpl t) {
        if (t.layers().files().size() < options.compactionThreshold() || !compactionsQueued.add(t.id())) {
            return;
        }
        try {
            compactor.submit(() -> {
                compactionsQueued.remove(t.id());
                backgroundCompact(t);
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            compactionsQueued.remove(t.id()); // closing
        }
    }

    private void backgroundCompact(TimelineImpl t) {
        if (closed || t.isDeleted() || t.layers().files().size() < options.compactionThreshold()) {
            return;
        }
        // A collectGarbage call in progress merges every file anyway.
        if (!t.compactionLock().tryLock()) {
            return;
        }
        try {
            if (!closed) {
                compact(t, 0, false, true);
            }
        } catch (NoSuchTimelineException e) {
            // deleted meanwhile
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.log(System.Logger.Level.ERROR, "background compaction of timeline " + t.id() + " failed", e);
            }
        } finally {
            t.compactionLock().unlock();
        }
    }

    /**
     * Raises the horizon (if {@code raise}) and merges the timeline's layer files (see
     * {@link LayerMerge}). The caller holds the timeline's compaction lock.
     *
     * <p>Steps and crash safety: (1) under the timelines lock (which createBranch and
     * deleteTimeline hold), raise the horizon, take the children's branch points and write the
     * manifest, so the horizon is durable before anything is dropped and no branch appears at
     * an old point unseen; (2) write the merged file (temp, fsync, rename, directory fsync);
     * (3) swap it for the inputs in the timeline's layers and write the manifest; (4) unlink the
     * inputs, closing them {@link #RETIRED_CLOSE_SECONDS} later. A crash before (3)'s manifest
     * leaves the output unlisted (deleted on open), after it the inputs unlisted.
     */
    private GcResult compact(TimelineImpl t, long requestedHorizon, boolean raise, boolean tiered) throws IOException {
        long horizon;
        long[] points;
        synchronized (timelinesLock) {
            checkOpen();
            if (t.isDeleted() || timelines.get(t.id()) != t) {
                throw new NoSuchTimelineException(t.id());
            }
            long before = t.gcHorizon();
            horizon = raise ? t.raiseHorizon(requestedHorizon) : before;
            points = childPoints(t);
            if (horizon != before) {
                writeManifest();
            }
        }
        List<LayerFile> all = t.layers().files();
        long bytesBefore = bytes(all);
        if (all.isEmpty()) {
            return new GcResult(t.id(), horizon, 0, 0, 0, 0, 0);
        }
        List<LayerFile> inputs = tiered ? tier(all) : all;
        boolean bottom = t.ancestorTimeline() == null && inputs.getLast() == all.getLast();
        LayerMerge.Plan plan = LayerMerge.plan(inputs, horizon, points, t::fileSizeAt, bottom);
        if (plan.dropped() == 0 && inputs.size() < 2) {
            return new GcResult(t.id(), horizon, all.size(), all.size(), bytesBefore, bytesBefore, 0);
        }
        long layerId;
        synchronized (manifestLock) {
            layerId = nextLayerId++;
        }
        Path path = layersDirectory.resolve(Manifest.layerFileName(t.id(), layerId));
        long written = LayerMerge.write(plan, path, t.id(), options.fsync(), disk);
        probe.reached("written"); // a test's crash here leaves the output unlisted, as a real one would
        LayerFile output;
        try {
            output = LayerFile.open(layerId, path, disk);
        } catch (IOException | RuntimeException e) {
            disk.deleteIfExists(path);
            throw e;
        }
        if (t.isDeleted()) {
            output.close();
            disk.deleteIfExists(path);
            throw new NoSuchTimelineException(t.id());
        }
        t.replaceFiles(inputs, output);
        try {
            writeManifest();
        } catch (IOException | RuntimeException e) {
            // The durable manifest may still list the inputs: keep their files (the next
            // manifest write drops them from the list, and the next open deletes them).
            for (LayerFile f : inputs) {
                retired.add(f);
                scheduleClose(f);
            }
            throw e;
        }
        probe.reached("swapped");
        for (LayerFile f : inputs) {
            retire(f);
        }
        compactions.incrementAndGet();
        compactionBytes.addAndGet(written);
        versionsDropped.addAndGet(plan.dropped());
        List<LayerFile> after = t.layers().files();
        LOG.log(System.Logger.Level.DEBUG, "merged {0} layer files of timeline {1} at horizon {2}: {3} -> {4} bytes, "
                + "{5} versions dropped", inputs.size(), t.id(), Lsn.format(horizon), bytesBefore, written, plan.dropped());
        return new GcResult(t.id(), horizon, all.size(), after.size(), bytesBefore, bytes(after), plan.dropped());
    }

    /**
     * The files a background merge takes (newest first): all of them but the oldest ones that
     * are each larger than everything newer. Those were merged before; rewriting them on every
     * round would cost the whole timeline's size per round. The read path stays short: file
     * sizes then at least double from one kept file to the next older one, so a timeline has
     * below threshold + log2(size / layer size) files. (collectGarbage always merges them all.)
     * Merging only the newest files is sound: a version's being the newest at or below a point
     * does not depend on older files.
     */
    static List<LayerFile> tier(List<LayerFile> files) {
        int end = files.size();
        long newer = bytes(files) - files.getLast().size();
        while (end > 2 && files.get(end - 1).size() > newer) {
            end--;
            newer -= files.get(end - 1).size();
        }
        return files.subList(0, end);
    }

    private static long bytes(List<LayerFile> files) {
        long n = 0;
        for (LayerFile f : files) {
            n += f.size();
        }
        return n;
    }

    /** Unlinks a merged-away file now and closes it later (readers may still hold it). */
    private void retire(LayerFile f) throws IOException {
        retired.add(f);
        disk.deleteIfExists(f.path());
        cache.evictFile(f.id());
        scheduleClose(f);
    }

    private void scheduleClose(LayerFile f) {
        try {
            marker.schedule(() -> closeRetired(f), RETIRED_CLOSE_SECONDS, TimeUnit.SECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            closeRetired(f); // closing
        }
    }

    private void closeRetired(LayerFile f) {
        if (retired.remove(f)) {
            closeQuietly(f);
            cache.evictFile(f.id()); // entries a late reader put back
        }
    }

    /**
     * A usage computation's inputs (layer file lists, compared by identity: a timeline's list is
     * replaced whenever a file is added or merged) and its result.
     */
    private record CachedUsage(List<List<LayerFile>> chain, long[] points, long seenByChildren, long ancestors) {
        boolean matches(List<List<LayerFile>> otherChain, long[] otherPoints) {
            if (chain.size() != otherChain.size() || !java.util.Arrays.equals(points, otherPoints)) {
                return false;
            }
            for (int i = 0; i < chain.size(); i++) {
                if (chain.get(i) != otherChain.get(i)) {
                    return false;
                }
            }
            return true;
        }
    }

    private final Map<TimelineId, CachedUsage> usageCache = new ConcurrentHashMap<>();

    /**
     * Usage from the layer indexes (no value read): O(index entries of the timeline and its
     * ancestors) on a miss, O(1) while neither they nor the children change. Ancestors' versions
     * are counted once per key along the chain (a nearer ancestor's version shadows a farther
     * one's); keys the timeline itself overwrote are still counted as shared, since its history
     * from its branch point on reads them. What a child reads is taken from this timeline's
     * layer files only (for a branch point above them, the in-memory version may shadow the
     * file version counted).
     */
    @Override
    public TimelineUsage usage(TimelineId id) throws IOException {
        checkOpen();
        TimelineImpl t = live(id);
        long[] points;
        synchronized (timelinesLock) {
            points = childPoints(t);
        }
        java.util.Arrays.sort(points);
        List<List<LayerFile>> chain = new ArrayList<>();
        for (TimelineImpl a = t; a != null; a = a.ancestorTimeline()) {
            chain.add(a.layers().files());
        }
        List<LayerFile> own = chain.getFirst();
        CachedUsage cached = usageCache.get(id);
        if (cached == null || !cached.matches(chain, points)) {
            long seen = DiskUsage.seenAt(own, points);
            long ancestors = 0;
            org.agrona.collections.LongHashSet shadowed = new org.agrona.collections.LongHashSet();
            long r = t.ancestor().map(Ancestor::lsn).orElse(0L);
            int i = 1;
            for (TimelineImpl a = t.ancestorTimeline(); a != null; a = a.ancestorTimeline(), i++) {
                ancestors += DiskUsage.visibleAt(chain.get(i), r, shadowed);
                r = Math.min(r, a.ancestor().map(Ancestor::lsn).orElse(r));
            }
            cached = new CachedUsage(List.copyOf(chain), points, seen, ancestors);
            if (!t.isDeleted()) {
                usageCache.put(id, cached);
            }
        }
        long ownBytes = bytes(own);
        return new TimelineUsage(ownBytes, ownBytes - cached.seenByChildren(),
                cached.seenByChildren() + cached.ancestors(), t.pendingBytes());
    }

    @Override
    public void flush() throws IOException {
        checkOpen();
        for (TimelineImpl t : timelines.values()) {
            t.freezeForFlush();
        }
        for (TimelineImpl t : timelines.values()) {
            InMemoryLayer oldest;
            while ((oldest = t.oldestFrozen()) != null && !t.isDeleted()) {
                await(flusher.submit(() -> flushOldest(t)));
                if (t.oldestFrozen() == oldest && !t.isDeleted()) {
                    IOException failure = t.flushFailure();
                    throw new IOException("layer flush of timeline " + t.id() + " failed"
                            + (failure == null ? "" : ": " + failure.getMessage()), failure);
                }
            }
        }
    }

    // ------------------------------------------------------------------ marks, stats, close

    private void autoMarks() {
        Instant now = Instant.now();
        for (TimelineImpl t : timelines.values()) {
            try {
                t.autoMark(now);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "recording a time mark of timeline " + t.id() + " failed", e);
            }
        }
    }

    @Override
    public StoreReport verify() throws IOException {
        checkOpen();
        List<StoreReport.Finding> findings = new ArrayList<>();
        try {
            Manifest.read(directory, disk);
        } catch (IOException e) {
            findings.add(new StoreReport.Finding(directory.resolve(Manifest.FILE), 0, e.getMessage()));
        }
        int files = 0;
        long values = 0;
        for (TimelineImpl t : timelines.values()) {
            for (LayerFile f : t.layers().files()) {
                files++;
                try {
                    values += f.verifyValues();
                } catch (CorruptFileException e) {
                    findings.add(new StoreReport.Finding(e.file(), e.offset(), e.problem()));
                } catch (IOException e) {
                    findings.add(new StoreReport.Finding(f.path(), 0, e.getMessage()));
                }
            }
        }
        for (Manifest.TimelineEntry e : heldBack.values()) {
            for (Manifest.LayerEntry l : e.layers()) {
                Path p = layersDirectory.resolve(Manifest.layerFileName(e.id(), l.id()));
                files++;
                try (LayerFile f = LayerFile.open(l.id(), p, disk)) {
                    values += f.verifyValues();
                } catch (CorruptFileException c) {
                    findings.add(new StoreReport.Finding(c.file(), c.offset(), c.problem()));
                } catch (IOException c) {
                    findings.add(new StoreReport.Finding(p, 0, c.getMessage()));
                }
            }
        }
        long[] log = this.log.verify(findings);
        List<Path> kept = new ArrayList<>();
        if (disk.exists(quarantineDirectory)) {
            try (Stream<Path> walk = Files.walk(quarantineDirectory)) {
                walk.filter(Files::isRegularFile).sorted().forEach(kept::add);
            }
        }
        return new StoreReport(List.copyOf(findings), quarantined(), List.copyOf(kept), files, values, log[0], log[1]);
    }

    @Override
    public StoreStats stats() {
        int files = 0;
        long bytes = 0;
        for (TimelineImpl t : timelines.values()) {
            for (LayerFile f : t.layers().files()) {
                files++;
                bytes += f.size();
            }
        }
        return new StoreStats(timelines.size(), files, bytes, log == null ? 0 : log.bytes(), cache.hits(),
                cache.misses(), compactions.get(), compactionBytes.get(), versionsDropped.get(), memoryBytes.get(),
                memoryPeak.get());
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw new IOException("page store " + directory + " is closed");
        }
    }

    @Override
    public void close() throws IOException {
        stopCompactor();
        synchronized (timelinesLock) {
            if (closed) {
                return;
            }
            IOException failure = null;
            try {
                flush();
            } catch (IOException e) {
                failure = e;
            }
            closed = true;
            marker.shutdownNow();
            flusher.shutdown();
            try {
                if (!flusher.awaitTermination(60, TimeUnit.SECONDS)) {
                    LOG.log(System.Logger.Level.WARNING, "layer flusher did not stop within 60 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                if (failure == null) {
                    trimLog();
                }
            } catch (IOException e) {
                failure = e;
            }
            abandon();
            if (failure != null) {
                throw failure;
            }
        }
    }

    /**
     * Releases every file without flushing anything, leaving the directory as a kill -9 would
     * (only what the ingest log, layer files and manifest already hold remains). For tests.
     */
    void crash() {
        stopCompactor();
        synchronized (timelinesLock) {
            abandon();
        }
    }

    /**
     * Stops background merges before the timelines lock is taken (a merge takes that lock at its
     * start): a running merge is interrupted and fails, leaving the store as it was.
     */
    private void stopCompactor() {
        compactor.shutdownNow();
        try {
            if (!compactor.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "compactor of {0} did not stop within 60 s", directory);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Releases every file without flushing (failed open, or the end of close). */
    private void abandon() {
        closed = true;
        marker.shutdownNow();
        flusher.shutdownNow();
        compactor.shutdownNow();
        try {
            // Nothing of this instance may touch the directory once it is given up.
            if (!flusher.awaitTermination(60, TimeUnit.SECONDS) || !marker.awaitTermination(10, TimeUnit.SECONDS)
                    || !compactor.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "background threads of {0} did not stop", directory);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (TimelineImpl t : timelines.values()) {
            for (LayerFile f : t.layers().files()) {
                closeQuietly(f);
            }
            if (t.marksFile() != null) {
                closeQuietly(t.marksFile());
            }
        }
        for (LayerFile f : retired) {
            closeRetired(f);
        }
        timelines.clear();
        if (log != null) {
            closeQuietly(log);
        }
        try {
            if (lock != null) {
                lock.release();
            }
            if (lockChannel != null) {
                lockChannel.close();
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "releasing the store lock failed", e);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "closing " + c + " failed", e);
        }
    }
}

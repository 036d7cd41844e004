package dev.pgbranch.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A timeline of a {@link LayeredStore}: the namespace logic (inodes, directories, pages,
 * truncation) on top of versioned keys, and GetPage@LSN over its layers and its ancestors.
 *
 * <p>Reads look up the newest version at or below the LSN in the open in-memory layer, the
 * frozen ones, then the layer files newest first (skipped as a whole when the timeline's
 * {@link KeyFilter} rules the key out, one by one by their own bitmaps), then in the ancestor at
 * {@code min(lsn, branch LSN)}.
 *
 * <p>Thread-safety: mutations are serialized by a writer lock; a mutation computes its whole
 * {@link Batch} against the state at the last LSN, appends it to the ingest log as one record,
 * adds it to the open layer and only then publishes the new LSN, so readers (lock-free) see
 * either all of it or none of it.
 *
 * <p>Crash behaviour: a mutation is one log record, so it is wholly present or absent after
 * recovery; {@link #sync()} makes the log durable up to this timeline's last record.
 */
final class TimelineImpl implements Timeline {

    private static final int MAX_NAME_BYTES = 255;
    private static final long MAX_FILE_SIZE = Keys.MAX_BLOCKS * PAGE_SIZE;
    private static final int PAGE = PAGE_SIZE;
    private static final byte[] ZEROS = new byte[PAGE_SIZE];

    /** The current layers; replaced as a whole (copy on write) under {@link #layersMonitor}. */
    record Layers(InMemoryLayer open, List<InMemoryLayer> frozen, List<LayerFile> files, KeyFilter filter) {
    }

    private record Tail(long lsn, long logEnd) {
    }

    private final LayeredStore store;
    private final TimelineId id;
    private final TimelineImpl ancestor;
    private final long ancestorLsn;
    /** This timeline's own LSNs are above it (at least the branch LSN; see {@link PageStore#createBranch}). */
    private final long lsnFloor;
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Serializes merges of this timeline's layer files (background compactor and GC calls). */
    private final ReentrantLock compactionLock = new ReentrantLock();
    private final Object layersMonitor = new Object();
    private final Object durableMonitor = new Object();
    /** Guards the marks and their file. */
    private final Object marksLock = new Object();
    private final MarkIndex marks = new MarkIndex();

    private volatile Layers layers = new Layers(new InMemoryLayer(), List.of(), List.of(), KeyFilter.EMPTY);
    private volatile Tail tail;
    private volatile long durableLsn;
    private volatile long diskConsistentLsn;
    private volatile boolean deleted;
    private volatile IOException flushFailure;
    /** Lowest readable LSN of this timeline's own history; raised only, under the store's timelines lock. */
    private volatile long gcHorizon;
    private MarksFile marksFile;
    private long lastAutoMarkLsn;

    TimelineImpl(LayeredStore store, TimelineId id, TimelineImpl ancestor, long ancestorLsn, long diskConsistentLsn,
                 long lsnFloor) {
        this.store = store;
        this.id = id;
        this.ancestor = ancestor;
        this.ancestorLsn = ancestor == null ? Lsn.INVALID : ancestorLsn;
        this.diskConsistentLsn = diskConsistentLsn;
        this.lsnFloor = Math.max(lsnFloor, ancestor == null ? 0 : ancestorLsn);
        long last = Math.max(diskConsistentLsn, this.lsnFloor);
        this.tail = new Tail(last, 0);
        this.durableLsn = last;
    }

    // ------------------------------------------------------------------ identity and state

    @Override
    public TimelineId id() {
        return id;
    }

    @Override
    public Optional<Ancestor> ancestor() {
        return ancestor == null ? Optional.empty() : Optional.of(new Ancestor(ancestor.id, ancestorLsn));
    }

    TimelineImpl ancestorTimeline() {
        return ancestor;
    }

    @Override
    public long lsnFloor() {
        return lsnFloor;
    }

    /** The lowest LSN one may branch at: the branch point, or 1 (the root's creation) for a root. */
    long startLsn() {
        return ancestor == null ? 1 : ancestorLsn;
    }

    @Override
    public long lastLsn() {
        return tail.lsn;
    }

    @Override
    public long durableLsn() {
        return durableLsn;
    }

    long diskConsistentLsn() {
        return diskConsistentLsn;
    }

    Layers layers() {
        return layers;
    }

    boolean isDeleted() {
        return deleted;
    }

    void markDeleted() {
        deleted = true;
    }

    @Override
    public long lsn() {
        return tail.lsn;
    }

    @Override
    public long gcHorizon() {
        return gcHorizon;
    }

    ReentrantLock compactionLock() {
        return compactionLock;
    }

    /** Sets the horizon read from the manifest (at open, before the timeline is shared). */
    void loadHorizon(long horizon) {
        gcHorizon = horizon;
    }

    /**
     * Raises the horizon to {@code horizon} capped at the last LSN; a horizon at or below the
     * start (branch point) or the current one changes nothing. The caller holds the store's
     * timelines lock and makes the result durable before dropping anything. Returns the horizon.
     */
    long raiseHorizon(long horizon) {
        long h = Math.min(horizon, tail.lsn);
        if (h > startLsn() && h > gcHorizon) {
            gcHorizon = h;
        }
        return gcHorizon;
    }

    @Override
    public Namespace at(long lsn) {
        long last = tail.lsn;
        if (lsn < 0 || lsn > last) {
            throw new IllegalArgumentException("LSN " + Lsn.format(lsn) + " is not in timeline " + id
                    + " (last LSN " + Lsn.format(last) + ")");
        }
        requireReadable(lsn);
        return new View(lsn);
    }

    /**
     * Refuses an LSN whose history was given up by GC: below this timeline's horizon, or (below
     * the branch point, where reads fall through to the ancestor) below an ancestor's.
     */
    private void requireReadable(long lsn) {
        TimelineImpl t = this;
        while (t != null) {
            long h = t.gcHorizon;
            if (lsn < h) {
                throw new IllegalArgumentException("LSN " + Lsn.format(lsn) + " is below the GC horizon "
                        + Lsn.format(h) + " of timeline " + t.id + ": that history was garbage-collected");
            }
            if (t.ancestor == null || lsn >= t.ancestorLsn) {
                return;
            }
            t = t.ancestor;
        }
    }

    /**
     * The size of a file at {@code lsn}, or -1 if the inode is not a live file there (for the
     * merge's page rule).
     */
    long fileSizeAt(long inode, long lsn) throws IOException {
        InodeRecord r = inodeAt(inode, lsn);
        return r == null || r.kind() != InodeKind.FILE ? -1 : r.size();
    }

    // ------------------------------------------------------------------ GetPage@LSN

    /** The newest version of a key at or below {@code lsn}, through the ancestors; null if none. */
    Object get(long inode, long block, long lsn) throws IOException {
        TimelineImpl t = this;
        long r = lsn;
        PageCache cache = store.cache();
        while (true) {
            Layers l = t.layers;
            Object v = l.open.get(inode, block, r);
            if (v != null) {
                return v;
            }
            for (InMemoryLayer f : l.frozen) {
                v = f.get(inode, block, r);
                if (v != null) {
                    return v;
                }
            }
            if (!l.files.isEmpty() && l.filter.mayContain(inode, block)) {
                for (LayerFile f : l.files) {
                    if (f.minLsn() <= r) {
                        v = f.get(inode, block, r, cache);
                        if (v != null) {
                            return v;
                        }
                    }
                }
            }
            if (t.ancestor == null) {
                return null;
            }
            r = Math.min(r, t.ancestorLsn);
            t = t.ancestor;
        }
    }

    private InodeRecord inodeAt(long inode, long lsn) throws IOException {
        if (inode <= 0) {
            return null;
        }
        return get(inode, Keys.ATTRIBUTES, lsn) instanceof InodeRecord r ? r : null;
    }

    private DirectoryRecord directoryAt(long inode, long lsn) throws IOException {
        return get(inode, Keys.DIRECTORY, lsn) instanceof DirectoryRecord d ? d : DirectoryRecord.EMPTY;
    }

    /** The entries of {@code directory} at {@code lsn}; NOT_FOUND / NOT_A_DIRECTORY if it is none. */
    private DirectoryRecord entriesOf(long directory, long lsn) throws IOException {
        requireDirectory(directory, lsn);
        return directoryAt(directory, lsn);
    }

    /** Where {@code name} stands in {@code entries}; NOT_FOUND ({@code what} + name) if absent. */
    private static int indexOf(DirectoryRecord entries, String name, String what) throws NamespaceException {
        int i = entries.find(name);
        if (i < 0) {
            throw new NamespaceException(NamespaceException.Reason.NOT_FOUND, what + name);
        }
        return i;
    }

    private InodeRecord requireDirectory(long inode, long lsn) throws IOException {
        InodeRecord r = inodeAt(inode, lsn);
        if (r == null) {
            throw new NamespaceException(NamespaceException.Reason.NOT_FOUND, "no such directory: inode " + inode);
        }
        if (r.kind() != InodeKind.DIRECTORY) {
            throw new NamespaceException(NamespaceException.Reason.NOT_A_DIRECTORY, "not a directory: inode " + inode);
        }
        return r;
    }

    private InodeRecord requireFile(long inode, long lsn) throws IOException {
        InodeRecord r = inodeAt(inode, lsn);
        if (r == null) {
            throw new NamespaceException(NamespaceException.Reason.NOT_FOUND, "no such file: inode " + inode);
        }
        if (r.kind() != InodeKind.FILE) {
            throw new NamespaceException(NamespaceException.Reason.IS_A_DIRECTORY, "is a directory: inode " + inode);
        }
        return r;
    }

    /** The page's bytes at {@code lsn}, or null when it reads as zeros. */
    private byte[] pageAt(long inode, long block, long lsn) throws IOException {
        return get(inode, block, lsn) instanceof byte[] page ? page : null;
    }

    // ------------------------------------------------------------------ reads (Namespace)

    Optional<InodeAttributes> attributesAt(long inode, long lsn) throws IOException {
        InodeRecord r = inodeAt(inode, lsn);
        return r == null ? Optional.empty() : Optional.of(r.attributes());
    }

    long lookupAt(long directory, String name, long lsn) throws IOException {
        InodeRecord d = requireDirectory(directory, lsn);
        if (".".equals(name)) {
            return directory;
        }
        if ("..".equals(name)) {
            return d.parent();
        }
        if (name == null || name.isEmpty()) {
            return NO_INODE;
        }
        DirectoryRecord entries = directoryAt(directory, lsn);
        int i = entries.find(name);
        return i >= 0 ? entries.inode(i) : NO_INODE;
    }

    List<DirectoryEntry> listAt(long directory, long lsn) throws IOException {
        requireDirectory(directory, lsn);
        return directoryAt(directory, lsn).entries();
    }

    int readAt(long inode, long offset, ByteBuffer destination, long lsn) throws IOException {
        if (offset < 0) {
            throw new NamespaceException(NamespaceException.Reason.INVALID_ARGUMENT, "negative offset " + offset);
        }
        InodeRecord f = requireFile(inode, lsn);
        long size = f.size();
        if (offset >= size || !destination.hasRemaining()) {
            return 0;
        }
        int total = (int) Math.min(destination.remaining(), size - offset);
        long position = offset;
        long end = offset + total;
        while (position < end) {
            long block = position / PAGE;
            int from = (int) (position % PAGE);
            int n = (int) Math.min(PAGE - from, end - position);
            byte[] page = pageAt(inode, block, lsn);
            if (page == null) {
                for (int i = 0; i < n; i++) {
                    destination.put((byte) 0);
                }
            } else {
                destination.put(page, from, n);
            }
            position += n;
        }
        return total;
    }

    @Override
    public Optional<InodeAttributes> attributes(long inode) throws IOException {
        return attributesAt(inode, tail.lsn);
    }

    @Override
    public long lookup(long directory, String name) throws IOException {
        return lookupAt(directory, name, tail.lsn);
    }

    @Override
    public List<DirectoryEntry> list(long directory) throws IOException {
        return listAt(directory, tail.lsn);
    }

    @Override
    public int read(long inode, long offset, ByteBuffer destination) throws IOException {
        return readAt(inode, offset, destination, tail.lsn);
    }

    /** A read-only view at a fixed LSN. */
    private final class View implements Namespace {
        private final long lsn;

        View(long lsn) {
            this.lsn = lsn;
        }

        @Override
        public long lsn() {
            return lsn;
        }

        // Each read is checked after it ran: a GC that raised the horizon above this view
        // meanwhile may have dropped what it read (the horizon is raised before anything is
        // dropped, so a read that still sees a low horizon afterwards read intact history).

        @Override
        public Optional<InodeAttributes> attributes(long inode) throws IOException {
            Optional<InodeAttributes> a = attributesAt(inode, lsn);
            stillReadable();
            return a;
        }

        @Override
        public long lookup(long directory, String name) throws IOException {
            long i = lookupAt(directory, name, lsn);
            stillReadable();
            return i;
        }

        @Override
        public List<DirectoryEntry> list(long directory) throws IOException {
            List<DirectoryEntry> l = listAt(directory, lsn);
            stillReadable();
            return l;
        }

        @Override
        public int read(long inode, long offset, ByteBuffer destination) throws IOException {
            int n = readAt(inode, offset, destination, lsn);
            stillReadable();
            return n;
        }

        private void stillReadable() throws IOException {
            try {
                requireReadable(lsn);
            } catch (IllegalArgumentException e) {
                throw new IOException("view of " + this + " is no longer readable: " + e.getMessage(), e);
            }
        }

        @Override
        public String toString() {
            return "timeline " + id + " at " + Lsn.format(lsn);
        }
    }

    // ------------------------------------------------------------------ mutations

    private static void validateName(String name) throws NamespaceException {
        if (name == null || name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0
                || name.indexOf('\0') >= 0 || name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw new NamespaceException(NamespaceException.Reason.INVALID_NAME, "invalid file name: "
                    + (name == null ? "null" : '"' + name.replace("\0", "\\0") + '"'));
        }
    }

    /** Creates the root directory of a new root timeline (its first mutation, LSN 1). */
    void initializeRoot(int uid, int gid) throws IOException {
        Instant now = Instant.now();
        Batch batch = new Batch()
                .put(Keys.COUNTER_INODE, Keys.ATTRIBUTES, new InodeCounter(ROOT_INODE + 1))
                .put(ROOT_INODE, Keys.ATTRIBUTES,
                        new InodeRecord(ROOT_INODE, InodeKind.DIRECTORY, 0700, uid, gid, 0, now, now, ROOT_INODE, 0))
                .put(ROOT_INODE, Keys.DIRECTORY, DirectoryRecord.EMPTY);
        writeLock.lock();
        try {
            commit(batch);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public long create(long directory, String name, InodeKind kind, int mode, int uid, int gid) throws IOException {
        validateName(name);
        if (kind == null) {
            throw new NamespaceException(NamespaceException.Reason.INVALID_ARGUMENT, "no inode kind");
        }
        writeLock.lock();
        try {
            long r = tail.lsn;
            DirectoryRecord entries = entriesOf(directory, r);
            if (entries.find(name) >= 0) {
                throw new NamespaceException(NamespaceException.Reason.EXISTS, "exists: " + name);
            }
            long inode = get(Keys.COUNTER_INODE, Keys.ATTRIBUTES, r) instanceof InodeCounter c ? c.next() : ROOT_INODE + 1;
            Instant now = Instant.now();
            Batch batch = new Batch()
                    .put(Keys.COUNTER_INODE, Keys.ATTRIBUTES, new InodeCounter(inode + 1))
                    .put(inode, Keys.ATTRIBUTES, new InodeRecord(inode, kind, mode & 07777, uid, gid, 0, now, now,
                            kind == InodeKind.DIRECTORY ? directory : 0, 0))
                    .put(directory, Keys.DIRECTORY, entries.with(name, inode, kind));
            if (kind == InodeKind.DIRECTORY) {
                batch.put(inode, Keys.DIRECTORY, DirectoryRecord.EMPTY);
            }
            commit(batch);
            return inode;
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public int write(long inode, long offset, ByteBuffer source) throws IOException {
        if (offset < 0) {
            throw new NamespaceException(NamespaceException.Reason.INVALID_ARGUMENT, "negative offset " + offset);
        }
        int length = source.remaining();
        if (offset > MAX_FILE_SIZE - length) {
            throw new NamespaceException(NamespaceException.Reason.FILE_TOO_LARGE,
                    "write past the maximum file size at offset " + offset);
        }
        writeLock.lock();
        try {
            long r = tail.lsn;
            InodeRecord f = requireFile(inode, r);
            if (length == 0) {
                return 0;
            }
            long end = offset + length;
            long oldSize = f.size();
            long newSize = Math.max(oldSize, end);
            long firstBlock = offset / PAGE;
            long lastBlock = (end - 1) / PAGE;
            Batch batch = new Batch();
            long highWater = extend(batch, f, newSize, firstBlock, lastBlock, r);
            long oldBlocks = blocks(oldSize);
            int base = source.position();
            for (long block = firstBlock; block <= lastBlock; block++) {
                long pageStart = block * PAGE;
                int from = (int) (Math.max(offset, pageStart) - pageStart);
                int to = (int) (Math.min(end, pageStart + PAGE) - pageStart);
                byte[] page = new byte[PAGE];
                if ((from != 0 || to != PAGE) && block < oldBlocks) {
                    byte[] old = pageAt(inode, block, r);
                    if (old != null) {
                        System.arraycopy(old, 0, page, 0, PAGE);
                        if (block == oldBlocks - 1 && oldSize % PAGE != 0) {
                            // Bytes past the old end may be left over from before a truncate.
                            Arrays.fill(page, (int) (oldSize % PAGE), PAGE, (byte) 0);
                        }
                    }
                }
                source.get(base + (int) (pageStart + from - offset), page, from, to - from);
                // Postgres writes many all-zero pages (relation extension, WAL segment
                // initialisation): they cost a tombstone, not 8 KB of log, memory and layer.
                batch.put(inode, block, Arrays.equals(page, ZEROS) ? Tombstone.ZERO_PAGE : page);
            }
            batch.put(inode, Keys.ATTRIBUTES, f.withSize(newSize, highWater, Instant.now()));
            commit(batch);
            source.position(source.limit());
            return length;
        } finally {
            writeLock.unlock();
        }
    }

    private static long blocks(long size) {
        return (size + PAGE - 1) / PAGE;
    }

    /**
     * Adds to {@code batch} what growing the file to {@code newSize} needs, outside the blocks
     * {@code [firstWritten, lastWritten]} the caller writes itself: the old last page with its
     * bytes past the old end zeroed, and ZERO_PAGE tombstones over old versions (from before a
     * truncate) of pages between the old end and the new one. Returns the new high-water mark.
     */
    private long extend(Batch batch, InodeRecord f, long newSize, long firstWritten, long lastWritten, long r)
            throws IOException {
        long oldSize = f.size();
        long newBlocks = blocks(newSize);
        long highWater = Math.max(f.highWaterBlocks(), newBlocks);
        if (newSize <= oldSize) {
            return highWater;
        }
        long oldBlocks = blocks(oldSize);
        if (oldSize % PAGE != 0) {
            long tailBlock = oldBlocks - 1;
            if (tailBlock < firstWritten || tailBlock > lastWritten) {
                byte[] old = pageAt(f.inode(), tailBlock, r);
                if (old != null) {
                    int keep = (int) (oldSize % PAGE);
                    boolean dirty = false;
                    for (int i = keep; i < PAGE && !dirty; i++) {
                        dirty = old[i] != 0;
                    }
                    if (dirty) {
                        byte[] page = new byte[PAGE];
                        System.arraycopy(old, 0, page, 0, keep);
                        batch.put(f.inode(), tailBlock, page);
                    }
                }
            }
        }
        long stop = Math.min(newBlocks, f.highWaterBlocks());
        for (long block = oldBlocks; block < stop; block++) {
            if (block < firstWritten || block > lastWritten) {
                batch.put(f.inode(), block, Tombstone.ZERO_PAGE);
            }
        }
        return highWater;
    }

    @Override
    public void truncate(long inode, long size) throws IOException {
        if (size < 0) {
            throw new NamespaceException(NamespaceException.Reason.INVALID_ARGUMENT, "negative size " + size);
        }
        if (size > MAX_FILE_SIZE) {
            throw new NamespaceException(NamespaceException.Reason.FILE_TOO_LARGE, "size " + size + " over the maximum");
        }
        writeLock.lock();
        try {
            long r = tail.lsn;
            InodeRecord f = requireFile(inode, r);
            Batch batch = new Batch();
            long highWater = extend(batch, f, size, 0, -1, r);
            batch.put(inode, Keys.ATTRIBUTES, f.withSize(size, highWater, Instant.now()));
            commit(batch);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void setAttributes(long inode, Integer mode, Integer uid, Integer gid, Instant modified) throws IOException {
        writeLock.lock();
        try {
            InodeRecord r = inodeAt(inode, tail.lsn);
            if (r == null) {
                throw new NamespaceException(NamespaceException.Reason.NOT_FOUND, "no such inode " + inode);
            }
            commit(new Batch().put(inode, Keys.ATTRIBUTES, r.withAttributes(mode, uid, gid, modified, Instant.now())));
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void unlink(long directory, String name) throws IOException {
        validateName(name);
        writeLock.lock();
        try {
            long r = tail.lsn;
            DirectoryRecord entries = entriesOf(directory, r);
            int i = indexOf(entries, name, "no such file: ");
            if (entries.kind(i) == InodeKind.DIRECTORY) {
                throw new NamespaceException(NamespaceException.Reason.IS_A_DIRECTORY, "is a directory: " + name);
            }
            commit(new Batch()
                    .put(directory, Keys.DIRECTORY, entries.without(name))
                    .put(entries.inode(i), Keys.ATTRIBUTES, Tombstone.DELETED));
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void removeDirectory(long directory, String name) throws IOException {
        validateName(name);
        writeLock.lock();
        try {
            long r = tail.lsn;
            DirectoryRecord entries = entriesOf(directory, r);
            int i = indexOf(entries, name, "no such directory: ");
            if (entries.kind(i) != InodeKind.DIRECTORY) {
                throw new NamespaceException(NamespaceException.Reason.NOT_A_DIRECTORY, "not a directory: " + name);
            }
            long target = entries.inode(i);
            if (directoryAt(target, r).size() > 0) {
                throw new NamespaceException(NamespaceException.Reason.NOT_EMPTY, "directory not empty: " + name);
            }
            commit(new Batch()
                    .put(directory, Keys.DIRECTORY, entries.without(name))
                    .put(target, Keys.ATTRIBUTES, Tombstone.DELETED)
                    .put(target, Keys.DIRECTORY, Tombstone.DELETED));
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void rename(long fromDirectory, String fromName, long toDirectory, String toName) throws IOException {
        validateName(fromName);
        validateName(toName);
        writeLock.lock();
        try {
            long r = tail.lsn;
            DirectoryRecord from = entriesOf(fromDirectory, r);
            requireDirectory(toDirectory, r);
            int si = indexOf(from, fromName, "no such file or directory: ");
            long source = from.inode(si);
            InodeKind kind = from.kind(si);
            boolean sameDirectory = fromDirectory == toDirectory;
            DirectoryRecord to = sameDirectory ? from : directoryAt(toDirectory, r);
            int ti = to.find(toName);
            if (kind == InodeKind.DIRECTORY) {
                long x = toDirectory;
                for (int steps = 0; ; steps++) {
                    if (x == source) {
                        throw new NamespaceException(NamespaceException.Reason.INVALID_ARGUMENT,
                                "cannot move a directory into itself: " + fromName);
                    }
                    if (x == ROOT_INODE || steps > 100_000) {
                        break;
                    }
                    InodeRecord xr = inodeAt(x, r);
                    if (xr == null) {
                        break;
                    }
                    x = xr.parent();
                }
            }
            Batch batch = new Batch();
            if (ti >= 0) {
                long target = to.inode(ti);
                if (target == source) {
                    return; // same file under both names: POSIX says do nothing
                }
                InodeKind targetKind = to.kind(ti);
                if (kind == InodeKind.DIRECTORY) {
                    if (targetKind != InodeKind.DIRECTORY) {
                        throw new NamespaceException(NamespaceException.Reason.NOT_A_DIRECTORY, "not a directory: " + toName);
                    }
                    if (directoryAt(target, r).size() > 0) {
                        throw new NamespaceException(NamespaceException.Reason.NOT_EMPTY, "directory not empty: " + toName);
                    }
                    batch.put(target, Keys.DIRECTORY, Tombstone.DELETED);
                } else if (targetKind == InodeKind.DIRECTORY) {
                    throw new NamespaceException(NamespaceException.Reason.IS_A_DIRECTORY, "is a directory: " + toName);
                }
                batch.put(target, Keys.ATTRIBUTES, Tombstone.DELETED);
            }
            if (sameDirectory) {
                batch.put(fromDirectory, Keys.DIRECTORY, from.without(fromName).with(toName, source, kind));
            } else {
                batch.put(fromDirectory, Keys.DIRECTORY, from.without(fromName));
                batch.put(toDirectory, Keys.DIRECTORY, to.with(toName, source, kind));
                if (kind == InodeKind.DIRECTORY) {
                    InodeRecord s = inodeAt(source, r);
                    if (s != null) {
                        batch.put(source, Keys.ATTRIBUTES, s.withParent(toDirectory, Instant.now()));
                    }
                }
            }
            commit(batch);
        } finally {
            writeLock.unlock();
        }
    }

    /** Appends the batch to the log at the next LSN, indexes it, then publishes the LSN. */
    private void commit(Batch batch) throws IOException {
        if (deleted) {
            throw new IOException("timeline " + id + " was deleted");
        }
        // Backpressure before the append, never after it: a failure here refuses the mutation
        // whole, whereas one after the append would report an error for an applied mutation.
        store.awaitFlushBacklog(this);
        long lsn = tail.lsn + 1;
        long end = store.append(this, lsn, batch);
        tail = new Tail(lsn, end);
        if (layers.open.bytes() >= store.options().inMemoryLayerBytes()) {
            freeze();
            store.scheduleFlush(this);
        }
    }

    /** Called by the store, with its append lock held, right after the record is in the log. */
    void index(long lsn, Batch batch, long logPosition) {
        InMemoryLayer open = layers.open;
        long before = open.bytes();
        open.add(lsn, batch, logPosition);
        store.memoryAdded(open.bytes() - before);
    }

    /** Replays one log record during recovery (single-threaded, before the store is shared). */
    void replay(long lsn, Batch batch, long logPosition) {
        if (lsn <= tail.lsn) {
            return; // already in a layer file (or a duplicate): never apply twice
        }
        InMemoryLayer open = layers.open;
        long before = open.bytes();
        open.add(lsn, batch, logPosition);
        store.memoryAdded(open.bytes() - before);
        tail = new Tail(lsn, 0);
        durableLsn = lsn;
        if (layers.open.bytes() >= store.options().inMemoryLayerBytes()) {
            freeze();
        }
    }

    /** Moves the open layer to the frozen ones; the caller holds the writer lock or is recovering. */
    private void freeze() {
        synchronized (layersMonitor) {
            Layers l = layers;
            if (l.open.isEmpty()) {
                return;
            }
            List<InMemoryLayer> frozen = new ArrayList<>(l.frozen.size() + 1);
            frozen.add(l.open);
            frozen.addAll(l.frozen);
            layers = new Layers(new InMemoryLayer(), List.copyOf(frozen), l.files, l.filter);
        }
    }

    /**
     * Freezes the open layer if the writer lock is free (never waits: the flusher thread calls
     * this, and a writer may be waiting for the flusher). Returns whether a layer was frozen.
     */
    boolean tryFreeze() {
        if (!writeLock.tryLock()) {
            return false;
        }
        try {
            if (layers.open.isEmpty()) {
                return false;
            }
            freeze();
            return true;
        } finally {
            writeLock.unlock();
        }
    }

    /** Bytes of the open layer (the memory budget freezes the largest one). */
    long openBytes() {
        return layers.open.bytes();
    }

    /** Whether the calling thread holds this timeline's writer lock. */
    boolean writerHeldByCurrentThread() {
        return writeLock.isHeldByCurrentThread();
    }

    /** Freezes the open layer; the caller holds the writer lock. */
    void freezeHeld() {
        freeze();
    }

    /** Freezes the open layer if it holds anything (for {@link PageStore#flush()}). */
    void freezeForFlush() {
        writeLock.lock();
        try {
            freeze();
        } finally {
            writeLock.unlock();
        }
    }

    /** The oldest frozen layer, or null. */
    InMemoryLayer oldestFrozen() {
        List<InMemoryLayer> frozen = layers.frozen;
        return frozen.isEmpty() ? null : frozen.getLast();
    }

    /** The last flush of this timeline failed (cleared by the next success). */
    IOException flushFailure() {
        return flushFailure;
    }

    void flushFailed(IOException e) {
        flushFailure = e;
    }

    void flushSucceeded() {
        flushFailure = null;
    }

    /** Replaces a flushed frozen layer by its file. */
    void layerWritten(InMemoryLayer frozenLayer, LayerFile file) {
        synchronized (layersMonitor) {
            Layers l = layers;
            List<InMemoryLayer> frozen = new ArrayList<>(l.frozen);
            frozen.remove(frozenLayer);
            List<LayerFile> files = new ArrayList<>(l.files.size() + 1);
            files.add(file);
            files.addAll(l.files);
            layers = new Layers(l.open, List.copyOf(frozen), List.copyOf(files), l.filter.with(file));
            diskConsistentLsn = Math.max(diskConsistentLsn, frozenLayer.maxLsn());
        }
        store.memoryReleased(frozenLayer.bytes());
        advanceDurable(diskConsistentLsn);
    }

    /**
     * Replaces merged layer files (a run of consecutive files, newest first) by their merge
     * result, in their place: files flushed since stay in front, older files not merged stay
     * behind. Readers holding the old {@link Layers} keep reading the inputs, which the store
     * closes only later.
     */
    void replaceFiles(List<LayerFile> inputs, LayerFile output) {
        synchronized (layersMonitor) {
            Layers l = layers;
            int at = l.files.indexOf(inputs.getFirst());
            if (at < 0 || at + inputs.size() > l.files.size()
                    || !l.files.subList(at, at + inputs.size()).equals(inputs)) {
                throw new IllegalStateException("merged layer files of " + id + " are no longer its files");
            }
            List<LayerFile> files = new ArrayList<>(l.files.size());
            files.addAll(l.files.subList(0, at));
            files.add(output);
            files.addAll(l.files.subList(at + inputs.size(), l.files.size()));
            KeyFilter filter = KeyFilter.EMPTY;
            for (LayerFile f : files) {
                filter = filter.with(f);
            }
            layers = new Layers(l.open, l.frozen, List.copyOf(files), filter);
        }
    }

    /** Bytes of versions still only in memory (and the ingest log). */
    long pendingBytes() {
        Layers l = layers;
        long bytes = l.open.bytes();
        for (InMemoryLayer f : l.frozen) {
            bytes += f.bytes();
        }
        return bytes;
    }

    /** Adds layer files found in the manifest (oldest first) at open. */
    void loadFiles(List<LayerFile> oldestFirst) {
        synchronized (layersMonitor) {
            KeyFilter filter = KeyFilter.EMPTY;
            List<LayerFile> files = new ArrayList<>();
            for (LayerFile f : oldestFirst) {
                files.addFirst(f);
                filter = filter.with(f);
            }
            layers = new Layers(layers.open, layers.frozen, List.copyOf(files), filter);
        }
    }

    /**
     * The log position this timeline still needs (first record not in a layer file), or
     * {@code Long.MAX_VALUE}. Called by the store with its append lock held exclusively.
     */
    long neededLogPosition() {
        Layers l = layers;
        long needed = Long.MAX_VALUE;
        for (InMemoryLayer f : l.frozen) {
            if (f.firstLogPosition() >= 0) {
                needed = Math.min(needed, f.firstLogPosition());
            }
        }
        if (l.open.firstLogPosition() >= 0) {
            needed = Math.min(needed, l.open.firstLogPosition());
        }
        return needed;
    }

    // ------------------------------------------------------------------ durability and marks

    @Override
    public void sync() throws IOException {
        Tail t = tail;
        if (t.lsn <= durableLsn) {
            return;
        }
        if (t.logEnd > 0) {
            store.log().sync(t.logEnd);
        }
        advanceDurable(t.lsn);
    }

    private void advanceDurable(long lsn) {
        synchronized (durableMonitor) {
            if (lsn > durableLsn) {
                durableLsn = lsn;
            }
        }
    }

    void openMarks(MarksFile file, List<Mark> loaded) {
        synchronized (marksLock) {
            this.marksFile = file;
            marks.replace(loaded);
            lastAutoMarkLsn = Math.max(lastAutoMarkLsn, marks.lastLsn());
        }
    }

    void closeMarks() throws IOException {
        synchronized (marksLock) {
            marksFile.close();
        }
    }

    MarksFile marksFile() {
        return marksFile;
    }

    @Override
    public void mark(Instant time, String walPosition) throws IOException {
        if (time == null) {
            throw new IllegalArgumentException("no time");
        }
        if (walPosition != null) {
            Lsn.parse(walPosition);
        }
        sync();
        addMark(new Mark(tail.lsn, time, walPosition));
    }

    /**
     * Records an automatic time mark if durable history advanced since the last one: the
     * store's one marker calls this once a second. A mark names a durable LSN only, so a power
     * cut can never leave a mark pointing at history that was lost (and later rewritten).
     */
    void autoMark(Instant now) throws IOException {
        long durable = durableLsn;
        synchronized (marksLock) {
            if (durable <= lastAutoMarkLsn || deleted) {
                return;
            }
            lastAutoMarkLsn = durable;
        }
        addMark(new Mark(durable, now, null));
    }

    void addMark(Mark mark) throws IOException {
        synchronized (marksLock) {
            if (deleted) {
                return;
            }
            Mark stored = marks.append(mark);
            if (stored != null) {
                marksFile.append(stored);
            }
            lastAutoMarkLsn = Math.max(lastAutoMarkLsn, mark.lsn());
        }
    }

    /** Drops marks below the GC horizon and thins old ones ({@link MarkIndex#thinned}), rewriting the file. */
    void thinMarks(Instant now) throws IOException {
        synchronized (marksLock) {
            if (deleted) {
                return;
            }
            List<Mark> kept = marks.thinned(gcHorizon, now);
            if (kept.size() < marks.size()) {
                marksFile.rewrite(kept);
                marks.replace(kept);
            }
        }
    }

    @Override
    public OptionalLong lsnAt(Instant time) {
        OptionalLong best;
        synchronized (marksLock) {
            best = marks.lsnAt(time);
        }
        // History below the horizon is gone: such a time has no readable LSN any more.
        return best.isEmpty() || best.getAsLong() < gcHorizon ? OptionalLong.empty() : best;
    }

    @Override
    public Optional<Mark> firstMarkAtOrAbove(long lsn) {
        synchronized (marksLock) {
            return marks.firstAtOrAbove(lsn);
        }
    }

    /**
     * The recorded marks, oldest first, without those below the GC horizon except the newest
     * one at or below it (which still says when readable history begins).
     */
    @Override
    public List<Mark> marks() {
        synchronized (marksLock) {
            return List.copyOf(marks.from(gcHorizon));
        }
    }

    /** Marks held in memory (tests: thinning bounds it). */
    int markCount() {
        synchronized (marksLock) {
            return marks.size();
        }
    }

    @Override
    public String toString() {
        return "timeline " + id;
    }
}

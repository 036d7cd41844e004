package dev.pgbranch.pageserver.fuse;

import dev.pgbranch.pageserver.fuse.LocalOverlay.OverlayFile;
import dev.pgbranch.storage.DirectoryEntry;
import dev.pgbranch.storage.InodeAttributes;
import dev.pgbranch.storage.InodeKind;
import dev.pgbranch.storage.Namespace;
import dev.pgbranch.storage.NamespaceException;
import dev.pgbranch.storage.NamespaceException.Reason;
import dev.pgbranch.storage.Timeline;
import org.cryptomator.jfuse.api.DirFiller;
import org.cryptomator.jfuse.api.Errno;
import org.cryptomator.jfuse.api.FileInfo;
import org.cryptomator.jfuse.api.FuseConfig;
import org.cryptomator.jfuse.api.FuseConnInfo;
import org.cryptomator.jfuse.api.FuseOperations;
import org.cryptomator.jfuse.api.Stat;
import org.cryptomator.jfuse.api.Statvfs;
import org.cryptomator.jfuse.api.TimeSpec;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The FUSE upcalls (libfuse's path-based high-level API) that serve one {@link Timeline} as a
 * Postgres data directory, plus the {@link LocalOverlay} for per-compute files.
 *
 * <p>Paths are resolved component by component through {@link Timeline#lookup}; open files are
 * addressed by their inode, stored as the FUSE file handle, so the hot path (read, write, fsync)
 * never resolves a path. Overlay files use negative handles.
 *
 * <p>Every upcall catches everything and returns {@code -errno}: an exception escaping into native
 * code would kill the JVM. Namespace refusals (ENOENT, EEXIST, ENOTEMPTY...) are expected traffic
 * and logged at DEBUG; store failures (EIO, ENOSPC) are logged as errors here, where they are
 * handled.
 *
 * <p>Files unlinked while open: libfuse (without {@code hard_remove}, which would hand jfuse NULL
 * paths) renames them to {@code .fuse_hidden*}; that rename is turned into the timeline unlink, the
 * hidden name maps to the inode until the last handle is released, later writes and attribute
 * changes to it are dropped (no name reaches them) and getattr reports its last attributes.
 *
 * <p>Durability: {@code fsync}, {@code fdatasync} and {@code fsyncdir} call {@link Timeline#sync()},
 * which group-commits the store's ingest log; {@code flush} (close) does not (POSIX does not ask
 * it to). With the kernel writeback cache on, the kernel sends its dirty pages for the file before the FSYNC request, so
 * an acknowledged fsync covers everything Postgres wrote before it.
 *
 * <p>Thread-safety: safe for libfuse's multi-threaded loop; the timeline serializes mutations.
 * Only {@code RENAME_NOREPLACE} needs a check-then-act, done under {@link #renameLock} (renames
 * are rare: WAL recycling, config rewrites).
 */
final class TimelineFilesystem implements FuseOperations {

    private static final System.Logger LOG = System.getLogger(TimelineFilesystem.class.getName());

    /** open(2) flags (Linux generic values). */
    private static final int O_ACCMODE = 03;
    private static final int O_RDONLY = 0;
    private static final int O_EXCL = 0200;
    private static final int O_TRUNC = 01000;
    /** Granularity of file times the kernel keeps (FUSE_INIT time_gran): one second. */
    private static final int TIME_GRANULARITY_NANOS = 1_000_000_000;

    /** renameat2(2) flags. */
    private static final int RENAME_NOREPLACE = 1;
    private static final int RENAME_EXCHANGE = 2;

    /** Reported by statfs when no capacity directory was given: 1 TiB free in 4 KiB blocks. */
    private static final long NOMINAL_BLOCKS = 1L << 28;
    private static final int BLOCK_SIZE = 4096;

    private final Timeline timeline;
    private final MountOptions options;
    private final FuseContext context;
    private final Errno errno;
    private final LocalOverlay overlay;
    private final Object renameLock = new Object();
    /** Files unlinked while open: libfuse's hidden name -> the (now unlinked) inode. */
    private final Map<String, Long> hidden = new ConcurrentHashMap<>();
    /**
     * Their last attributes, still reported to the kernel: it stats and fsyncs open files, and an
     * ENOENT from getattr would make it fail the holder's fsync/close.
     */
    private final Map<Long, InodeAttributes> unlinkedOpen = new ConcurrentHashMap<>();
    /** Hidden names of overlay files unlinked while open (their handles keep them alive). */
    private final Set<String> hiddenOverlay = ConcurrentHashMap.newKeySet();

    TimelineFilesystem(Timeline timeline, MountOptions options, FuseContext context, Errno errno) {
        this.timeline = timeline;
        this.options = options;
        this.context = context;
        this.errno = errno;
        // Spill files go to the store's disk when it is known (statfs reports that disk too).
        this.overlay = options.capacityFrom().map(LocalOverlay::new).orElseGet(LocalOverlay::new);
    }

    @Override
    public Errno errno() {
        return errno;
    }

    @Override
    public Set<Operation> supportedOperations() {
        // No LINK, SYMLINK, READLINK, xattrs or fallocate: Postgres data directories need none of
        // them, and the kernel answers ENOSYS/EOPNOTSUPP (glibc emulates posix_fallocate).
        return EnumSet.of(Operation.INIT, Operation.DESTROY, Operation.GET_ATTR, Operation.ACCESS,
                Operation.READ_DIR, Operation.MKDIR, Operation.RMDIR, Operation.CREATE, Operation.OPEN,
                Operation.READ, Operation.WRITE, Operation.TRUNCATE, Operation.UNLINK, Operation.RENAME,
                Operation.CHMOD, Operation.CHOWN, Operation.UTIMENS, Operation.FLUSH, Operation.FSYNC,
                Operation.FSYNCDIR, Operation.RELEASE, Operation.STATFS);
    }

    @Override
    public void init(FuseConnInfo connection, FuseConfig config) {
        try {
            // AUTO_INVAL_DATA makes the kernel drop a file's page cache whenever it sees a newer
            // mtime: with Postgres writing constantly that emptied the cache every second. This
            // mount is the only writer of its timeline, so the kernel's cache is always right.
            int want = connection.want() & ~FuseConnInfo.FUSE_CAP_AUTO_INVAL_DATA;
            if ((connection.capable() & FuseConnInfo.FUSE_CAP_WRITEBACK_CACHE) != 0) {
                want |= FuseConnInfo.FUSE_CAP_WRITEBACK_CACHE;
            } else {
                LOG.log(Level.WARNING, "kernel does not offer the FUSE writeback cache; writes will be slow");
            }
            connection.setWant(want);
            // With the writeback cache the kernel keeps mtime and sends it as a SETATTR (utimens
            // plus getattr here) with the next fsync whenever it changed: once per commit at
            // nanosecond granularity. At one second it changes, and is sent, at most once a second
            // per file. Postgres never reads file times.
            connection.setTimeGran(TIME_GRANULARITY_NANOS);
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "FUSE init failed; continuing with libfuse defaults", t);
        }
    }

    @Override
    public void destroy() {
        // The timeline belongs to the store; the overlay dies with the mount, spill files included.
        overlay.close();
    }

    // ---------------------------------------------------------------- attributes and lookup

    @Override
    public int getattr(String path, Stat stat, FileInfo fi) {
        try {
            if (overlay.isDirectory(path)) {
                fillOverlayDirectory(stat, overlay.directory(path));
                return 0;
            }
            OverlayFile file = overlayFile(path, fi);
            if (file != null) {
                fillOverlay(stat, file);
                return 0;
            }
            long inode = fi != null && fi.getFh() > 0 ? fi.getFh() : resolve(path);
            fill(stat, attributes(inode));
            return 0;
        } catch (Throwable t) {
            return failed("getattr", path, t);
        }
    }

    @Override
    public int access(String path, int mask) {
        try {
            if (overlay.isDirectory(path)) {
                return 0;
            } else if (LocalOverlay.covers(path)) {
                overlay.get(path);
            } else {
                attributes(resolve(path));
            }
            return 0;
        } catch (Throwable t) {
            return failed("access", path, t);
        }
    }

    @Override
    public int readdir(String path, DirFiller filler, long offset, FileInfo fi, int flags) {
        try {
            if (overlay.isDirectory(path)) {
                return readOverlayDirectory(path, filler, (flags & FuseOperations.FUSE_READDIR_PLUS) != 0);
            }
            long directory = resolve(path);
            List<DirectoryEntry> entries = timeline.list(directory);
            boolean plus = (flags & FuseOperations.FUSE_READDIR_PLUS) != 0;
            int fillFlags = plus ? DirFiller.FUSE_FILL_DIR_PLUS : 0;
            InodeAttributes self = attributes(directory);
            // Both without FILL_DIR_PLUS: libfuse looks no dot entry up, and a "." sent as a plus
            // entry without a lookup never reached readdir(3) (pg_ls_dir('.', false, true) lacked it).
            if (filler.fill(".", stat -> fill(stat, self), 0, 0) != 0
                    || filler.fill("..", stat -> stat.setMode(Stat.S_IFDIR | 0755), 0, 0) != 0) {
                return 0;
            }
            boolean hostsOverlay = LocalOverlay.hostsEntries(path);
            for (DirectoryEntry entry : entries) {
                if (hostsOverlay && LocalOverlay.covers(child(path, entry.name()))) {
                    continue; // never shadowed by a versioned file of the same name
                }
                InodeAttributes attributes = plus ? timeline.attributes(entry.inode()).orElse(null) : null;
                int kindBits = entry.kind() == InodeKind.DIRECTORY ? Stat.S_IFDIR : Stat.S_IFREG;
                int full = filler.fill(entry.name(), stat -> {
                    if (attributes != null) {
                        fill(stat, attributes);
                    } else {
                        stat.setMode(kindBits);
                    }
                }, 0, attributes != null ? fillFlags : 0);
                if (full != 0) {
                    return 0;
                }
            }
            if (hostsOverlay) {
                fillOverlayEntries(path, filler, fillFlags);
            }
            return 0;
        } catch (Throwable t) {
            return failed("readdir", path, t);
        }
    }

    /** A directory of a temporary-file area: its overlay entries only. */
    private int readOverlayDirectory(String path, DirFiller filler, boolean plus) throws IOException {
        OverlayFile self = overlay.directory(path);
        if (filler.fill(".", stat -> fillOverlayDirectory(stat, self), 0, 0) != 0
                || filler.fill("..", stat -> stat.setMode(Stat.S_IFDIR | 0755), 0, 0) != 0) {
            return 0;
        }
        fillOverlayEntries(path, filler, plus ? DirFiller.FUSE_FILL_DIR_PLUS : 0);
        return 0;
    }

    private void fillOverlayEntries(String path, DirFiller filler, int fillFlags) throws IOException {
        for (String name : overlay.list(path)) {
            String entry = child(path, name);
            if (overlay.isDirectory(entry)) {
                OverlayFile directory = overlay.directory(entry);
                if (filler.fill(name, stat -> fillOverlayDirectory(stat, directory), 0, fillFlags) != 0) {
                    return;
                }
                continue;
            }
            OverlayFile file;
            try {
                file = overlay.get(entry);
            } catch (NamespaceException gone) {
                continue; // unlinked meanwhile
            }
            if (filler.fill(name, stat -> fillOverlay(stat, file), 0, fillFlags) != 0) {
                return;
            }
        }
    }

    // ---------------------------------------------------------------- namespace changes

    @Override
    public int mkdir(String path, int mode) {
        try {
            FuseContext.Caller caller = context.caller();
            if (LocalOverlay.inTemporaryArea(path)) {
                if (!overlay.isDirectory(parentOf(path))) {
                    resolve(parentOf(path)); // the area's root: its versioned parent must exist
                }
                overlay.mkdir(path, mode, caller.uid(), caller.gid());
                return 0;
            }
            if (LocalOverlay.covers(path)) {
                return -Errnos.EPERM;
            }
            timeline.create(resolve(parentOf(path)), nameOf(path), InodeKind.DIRECTORY, mode & 07777,
                    caller.uid(), caller.gid());
            return 0;
        } catch (Throwable t) {
            return failed("mkdir", path, t);
        }
    }

    @Override
    public int rmdir(String path) {
        try {
            if (path.equals(LocalOverlay.STATS_DIRECTORY) && !overlay.list(path).isEmpty()) {
                return -Errnos.ENOTEMPTY;
            }
            if (LocalOverlay.inTemporaryArea(path)) {
                overlay.rmdir(path);
                return 0;
            }
            timeline.removeDirectory(resolve(parentOf(path)), nameOf(path));
            return 0;
        } catch (Throwable t) {
            return failed("rmdir", path, t);
        }
    }

    @Override
    public int unlink(String path) {
        try {
            if (LocalOverlay.covers(path)) {
                overlay.unlink(path);
            } else {
                Long hiddenInode = hidden.remove(path);
                if (hiddenOverlay.remove(path)) {
                    return 0;
                } else if (hiddenInode != null) {
                    unlinkedOpen.remove(hiddenInode); // last handle released: forget it
                } else {
                    timeline.unlink(resolve(parentOf(path)), nameOf(path));
                }
            }
            return 0;
        } catch (Throwable t) {
            return failed("unlink", path, t);
        }
    }

    @Override
    public int rename(String from, String to, int flags) {
        try {
            if ((flags & RENAME_EXCHANGE) != 0 || (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0) {
                return -Errnos.EINVAL;
            }
            boolean fromOverlay = LocalOverlay.covers(from);
            if (fromOverlay && isHiddenName(nameOf(to))) {
                overlay.unlink(from); // open handles keep the file; the hidden name needs no entry
                hiddenOverlay.add(to);
                return 0;
            }
            if (fromOverlay != LocalOverlay.covers(to)) {
                return -Errnos.EXDEV; // callers (mv, Postgres) fall back to copy or report it
            }
            if (fromOverlay) {
                synchronized (renameLock) {
                    if ((flags & RENAME_NOREPLACE) != 0 && overlayExists(to)) {
                        return -Errnos.EEXIST;
                    }
                    overlay.rename(from, to);
                }
                return 0;
            }
            long fromDirectory = resolve(parentOf(from));
            if (isHiddenName(nameOf(to))) {
                // libfuse hides a file unlinked while open by renaming it: for the timeline that is
                // the unlink itself, so no .fuse_hidden* name is ever versioned (or inherited).
                long inode = timeline.lookup(fromDirectory, nameOf(from));
                if (inode == Namespace.NO_INODE) {
                    throw new NamespaceException(Reason.NOT_FOUND, from);
                }
                InodeAttributes last = attributes(inode);
                timeline.unlink(fromDirectory, nameOf(from));
                unlinkedOpen.put(inode, last);
                hidden.put(to, inode);
                return 0;
            }
            long toDirectory = resolve(parentOf(to));
            synchronized (renameLock) {
                if ((flags & RENAME_NOREPLACE) != 0 && timeline.lookup(toDirectory, nameOf(to)) != Namespace.NO_INODE) {
                    return -Errnos.EEXIST;
                }
                timeline.rename(fromDirectory, nameOf(from), toDirectory, nameOf(to));
            }
            return 0;
        } catch (Throwable t) {
            return failed("rename", from + " -> " + to, t);
        }
    }

    // ---------------------------------------------------------------- files

    @Override
    public int create(String path, int mode, FileInfo fi) {
        try {
            FuseContext.Caller caller = context.caller();
            boolean exclusive = (fi.getFlags() & O_EXCL) != 0;
            if (LocalOverlay.covers(path)) {
                OverlayFile file = overlay.create(path, mode, caller.uid(), caller.gid(), exclusive);
                if ((fi.getFlags() & O_TRUNC) != 0) {
                    file.truncate(0);
                }
                fi.setFh(overlay.open(file));
                return 0;
            }
            long directory = resolve(parentOf(path));
            long inode;
            try {
                inode = timeline.create(directory, nameOf(path), InodeKind.FILE, mode & 07777, caller.uid(), caller.gid());
            } catch (NamespaceException e) {
                if (e.reason() != Reason.EXISTS || exclusive) {
                    throw e;
                }
                // O_CREAT without O_EXCL raced with another creator: open the existing file.
                inode = resolve(path);
                openExisting(inode, fi.getFlags());
            }
            fi.setFh(inode);
            return 0;
        } catch (Throwable t) {
            return failed("create", path, t);
        }
    }

    @Override
    public int open(String path, FileInfo fi) {
        try {
            int flags = fi.getFlags();
            if (LocalOverlay.covers(path)) {
                OverlayFile file = overlay.get(path);
                if ((flags & O_TRUNC) != 0 && (flags & O_ACCMODE) != O_RDONLY) {
                    file.truncate(0);
                }
                fi.setFh(overlay.open(file));
                return 0;
            }
            long inode = resolve(path);
            openExisting(inode, flags);
            fi.setFh(inode);
            return 0;
        } catch (Throwable t) {
            return failed("open", path, t);
        }
    }

    /** libfuse announces ATOMIC_O_TRUNC, so truncation on open is ours to do. */
    private void openExisting(long inode, int flags) throws IOException {
        InodeAttributes attributes = attributes(inode);
        boolean writable = (flags & O_ACCMODE) != O_RDONLY;
        if (attributes.kind() == InodeKind.DIRECTORY && writable) {
            throw new NamespaceException(Reason.IS_A_DIRECTORY, "cannot open a directory for writing");
        }
        if ((flags & O_TRUNC) != 0 && writable && attributes.size() != 0) {
            timeline.truncate(inode, 0);
        }
    }

    @Override
    public int read(String path, ByteBuffer buf, long size, long offset, FileInfo fi) {
        try {
            long fh = fi.getFh();
            if (LocalOverlay.isHandle(fh)) {
                return overlay.handle(fh).read(offset, buf);
            }
            return timeline.read(fh > 0 ? fh : resolve(path), offset, buf);
        } catch (Throwable t) {
            return failed("read", path, t);
        }
    }

    @Override
    public int write(String path, ByteBuffer buf, long size, long offset, FileInfo fi) {
        try {
            long fh = fi.getFh();
            if (LocalOverlay.isHandle(fh)) {
                return overlay.handle(fh).write(offset, buf);
            }
            long inode = fh > 0 ? fh : resolve(path);
            try {
                return timeline.write(inode, offset, buf);
            } catch (NamespaceException e) {
                dropIfUnlinked(e, inode);
                return (int) size;
            }
        } catch (Throwable t) {
            return failed("write", path, t);
        }
    }

    @Override
    public int truncate(String path, long size, FileInfo fi) {
        try {
            OverlayFile file = overlayFile(path, fi);
            if (file != null) {
                file.truncate(size);
                return 0;
            }
            long inode = fi != null && fi.getFh() > 0 ? fi.getFh() : resolve(path);
            try {
                timeline.truncate(inode, size);
            } catch (NamespaceException e) {
                dropIfUnlinked(e, inode);
            }
            return 0;
        } catch (Throwable t) {
            return failed("truncate", path, t);
        }
    }

    @Override
    public int chmod(String path, int mode, FileInfo fi) {
        return setAttributes("chmod", path, fi, mode & 07777, null, null, null);
    }

    @Override
    public int chown(String path, int uid, int gid, FileInfo fi) {
        // -1 means "leave unchanged" (chown(2)); FUSE passes it through as an unsigned max.
        return setAttributes("chown", path, fi, null, uid == -1 ? null : uid, gid == -1 ? null : gid, null);
    }

    @Override
    public int utimens(String path, TimeSpec atime, TimeSpec mtime, FileInfo fi) {
        Instant modified;
        try {
            modified = mtime.isUtimeOmit() ? null : mtime.isUtimeNow() ? Instant.now() : mtime.get();
        } catch (Throwable t) {
            return failed("utimens", path, t);
        }
        // Access times are not kept (Postgres never reads them): a null change is still a success.
        return setAttributes("utimens", path, fi, null, null, null, modified);
    }

    private int setAttributes(String operation, String path, FileInfo fi, Integer mode, Integer uid, Integer gid,
                              Instant modified) {
        try {
            OverlayFile file = overlayFile(path, fi);
            if (file != null) {
                file.setAttributes(mode, uid, gid, modified);
                return 0;
            }
            long inode = fi != null && fi.getFh() > 0 ? fi.getFh() : resolve(path);
            if (mode != null || uid != null || gid != null || modified != null) {
                try {
                    timeline.setAttributes(inode, mode, uid, gid, modified);
                } catch (NamespaceException e) {
                    dropIfUnlinked(e, inode);
                }
            }
            return 0;
        } catch (Throwable t) {
            return failed(operation, path, t);
        }
    }

    /**
     * close(2) of one descriptor. Makes nothing durable: POSIX does not ask it to, and Postgres
     * fsyncs whatever it needs (this server too, with {@link Timeline#sync()}). A store sync here
     * made every close wait for the shared ingest log. The kernel has already written the file's
     * dirty pages (writeback cache) before it sends FLUSH, so they are in the store.
     */
    @Override
    public int flush(String path, FileInfo fi) {
        return 0;
    }

    @Override
    public int fsync(String path, int datasync, FileInfo fi) {
        return sync("fsync", path, fi);
    }

    @Override
    public int fsyncdir(String path, int datasync, FileInfo fi) {
        return sync("fsyncdir", path, fi);
    }

    private int sync(String operation, String path, FileInfo fi) {
        try {
            if (fi != null && LocalOverlay.isHandle(fi.getFh())) {
                return 0; // per-compute files are not durable by design
            }
            timeline.sync();
            return 0;
        } catch (Throwable t) {
            return failed(operation, path, t);
        }
    }

    @Override
    public int release(String path, FileInfo fi) {
        try {
            if (fi != null && LocalOverlay.isHandle(fi.getFh())) {
                overlay.release(fi.getFh());
            }
            return 0;
        } catch (Throwable t) {
            return failed("release", path, t);
        }
    }

    @Override
    public int statfs(String path, Statvfs statvfs) {
        try {
            long blocks = NOMINAL_BLOCKS;
            long free = NOMINAL_BLOCKS;
            long available = NOMINAL_BLOCKS;
            if (options.capacityFrom().isPresent()) {
                FileStore store = Files.getFileStore(options.capacityFrom().get());
                blocks = store.getTotalSpace() / BLOCK_SIZE;
                free = store.getUnallocatedSpace() / BLOCK_SIZE;
                available = store.getUsableSpace() / BLOCK_SIZE;
            }
            statvfs.setBsize(BLOCK_SIZE);
            statvfs.setFrsize(BLOCK_SIZE);
            statvfs.setBlocks(blocks);
            statvfs.setBfree(free);
            statvfs.setBavail(available);
            statvfs.setNameMax(255);
            return 0;
        } catch (Throwable t) {
            return failed("statfs", path, t);
        }
    }

    // ---------------------------------------------------------------- helpers

    private long resolve(String path) throws IOException {
        Long hiddenInode = hidden.get(path);
        if (hiddenInode != null) {
            return hiddenInode;
        }
        long inode = Namespace.ROOT_INODE;
        int start = 1;
        int length = path.length();
        while (start < length) {
            int end = path.indexOf('/', start);
            if (end < 0) {
                end = length;
            }
            if (end > start) {
                inode = timeline.lookup(inode, nameOf(path.substring(start, end)));
                if (inode == Namespace.NO_INODE) {
                    throw new NamespaceException(Reason.NOT_FOUND, path);
                }
            }
            start = end + 1;
        }
        return inode;
    }

    /**
     * A change to a file unlinked while open (typically the kernel writing back its cache, or
     * updating its times, on fsync or close) reaches no name any more: it is dropped, as a local
     * filesystem frees such a file on its last close. Any other refusal is rethrown.
     */
    private void dropIfUnlinked(NamespaceException e, long inode) throws IOException {
        if (e.reason() != Reason.NOT_FOUND || timeline.attributes(inode).isPresent()) {
            throw e;
        }
    }

    /** libfuse names a file unlinked while still open {@code .fuse_hidden<16 hex digits>}. */
    private static boolean isHiddenName(String name) {
        return name.startsWith(".fuse_hidden");
    }

    private InodeAttributes attributes(long inode) throws IOException {
        Optional<InodeAttributes> attributes = timeline.attributes(inode);
        if (attributes.isPresent()) {
            return attributes.get();
        }
        InodeAttributes unlinked = unlinkedOpen.get(inode);
        if (unlinked != null) {
            return unlinked;
        }
        throw new NamespaceException(Reason.NOT_FOUND, "inode " + inode);
    }

    /** The overlay file an upcall is about: by open handle first, else by path; null if none. */
    private OverlayFile overlayFile(String path, FileInfo fi) throws NamespaceException {
        if (fi != null && LocalOverlay.isHandle(fi.getFh())) {
            return overlay.handle(fi.getFh());
        }
        return LocalOverlay.covers(path) ? overlay.get(path) : null;
    }

    private boolean overlayExists(String path) {
        try {
            overlay.get(path);
            return true;
        } catch (NamespaceException e) {
            return false;
        }
    }

    private void fill(Stat stat, InodeAttributes attributes) {
        boolean directory = attributes.kind() == InodeKind.DIRECTORY;
        boolean root = attributes.inode() == Namespace.ROOT_INODE;
        stat.setMode((directory ? Stat.S_IFDIR : Stat.S_IFREG) | (attributes.mode() & 07777));
        // Postgres requires its data directory to belong to the user it runs as; a branch shares
        // its ancestor's stored root, so the mount states the owner it serves.
        stat.setUid(root ? options.ownerUid() : attributes.uid());
        stat.setGid(root ? options.ownerGid() : attributes.gid());
        stat.setNLink((short) (directory ? 2 : 1));
        stat.setSize(directory ? 0 : attributes.size());
        Instant modified = attributes.modified();
        stat.mTime().set(modified);
        stat.aTime().set(modified);
        stat.cTime().set(attributes.changed() != null ? attributes.changed() : modified);
    }

    private static void fillOverlayDirectory(Stat stat, OverlayFile directory) {
        fillOverlay(stat, directory);
        stat.setMode(Stat.S_IFDIR | directory.mode());
        stat.setNLink((short) 2);
        stat.setSize(0);
    }

    private static void fillOverlay(Stat stat, OverlayFile file) {
        stat.setMode(Stat.S_IFREG | file.mode());
        stat.setUid(file.uid());
        stat.setGid(file.gid());
        stat.setNLink((short) 1);
        stat.setSize(file.size());
        Instant modified = file.modified();
        stat.mTime().set(modified);
        stat.aTime().set(modified);
        stat.cTime().set(modified);
    }

    private static String parentOf(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    /** The last component of {@code path}; ENAMETOOLONG past NAME_MAX (255 bytes), as ext4 would say. */
    private static String nameOf(String path) throws NameTooLongException {
        String name = path.substring(path.lastIndexOf('/') + 1);
        if (name.length() > 63 && name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > NAME_MAX) {
            throw new NameTooLongException(name);
        }
        return name;
    }

    private static final int NAME_MAX = 255;

    /** A name over NAME_MAX bytes; the engine would say EINVAL, POSIX says ENAMETOOLONG. */
    static final class NameTooLongException extends IOException {
        NameTooLongException(String name) {
            super("name longer than " + NAME_MAX + " bytes: " + name.substring(0, 32) + "...");
        }
    }

    private static String child(String directory, String name) {
        return directory.equals("/") ? "/" + name : directory + "/" + name;
    }

    private int failed(String operation, String path, Throwable failure) {
        int code = Errnos.of(failure);
        if (failure instanceof NamespaceException || failure instanceof NameTooLongException) {
            LOG.log(Level.DEBUG, () -> operation + " " + path + ": " + failure.getMessage());
        } else {
            LOG.log(Level.ERROR, operation + " " + path + " failed (errno " + code + ")", failure);
        }
        return -code;
    }
}

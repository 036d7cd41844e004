package dev.pgbranch.pageserver.fuse;

import dev.pgbranch.storage.NamespaceException;
import dev.pgbranch.storage.NamespaceException.Reason;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The per-mount, never versioned part of a data directory: {@code postmaster.pid},
 * {@code postmaster.opts} and the files inside {@code pg_stat_tmp/} (in memory), and the
 * temporary-file areas {@code base/pgsql_tmp} and {@code pg_tblspc/<oid>/<version>/pgsql_tmp}
 * with everything below them (sorts, hashes and parallel queries spill there; on local disk, in a
 * scratch directory of the mount). They describe one running compute, so a branch must not
 * inherit them (a child seeing its parent's {@code postmaster.pid} would refuse to start or,
 * worse, signal the parent's pid), and spill files are garbage the moment their query ends: they
 * never reach the engine, its retention window or its ingest log. They vanish with the mount,
 * exactly like the process they describe.
 *
 * <p>The {@code pg_stat_tmp} directory itself is an ordinary versioned directory (initdb creates
 * it); only its contents are local. A temporary-file area is local from its root on (Postgres
 * creates {@code base/pgsql_tmp} when it first spills), directories included.
 *
 * <p>Scratch directory: {@code <scratchParent>/.pgsql_tmp-<random>}, 0700, created at the first
 * spill and deleted by {@link #close} (a crash leaves it; {@link #deleteScratchLeftovers} removes
 * such leftovers at the next start). A file there is deleted when its name is unlinked and its
 * last handle released, as on a local disk.
 *
 * <p>File handles are negative numbers so they never collide with timeline inodes, which the
 * filesystem uses as handles for versioned files.
 *
 * <p>Thread-safety: safe; each file guards its bytes with its own monitor.
 */
final class LocalOverlay {

    static final String STATS_DIRECTORY = "/pg_stat_tmp";
    private static final String STATS_PREFIX = STATS_DIRECTORY + "/";
    private static final String SCRATCH_PREFIX = ".pgsql_tmp-";
    /** A temporary-file area's root: Postgres's PG_TEMP_FILES_DIR in the default tablespace or another one. */
    private static final Pattern TEMP_ROOT = Pattern.compile("/base/pgsql_tmp|/pg_tblspc/[^/]+/[^/]+/pgsql_tmp");

    /** Whether {@code path} (absolute, as FUSE passes it) lives in the overlay. */
    static boolean covers(String path) {
        if (path.equals("/postmaster.pid") || path.equals("/postmaster.opts")) {
            return true;
        }
        return path.length() > STATS_PREFIX.length() && path.startsWith(STATS_PREFIX)
                && path.indexOf('/', STATS_PREFIX.length()) < 0 || inTemporaryArea(path);
    }

    /** Whether {@code path} is a temporary-file area's root or below one. */
    static boolean inTemporaryArea(String path) {
        int at = path.indexOf("/pgsql_tmp");
        while (at >= 0) {
            int end = at + "/pgsql_tmp".length();
            if ((end == path.length() || path.charAt(end) == '/') && TEMP_ROOT.matcher(path.substring(0, end)).matches()) {
                return true;
            }
            at = path.indexOf("/pgsql_tmp", at + 1);
        }
        return false;
    }

    /** Whether {@code directory} has overlay children (listed in addition to versioned entries). */
    static boolean hostsEntries(String directory) {
        return directory.equals("/") || directory.equals(STATS_DIRECTORY) || directory.equals("/base")
                || directory.startsWith("/pg_tblspc/") || inTemporaryArea(directory);
    }

    /** Removes the scratch directories that mounts of a crashed server left in {@code scratchParent}. */
    static void deleteScratchLeftovers(Path scratchParent) throws IOException {
        if (!Files.isDirectory(scratchParent)) {
            return;
        }
        try (Stream<Path> entries = Files.list(scratchParent)) {
            for (Path entry : entries.filter(p -> p.getFileName().toString().startsWith(SCRATCH_PREFIX)).toList()) {
                deleteTree(entry);
            }
        }
    }

    private final Map<String, OverlayFile> files = new ConcurrentHashMap<>();
    /** Directories of the temporary-file areas, by path. */
    private final Map<String, OverlayFile> directories = new ConcurrentHashMap<>();
    private final Map<Long, OverlayFile> handles = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong();
    private final AtomicLong nextScratchFile = new AtomicLong();
    private final Path scratchParent;
    private volatile Path scratch;

    /** Spill files go to a scratch directory under the JVM's temporary directory. */
    LocalOverlay() {
        this(Path.of(System.getProperty("java.io.tmpdir")));
    }

    /** Spill files go to a scratch directory created under {@code scratchParent} (the store's disk). */
    LocalOverlay(Path scratchParent) {
        this.scratchParent = scratchParent;
    }

    boolean isDirectory(String path) {
        return directories.containsKey(path);
    }

    /** A temporary-area directory's attributes (kept in an {@link OverlayFile} without content). */
    OverlayFile directory(String path) throws NamespaceException {
        OverlayFile directory = directories.get(path);
        if (directory == null) {
            throw new NamespaceException(Reason.NOT_FOUND, path);
        }
        return directory;
    }

    /**
     * Creates a directory in a temporary-file area; its parent must be an overlay directory
     * unless it is the area's root (whose versioned parent the caller has checked).
     */
    synchronized void mkdir(String path, int mode, int uid, int gid) throws NamespaceException {
        if (!inTemporaryArea(path)) {
            throw new NamespaceException(Reason.INVALID_ARGUMENT, "no directory can be made here: " + path);
        }
        if (!TEMP_ROOT.matcher(path).matches() && !directories.containsKey(parent(path))) {
            throw new NamespaceException(Reason.NOT_FOUND, parent(path));
        }
        if (directories.containsKey(path) || files.containsKey(path)) {
            throw new NamespaceException(Reason.EXISTS, path);
        }
        directories.put(path, new OverlayFile(mode & 07777, uid, gid));
    }

    synchronized void rmdir(String path) throws NamespaceException {
        if (!directories.containsKey(path)) {
            throw new NamespaceException(Reason.NOT_FOUND, path);
        }
        if (!list(path).isEmpty()) {
            throw new NamespaceException(Reason.NOT_EMPTY, path);
        }
        directories.remove(path);
    }

    /** Deletes the scratch directory with whatever is left in it (the mount is gone). */
    void close() {
        Path dir = scratch;
        if (dir != null) {
            files.values().forEach(OverlayFile::closeQuietly);
            try {
                deleteTree(dir);
            } catch (IOException e) {
                System.getLogger(LocalOverlay.class.getName()).log(System.Logger.Level.WARNING,
                        "could not delete the spill directory " + dir + " (deleted at the next start): " + e);
            }
        }
    }

    OverlayFile get(String path) throws NamespaceException {
        OverlayFile file = files.get(path);
        if (file == null) {
            throw new NamespaceException(Reason.NOT_FOUND, path);
        }
        return file;
    }

    /**
     * Creates {@code path}, or returns the existing file unless {@code exclusive}. A file of a
     * temporary-file area gets a scratch file on disk; its directory must exist.
     */
    OverlayFile create(String path, int mode, int uid, int gid, boolean exclusive) throws IOException {
        OverlayFile existing = files.get(path);
        if (existing == null && directories.containsKey(path)) {
            throw new NamespaceException(Reason.IS_A_DIRECTORY, path);
        }
        if (existing == null && inTemporaryArea(path)) {
            synchronized (this) {
                existing = files.get(path);
                if (existing == null) {
                    if (!directories.containsKey(parent(path))) {
                        throw new NamespaceException(Reason.NOT_FOUND, parent(path));
                    }
                    OverlayFile spill = OverlayFile.onDisk(mode & 07777, uid, gid,
                            scratch().resolve(Long.toString(nextScratchFile.incrementAndGet())));
                    files.put(path, spill);
                    return spill;
                }
            }
        }
        OverlayFile created = existing != null ? existing : new OverlayFile(mode & 07777, uid, gid);
        existing = files.putIfAbsent(path, created);
        if (existing != null && exclusive) {
            throw new NamespaceException(Reason.EXISTS, path);
        }
        return existing != null ? existing : created;
    }

    private Path scratch() throws IOException {
        Path dir = scratch;
        if (dir == null) {
            synchronized (this) {
                dir = scratch;
                if (dir == null) {
                    Files.createDirectories(scratchParent);
                    dir = Files.createTempDirectory(scratchParent, SCRATCH_PREFIX,
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                    scratch = dir;
                }
            }
        }
        return dir;
    }

    /** A new handle (negative) for an open of {@code file}. */
    long open(OverlayFile file) {
        long handle = -nextHandle.incrementAndGet();
        file.opened();
        handles.put(handle, file);
        return handle;
    }

    static boolean isHandle(long fh) {
        return fh < 0;
    }

    OverlayFile handle(long fh) throws NamespaceException {
        OverlayFile file = handles.get(fh);
        if (file == null) {
            throw new NamespaceException(Reason.NOT_FOUND, "no open overlay file with handle " + fh);
        }
        return file;
    }

    void release(long fh) {
        OverlayFile file = handles.remove(fh);
        if (file != null) {
            file.released();
        }
    }

    void unlink(String path) throws NamespaceException {
        OverlayFile file = files.remove(path);
        if (file == null) {
            throw new NamespaceException(directories.containsKey(path) ? Reason.IS_A_DIRECTORY : Reason.NOT_FOUND, path);
        }
        file.unlinked();
    }

    synchronized void rename(String from, String to) throws NamespaceException {
        if (directories.containsKey(from) || directories.containsKey(to)) {
            throw new NamespaceException(Reason.INVALID_ARGUMENT, "directories of a temporary-file area are not renamed");
        }
        if (inTemporaryArea(to) && !directories.containsKey(parent(to))) {
            throw new NamespaceException(Reason.NOT_FOUND, parent(to));
        }
        OverlayFile file = files.remove(from);
        if (file == null) {
            throw new NamespaceException(Reason.NOT_FOUND, from);
        }
        OverlayFile replaced = files.put(to, file);
        if (replaced != null) {
            replaced.unlinked();
        }
    }

    /** Names of the overlay files and directories directly inside {@code directory}. */
    List<String> list(String directory) {
        String prefix = directory.equals("/") ? "/" : directory + "/";
        List<String> names = new ArrayList<>();
        for (Map<String, OverlayFile> entries : List.of(files, directories)) {
            for (String path : entries.keySet()) {
                if (path.startsWith(prefix) && path.indexOf('/', prefix.length()) < 0) {
                    names.add(path.substring(prefix.length()));
                }
            }
        }
        return names;
    }

    private static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> tree = Files.walk(root)) {
            for (Path p : tree.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * One overlay file: in memory (bytes beyond {@code length} are never visible), or, for a
     * temporary-file area, a scratch file on disk ({@code channel}), deleted once its name is
     * unlinked and its last handle released.
     */
    static final class OverlayFile {

        private static final int MAX_SIZE = Integer.MAX_VALUE - 16;

        private byte[] bytes = new byte[0];
        private int length;
        private int mode;
        private int uid;
        private int gid;
        private Instant modified = Instant.now();
        private final FileChannel channel;
        private final Path scratchFile;
        private int openHandles;
        private boolean unlinked;

        OverlayFile(int mode, int uid, int gid) {
            this(mode, uid, gid, null, null);
        }

        private OverlayFile(int mode, int uid, int gid, FileChannel channel, Path scratchFile) {
            this.mode = mode;
            this.uid = uid;
            this.gid = gid;
            this.channel = channel;
            this.scratchFile = scratchFile;
        }

        static OverlayFile onDisk(int mode, int uid, int gid, Path file) throws IOException {
            FileChannel channel = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.READ, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            return new OverlayFile(mode, uid, gid, channel, file);
        }

        synchronized void opened() {
            openHandles++;
        }

        synchronized void released() {
            openHandles--;
            deleteIfGone();
        }

        synchronized void unlinked() {
            unlinked = true;
            deleteIfGone();
        }

        private void deleteIfGone() {
            if (channel != null && unlinked && openHandles <= 0) {
                closeQuietly();
            }
        }

        synchronized void closeQuietly() {
            if (channel == null || !channel.isOpen()) {
                return;
            }
            try {
                channel.close();
                Files.deleteIfExists(scratchFile);
            } catch (IOException e) {
                System.getLogger(LocalOverlay.class.getName()).log(System.Logger.Level.WARNING,
                        "could not delete spill file " + scratchFile + ": " + e);
            }
        }

        synchronized int read(long offset, ByteBuffer destination) throws IOException {
            if (channel != null) {
                int total = 0;
                while (destination.hasRemaining()) {
                    int n = channel.read(destination, offset + total);
                    if (n < 0) {
                        break;
                    }
                    total += n;
                }
                return total;
            }
            if (offset >= length) {
                return 0;
            }
            int count = (int) Math.min(destination.remaining(), length - offset);
            destination.put(bytes, (int) offset, count);
            return count;
        }

        synchronized int write(long offset, ByteBuffer source) throws IOException {
            if (channel != null) {
                int total = 0;
                while (source.hasRemaining()) {
                    total += channel.write(source, offset + total);
                }
                modified = Instant.now();
                return total;
            }
            int count = source.remaining();
            long end = offset + count;
            if (offset < 0 || end > MAX_SIZE) {
                throw new NamespaceException(Reason.FILE_TOO_LARGE, "overlay files are limited to 2 GB");
            }
            ensureCapacity((int) end);
            source.get(bytes, (int) offset, count);
            length = Math.max(length, (int) end);
            modified = Instant.now();
            return count;
        }

        synchronized void truncate(long size) throws IOException {
            if (channel != null) {
                if (size < channel.size()) {
                    channel.truncate(size);
                } else if (size > channel.size()) {
                    channel.write(ByteBuffer.allocate(1), size - 1); // sparse: reads zeros up to size
                }
                modified = Instant.now();
                return;
            }
            if (size < 0 || size > MAX_SIZE) {
                throw new NamespaceException(Reason.FILE_TOO_LARGE, "overlay files are limited to 2 GB");
            }
            ensureCapacity((int) size);
            if (size < length) {
                java.util.Arrays.fill(bytes, (int) size, length, (byte) 0);
            }
            length = (int) size;
            modified = Instant.now();
        }

        synchronized void setAttributes(Integer newMode, Integer newUid, Integer newGid, Instant newModified) {
            if (newMode != null) {
                mode = newMode & 07777;
            }
            if (newUid != null) {
                uid = newUid;
            }
            if (newGid != null) {
                gid = newGid;
            }
            if (newModified != null) {
                modified = newModified;
            }
        }

        synchronized long size() {
            if (channel != null) {
                try {
                    return channel.size();
                } catch (IOException e) {
                    return 0; // closed: unlinked and released
                }
            }
            return length;
        }

        synchronized int mode() {
            return mode;
        }

        synchronized int uid() {
            return uid;
        }

        synchronized int gid() {
            return gid;
        }

        synchronized Instant modified() {
            return modified;
        }

        private void ensureCapacity(int size) {
            if (size > bytes.length) {
                int grown = (int) Math.min(MAX_SIZE, Math.max(size, (long) bytes.length * 2));
                bytes = java.util.Arrays.copyOf(bytes, grown);
            }
        }
    }
}

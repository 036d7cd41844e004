package dev.pgbranch.pageserver.fuse;

import dev.pgbranch.storage.NamespaceException;
import dev.pgbranch.storage.NamespaceException.Reason;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The per-mount, never versioned part of a data directory, kept in memory: {@code postmaster.pid},
 * {@code postmaster.opts} and the files inside {@code pg_stat_tmp/}. They describe one running
 * compute, so a branch must not inherit them (a child seeing its parent's {@code postmaster.pid}
 * would refuse to start or, worse, signal the parent's pid). They vanish with the mount, exactly
 * like the process they describe.
 *
 * <p>The {@code pg_stat_tmp} directory itself is an ordinary versioned directory (initdb creates
 * it); only its contents are local.
 *
 * <p>File handles are negative numbers so they never collide with timeline inodes, which the
 * filesystem uses as handles for versioned files.
 *
 * <p>Thread-safety: safe; each file guards its bytes with its own monitor.
 */
final class LocalOverlay {

    static final String STATS_DIRECTORY = "/pg_stat_tmp";
    private static final String STATS_PREFIX = STATS_DIRECTORY + "/";

    /** Whether {@code path} (absolute, as FUSE passes it) lives in the overlay. */
    static boolean covers(String path) {
        if (path.equals("/postmaster.pid") || path.equals("/postmaster.opts")) {
            return true;
        }
        return path.length() > STATS_PREFIX.length() && path.startsWith(STATS_PREFIX)
                && path.indexOf('/', STATS_PREFIX.length()) < 0;
    }

    /** Whether {@code directory} has overlay children (listed in addition to versioned entries). */
    static boolean hostsEntries(String directory) {
        return directory.equals("/") || directory.equals(STATS_DIRECTORY);
    }

    private final Map<String, OverlayFile> files = new ConcurrentHashMap<>();
    private final Map<Long, OverlayFile> handles = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong();

    OverlayFile get(String path) throws NamespaceException {
        OverlayFile file = files.get(path);
        if (file == null) {
            throw new NamespaceException(Reason.NOT_FOUND, path);
        }
        return file;
    }

    /** Creates {@code path}, or returns the existing file unless {@code exclusive}. */
    OverlayFile create(String path, int mode, int uid, int gid, boolean exclusive) throws NamespaceException {
        OverlayFile created = new OverlayFile(mode & 07777, uid, gid);
        OverlayFile existing = files.putIfAbsent(path, created);
        if (existing != null && exclusive) {
            throw new NamespaceException(Reason.EXISTS, path);
        }
        return existing != null ? existing : created;
    }

    /** A new handle (negative) for an open of {@code file}. */
    long open(OverlayFile file) {
        long handle = -nextHandle.incrementAndGet();
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
        handles.remove(fh);
    }

    void unlink(String path) throws NamespaceException {
        if (files.remove(path) == null) {
            throw new NamespaceException(Reason.NOT_FOUND, path);
        }
    }

    void rename(String from, String to) throws NamespaceException {
        OverlayFile file = files.remove(from);
        if (file == null) {
            throw new NamespaceException(Reason.NOT_FOUND, from);
        }
        files.put(to, file);
    }

    /** Names of the overlay files directly inside {@code directory}. */
    List<String> list(String directory) {
        String prefix = directory.equals("/") ? "/" : directory + "/";
        List<String> names = new ArrayList<>();
        for (String path : files.keySet()) {
            if (path.startsWith(prefix) && path.indexOf('/', prefix.length()) < 0) {
                names.add(path.substring(prefix.length()));
            }
        }
        return names;
    }

    /** One in-memory file; bytes beyond {@code length} are never visible. */
    static final class OverlayFile {

        private static final int MAX_SIZE = Integer.MAX_VALUE - 16;

        private byte[] bytes = new byte[0];
        private int length;
        private int mode;
        private int uid;
        private int gid;
        private Instant modified = Instant.now();

        OverlayFile(int mode, int uid, int gid) {
            this.mode = mode;
            this.uid = uid;
            this.gid = gid;
        }

        synchronized int read(long offset, ByteBuffer destination) {
            if (offset >= length) {
                return 0;
            }
            int count = (int) Math.min(destination.remaining(), length - offset);
            destination.put(bytes, (int) offset, count);
            return count;
        }

        synchronized int write(long offset, ByteBuffer source) throws NamespaceException {
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

        synchronized void truncate(long size) throws NamespaceException {
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

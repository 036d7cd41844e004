package dev.pgbranch.storage;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A timeline's open (then frozen) in-memory layer: every version written since the last flush,
 * indexed by (inode, block, lsn) in a skip list so that readers find the newest version at or
 * below an LSN without locks while the single writer inserts.
 *
 * <p>Thread-safety: one writer (the timeline's writer lock) and any number of readers. Once
 * frozen it is never written again.
 *
 * <p>Crash behaviour: volatile; its content is also in the ingest log from
 * {@link #firstLogPosition()} on, and replayed into a new layer on open.
 */
final class InMemoryLayer {

    private final ConcurrentSkipListMap<Version, Object> versions = new ConcurrentSkipListMap<>();
    private volatile long minLsn = Long.MAX_VALUE;
    private volatile long maxLsn = Lsn.INVALID;
    private volatile long bytes;
    private volatile long firstLogPosition = -1;

    /** A key version; ordered by inode, block, then LSN (all signed). */
    record Version(long inode, long block, long lsn) implements Comparable<Version> {
        @Override
        public int compareTo(Version o) {
            int c = Keys.compare(inode, block, o.inode, o.block);
            return c != 0 ? c : Long.compare(lsn, o.lsn);
        }
    }

    /** Adds a batch written at {@code lsn}; the caller publishes the LSN afterwards. */
    void add(long lsn, Batch batch, long logPosition) {
        if (firstLogPosition < 0) {
            firstLogPosition = logPosition;
        }
        if (lsn < minLsn) {
            minLsn = lsn;
        }
        maxLsn = Math.max(maxLsn, lsn);
        long added = 0;
        for (Batch.Put p : batch.puts()) {
            versions.put(new Version(p.inode(), p.block(), lsn), p.value());
            added += 24 + ValueCodec.weight(p.value());
        }
        bytes += added;
    }

    /** The newest version of the key at or below {@code lsn}, or null. */
    Object get(long inode, long block, long lsn) {
        if (lsn < minLsn) {
            return null;
        }
        Map.Entry<Version, Object> e = versions.floorEntry(new Version(inode, block, lsn));
        if (e == null || e.getKey().inode != inode || e.getKey().block != block) {
            return null;
        }
        return e.getValue();
    }

    boolean isEmpty() {
        return versions.isEmpty();
    }

    long bytes() {
        return bytes;
    }

    long minLsn() {
        return minLsn;
    }

    long maxLsn() {
        return maxLsn;
    }

    /** Log position of the record that started this layer (-1 while empty). */
    long firstLogPosition() {
        return firstLogPosition;
    }

    /** Versions in key order (for writing the layer file once frozen). */
    Iterable<Map.Entry<Version, Object>> entries() {
        return versions.entrySet();
    }

    int size() {
        return versions.size();
    }
}

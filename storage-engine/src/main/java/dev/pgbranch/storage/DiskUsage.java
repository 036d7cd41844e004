package dev.pgbranch.storage;

import java.util.Arrays;
import java.util.List;
import org.agrona.collections.LongHashSet;

/**
 * Disk usage accounting from layer indexes, without reading a value: a version costs its
 * stored (compressed) length plus its index entry.
 *
 * <p>Thread-safety: stateless; the layer files it reads are immutable.
 */
final class DiskUsage {

    private DiskUsage() {
    }

    static long versionBytes(LayerFile f, int entry) {
        return f.storedLength(entry) + (long) LayerFormat.ENTRY_LENGTH;
    }

    /**
     * Bytes of the versions in {@code files} that are the newest at or below at least one of
     * {@code points} (what children branched at those points read of this timeline's files).
     */
    static long seenAt(List<LayerFile> files, long[] points) {
        long[] sorted = Arrays.stream(points).sorted().distinct().toArray();
        if (sorted.length == 0 || files.isEmpty()) {
            return 0;
        }
        LayerMerge.IndexMerge merge = new LayerMerge.IndexMerge(files);
        long seen = 0;
        boolean have = false;
        long inode = 0;
        long block = 0;
        int q = 0; // first point not yet assigned to a version of the current key
        LayerFile prevFile = null;
        int prevEntry = -1;
        while (merge.next()) {
            LayerFile f = files.get(merge.file());
            int e = merge.entry();
            boolean sameKey = have && f.inode(e) == inode && f.block(e) == block;
            if (have) {
                // the previous version is the newest at or below every point in [its LSN, next LSN)
                long next = sameKey ? f.lsn(e) : Long.MAX_VALUE;
                seen += assign(prevFile, prevEntry, next, sorted, q);
                q = advance(sorted, q, next);
            }
            if (!sameKey) {
                inode = f.inode(e);
                block = f.block(e);
                q = 0;
                have = true;
            }
            prevFile = f;
            prevEntry = e;
        }
        if (have) {
            seen += assign(prevFile, prevEntry, Long.MAX_VALUE, sorted, q);
        }
        return seen;
    }

    private static long assign(LayerFile f, int e, long next, long[] points, int q) {
        long lsn = f.lsn(e);
        for (int i = q; i < points.length && points[i] < next; i++) {
            if (points[i] >= lsn) {
                return versionBytes(f, e);
            }
        }
        return 0;
    }

    private static int advance(long[] points, int q, long next) {
        while (q < points.length && points[q] < next) {
            q++;
        }
        return q;
    }

    /**
     * Bytes of the versions in {@code files} that are the newest at or below {@code lsn} for
     * keys not in {@code shadowed} (found nearer in the chain); adds those keys to it.
     */
    static long visibleAt(List<LayerFile> files, long lsn, LongHashSet shadowed) {
        if (files.isEmpty()) {
            return 0;
        }
        LayerMerge.IndexMerge merge = new LayerMerge.IndexMerge(files);
        long bytes = 0;
        LayerFile best = null;
        int bestEntry = -1;
        boolean have = false;
        long inode = 0;
        long block = 0;
        while (merge.next()) {
            LayerFile f = files.get(merge.file());
            int e = merge.entry();
            if (!have || f.inode(e) != inode || f.block(e) != block) {
                bytes += count(best, bestEntry, inode, block, shadowed);
                inode = f.inode(e);
                block = f.block(e);
                best = null;
                have = true;
            }
            if (f.lsn(e) <= lsn) {
                best = f;
                bestEntry = e;
            }
        }
        bytes += count(best, bestEntry, inode, block, shadowed);
        return bytes;
    }

    private static long count(LayerFile f, int e, long inode, long block, LongHashSet shadowed) {
        if (f == null) {
            return 0;
        }
        // Inode numbers come from a counter starting at 1: far below 2^32, so the pair packs.
        return shadowed.add((inode << 32) ^ (block & 0xFFFFFFFFL)) ? versionBytes(f, e) : 0;
    }
}

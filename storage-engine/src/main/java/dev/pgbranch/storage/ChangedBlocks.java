package dev.pgbranch.storage;

import org.roaringbitmap.RoaringBitmap;

import java.util.Map;
import java.util.TreeMap;

/**
 * Read-only: which file pages a timeline itself wrote in an LSN range, from its layer indexes
 * alone (no value is read). The data diff uses it to read only the pages either side changed
 * since a branch point.
 *
 * <p>The answer never misses a page written in the range: every version written lands in the
 * open or a frozen in-memory layer, then in a delta layer file, and compaction keeps the newest
 * version of a key at or below any LSN still reachable. It may over-report: an image layer made
 * inside the range lists all its keys, and a page written again with the same content (a hint
 * bit, a checkpoint) counts as written. Versions older than the range's start that were
 * compacted away do not matter: only LSNs in the range are asked for.
 *
 * <p>Ancestors are not searched: a child timeline's writes are its own, its ancestor's are
 * asked of the ancestor (the caller walks the ancestry). Metadata keys (attributes, directory
 * entries) are left out: only page blocks {@code >= 0}.
 *
 * <p>Thread-safety: reads a snapshot of the layer lists (copy on write in the timeline); safe
 * while the timeline is written, flushed or compacted; versions written during the call may or
 * may not be included (callers ask up to an LSN they synced first).
 */
public final class ChangedBlocks {

    private ChangedBlocks() {
    }

    /**
     * The page blocks, per inode, that {@code timeline} wrote at LSNs in
     * {@code (afterLsn, upToLsn]}; inodes in ascending order.
     *
     * @throws IllegalArgumentException if the timeline is not one of this engine's
     */
    public static Map<Long, RoaringBitmap> written(Timeline timeline, long afterLsn, long upToLsn) {
        if (!(timeline instanceof TimelineImpl t)) {
            throw new IllegalArgumentException("not a timeline of this store: " + timeline);
        }
        Map<Long, RoaringBitmap> out = new TreeMap<>();
        if (upToLsn <= afterLsn) {
            return out;
        }
        TimelineImpl.Layers layers = t.layers();
        addMemory(layers.open(), afterLsn, upToLsn, out);
        for (InMemoryLayer frozen : layers.frozen()) {
            addMemory(frozen, afterLsn, upToLsn, out);
        }
        for (LayerFile file : layers.files()) {
            if (file.maxLsn() <= afterLsn || file.minLsn() > upToLsn) {
                continue; // wholly outside the range: not a single index entry read
            }
            for (int i = 0, n = file.entryCount(); i < n; i++) {
                long lsn = file.lsn(i);
                long block = file.block(i);
                if (block >= 0 && lsn > afterLsn && lsn <= upToLsn) {
                    out.computeIfAbsent(file.inode(i), k -> new RoaringBitmap()).add(Keys.bitmapMember(block));
                }
            }
        }
        return out;
    }

    private static void addMemory(InMemoryLayer layer, long afterLsn, long upToLsn, Map<Long, RoaringBitmap> out) {
        if (layer.isEmpty() || layer.maxLsn() <= afterLsn || layer.minLsn() > upToLsn) {
            return;
        }
        for (Map.Entry<InMemoryLayer.Version, Object> e : layer.entries()) {
            InMemoryLayer.Version v = e.getKey();
            if (v.block() >= 0 && v.lsn() > afterLsn && v.lsn() <= upToLsn) {
                out.computeIfAbsent(v.inode(), k -> new RoaringBitmap()).add(Keys.bitmapMember(v.block()));
            }
        }
    }
}

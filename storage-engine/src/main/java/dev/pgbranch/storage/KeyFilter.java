package dev.pgbranch.storage;

import java.util.Map;
import org.agrona.collections.Long2ObjectHashMap;
import org.roaringbitmap.RoaringBitmap;

/**
 * The union of the block bitmaps of all layer files of one timeline: one probe tells whether
 * any of its files can hold a key. A read that misses a timeline then costs two skip-list probes
 * and this one bitmap probe, whatever the number of its layer files, which keeps GetPage@LSN
 * flat as ancestor chains deepen (a key written only in the root of a deep chain is found after
 * one cheap probe per intermediate timeline, with no file I/O).
 *
 * <p>Thread-safety: immutable; {@link #with} returns a new filter sharing untouched bitmaps.
 */
final class KeyFilter {

    static final KeyFilter EMPTY = new KeyFilter(new Long2ObjectHashMap<>());

    private final Long2ObjectHashMap<RoaringBitmap> bitmaps;

    private KeyFilter(Long2ObjectHashMap<RoaringBitmap> bitmaps) {
        this.bitmaps = bitmaps;
    }

    boolean mayContain(long inode, long block) {
        RoaringBitmap b = bitmaps.get(inode);
        return b != null && b.contains(Keys.bitmapMember(block));
    }

    KeyFilter with(LayerFile file) {
        Long2ObjectHashMap<RoaringBitmap> copy = new Long2ObjectHashMap<>();
        copy.putAll(bitmaps);
        for (Map.Entry<Long, RoaringBitmap> e : file.bitmaps().entrySet()) {
            RoaringBitmap old = copy.get(e.getKey());
            copy.put(e.getKey().longValue(), old == null ? e.getValue() : RoaringBitmap.or(old, e.getValue()));
        }
        return new KeyFilter(copy);
    }
}

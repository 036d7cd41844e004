package dev.pgbranch.storage;

/**
 * Tuning of a {@link PageStore}.
 *
 * @param inMemoryLayerBytes a timeline's open in-memory layer is frozen and flushed to a delta
 *     layer file once its page images reach this size
 * @param pageCacheBytes capacity of the cache of decoded pages read from layer files
 * @param fsync whether sync() really calls fsync (off only in tests that simulate crashes by
 *     other means, and in benchmarks that say so)
 * @param compactionThreshold a timeline with this many layer files is merged into one by the
 *     background compactor (at the current GC horizon), so that reads never walk many files
 */
public record StoreOptions(long inMemoryLayerBytes, long pageCacheBytes, boolean fsync, int compactionThreshold) {

    /** Layer files per timeline that trigger a background compaction by default. */
    public static final int DEFAULT_COMPACTION_THRESHOLD = 8;

    public StoreOptions {
        if (inMemoryLayerBytes < Namespace.PAGE_SIZE) {
            throw new IllegalArgumentException("inMemoryLayerBytes too small: " + inMemoryLayerBytes);
        }
        if (pageCacheBytes < 0) {
            throw new IllegalArgumentException("negative pageCacheBytes");
        }
        if (compactionThreshold < 2) {
            throw new IllegalArgumentException("compactionThreshold must be at least 2: " + compactionThreshold);
        }
    }

    /** Options with the default compaction threshold. */
    public StoreOptions(long inMemoryLayerBytes, long pageCacheBytes, boolean fsync) {
        this(inMemoryLayerBytes, pageCacheBytes, fsync, DEFAULT_COMPACTION_THRESHOLD);
    }

    public static StoreOptions defaults() {
        return new StoreOptions(64L << 20, 256L << 20, true);
    }

    public StoreOptions withInMemoryLayerBytes(long bytes) {
        return new StoreOptions(bytes, pageCacheBytes, fsync, compactionThreshold);
    }

    public StoreOptions withPageCacheBytes(long bytes) {
        return new StoreOptions(inMemoryLayerBytes, bytes, fsync, compactionThreshold);
    }

    public StoreOptions withCompactionThreshold(int files) {
        return new StoreOptions(inMemoryLayerBytes, pageCacheBytes, fsync, files);
    }
}

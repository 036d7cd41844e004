package dev.pgbranch.storage;

/**
 * Tuning of a {@link PageStore}.
 *
 * @param inMemoryLayerBytes a timeline's open in-memory layer is frozen and flushed to a delta
 *     layer file once its page images reach this size
 * @param pageCacheBytes capacity of the cache of decoded pages read from layer files
 * @param fsync whether sync() really calls fsync (off only in tests that simulate crashes by
 *     other means, and in benchmarks that say so)
 */
public record StoreOptions(long inMemoryLayerBytes, long pageCacheBytes, boolean fsync) {

    public StoreOptions {
        if (inMemoryLayerBytes < Namespace.PAGE_SIZE) {
            throw new IllegalArgumentException("inMemoryLayerBytes too small: " + inMemoryLayerBytes);
        }
        if (pageCacheBytes < 0) {
            throw new IllegalArgumentException("negative pageCacheBytes");
        }
    }

    public static StoreOptions defaults() {
        return new StoreOptions(64L << 20, 256L << 20, true);
    }

    public StoreOptions withInMemoryLayerBytes(long bytes) {
        return new StoreOptions(bytes, pageCacheBytes, fsync);
    }

    public StoreOptions withPageCacheBytes(long bytes) {
        return new StoreOptions(inMemoryLayerBytes, bytes, fsync);
    }
}

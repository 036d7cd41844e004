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
 * @param memoryBudgetBytes one budget for every timeline's in-memory layers together (open and
 *     frozen): past it the largest open layer is frozen and flushed, and writers wait for the
 *     flusher, so memory does not grow with the number of branches being written
 */
public record StoreOptions(long inMemoryLayerBytes, long pageCacheBytes, boolean fsync, int compactionThreshold,
                           long memoryBudgetBytes) {

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
        if (memoryBudgetBytes < inMemoryLayerBytes) {
            throw new IllegalArgumentException("memoryBudgetBytes " + memoryBudgetBytes
                    + " is below one in-memory layer (" + inMemoryLayerBytes + ")");
        }
    }

    /** Options with the default memory budget ({@link #defaultBudget}). */
    public StoreOptions(long inMemoryLayerBytes, long pageCacheBytes, boolean fsync, int compactionThreshold) {
        this(inMemoryLayerBytes, pageCacheBytes, fsync, compactionThreshold, defaultBudget(inMemoryLayerBytes));
    }

    /** Options with the default compaction threshold and memory budget. */
    public StoreOptions(long inMemoryLayerBytes, long pageCacheBytes, boolean fsync) {
        this(inMemoryLayerBytes, pageCacheBytes, fsync, DEFAULT_COMPACTION_THRESHOLD);
    }

    /**
     * A quarter of the JVM's maximum heap (the launcher sizes the heap from the machine), and at
     * least four in-memory layers, so that a few busy timelines are not throttled.
     */
    static long defaultBudget(long inMemoryLayerBytes) {
        return Math.max(4 * inMemoryLayerBytes, Runtime.getRuntime().maxMemory() / 4);
    }

    public static StoreOptions defaults() {
        return new StoreOptions(64L << 20, 256L << 20, true);
    }

    public StoreOptions withInMemoryLayerBytes(long bytes) {
        return new StoreOptions(bytes, pageCacheBytes, fsync, compactionThreshold,
                Math.max(bytes, memoryBudgetBytes));
    }

    public StoreOptions withPageCacheBytes(long bytes) {
        return new StoreOptions(inMemoryLayerBytes, bytes, fsync, compactionThreshold, memoryBudgetBytes);
    }

    public StoreOptions withCompactionThreshold(int files) {
        return new StoreOptions(inMemoryLayerBytes, pageCacheBytes, fsync, files, memoryBudgetBytes);
    }

    public StoreOptions withMemoryBudgetBytes(long bytes) {
        return new StoreOptions(inMemoryLayerBytes, pageCacheBytes, fsync, compactionThreshold, bytes);
    }
}

package dev.pgbranch.storage;

/**
 * A snapshot of the store's counters.
 *
 * @param layerFiles live delta and image layer files
 * @param layerBytes bytes of live layer files on disk
 * @param ingestLogBytes bytes of ingest log not yet trimmed
 * @param pageCacheHits reads served from the page cache since open
 * @param pageCacheMisses reads that decoded a page from a layer file since open
 * @param compactions layer merges (background and {@link PageStore#collectGarbage}) since open
 * @param compactionBytesWritten bytes of layer files written by those merges
 * @param versionsDropped versions those merges dropped because nothing could read them
 * @param inMemoryBytes bytes of every timeline's in-memory layers (held to the memory budget)
 * @param inMemoryPeakBytes the most {@code inMemoryBytes} has been since open
 */
public record StoreStats(int timelines, int layerFiles, long layerBytes, long ingestLogBytes,
                         long pageCacheHits, long pageCacheMisses, long compactions,
                         long compactionBytesWritten, long versionsDropped, long inMemoryBytes,
                         long inMemoryPeakBytes) {
}

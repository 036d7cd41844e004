package dev.pgbranch.storage;

/**
 * Disk space of one timeline, from its layer files' indexes (stored, compressed bytes).
 *
 * @param ownBytes bytes of this timeline's own layer files
 * @param exclusiveBytes the part of {@code ownBytes} that no child branch reads: what deleting
 *     this timeline would free (after its children are gone, for the rest)
 * @param sharedBytes bytes this timeline reads without owning them exclusively: its own versions
 *     that a child reads at its branch point, plus its ancestors' versions visible at its own
 *     branch point
 * @param pendingBytes page bytes still in memory and the ingest log, not yet in a layer file
 */
public record TimelineUsage(long ownBytes, long exclusiveBytes, long sharedBytes, long pendingBytes) {
}

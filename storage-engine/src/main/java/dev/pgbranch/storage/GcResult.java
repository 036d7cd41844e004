package dev.pgbranch.storage;

/**
 * What one {@link PageStore#collectGarbage} call did to a timeline.
 *
 * @param horizonLsn the timeline's GC horizon after the call
 * @param layerFilesBefore the timeline's layer files before compaction
 * @param layerFilesAfter and after it
 * @param bytesBefore bytes of the timeline's layer files before compaction
 * @param bytesAfter and after it
 * @param versionsDropped page and metadata versions no reader could reach any more
 */
public record GcResult(TimelineId timeline, long horizonLsn, int layerFilesBefore, int layerFilesAfter,
                       long bytesBefore, long bytesAfter, long versionsDropped) {
}

package dev.pgbranch.pageserver.branch;

import java.time.Duration;
import java.time.Instant;

/**
 * What the API and CLI show of a project: its retention window and its disk usage.
 *
 * @param retention how far back point-in-time branches and restores reach
 * @param branches number of branches
 * @param layerBytes bytes of layer files of the project's timelines: its branches' and the
 *     retired ones (after a reset or delete) they still read through
 * @param pendingBytes bytes written but not yet in a layer file
 * @param retiredTimelines timelines no branch points at that are kept for a descendant's branch point
 * @param usageKnown false if the store could not report the usage of some timeline (the sums
 *     then leave it out)
 */
public record ProjectInfo(String name, Instant createdAt, Duration retention, int branches, long layerBytes,
                          long pendingBytes, int retiredTimelines, boolean usageKnown) {
}

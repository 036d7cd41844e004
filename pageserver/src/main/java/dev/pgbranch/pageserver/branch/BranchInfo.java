package dev.pgbranch.pageserver.branch;

import java.time.Instant;

/**
 * What the API and CLI show of a branch: the catalog record plus live state.
 *
 * @param parentLsn the parent's LSN the branch was taken at, {@code X/Y} ({@code null} for the root)
 * @param headLsn the branch's own current write position, {@code X/Y}: give it back as
 *     {@code --at} to branch from this point later
 * @param computeState {@code running}, or {@code suspended} (stopped; the next client connection starts it)
 * @param computePid the compute's postmaster pid, 0 when stopped
 * @param expiresAt when the server deletes the branch by itself, {@code null} for never
 * @param restorableFrom the oldest point of the branch's own history that {@code --at} accepts
 *     now (retention window and GC horizon), {@code null} if its timeline cannot be read
 * @param usage the disk space of the branch's timeline, {@code null} if the store cannot tell
 */
public record BranchInfo(String project, String name, String parent, String timeline, Instant createdAt,
                         String parentLsn, String headLsn, boolean protectedBranch, int port,
                         String computeState, long computePid, Instant expiresAt, RestorableFrom restorableFrom,
                         Usage usage) {

    /**
     * The oldest restorable point: every LSN from {@code lsn} to the head, and every time from
     * {@code time} to now ({@code null} while the branch has no time mark yet).
     */
    public record RestorableFrom(String lsn, Instant time) {
    }

    /**
     * Stored bytes of the branch's timeline (see {@code TimelineUsage}).
     *
     * @param exclusiveBytes what deleting the branch would free
     * @param sharedBytes what it reads that other branches need too (its branch point in its
     *     parent's history, its own history its children read)
     * @param pendingBytes written but not yet in a layer file (memory and ingest log)
     */
    public record Usage(long ownBytes, long exclusiveBytes, long sharedBytes, long pendingBytes) {
    }
}

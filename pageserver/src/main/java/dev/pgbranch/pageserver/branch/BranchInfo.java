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
 */
public record BranchInfo(String project, String name, String parent, String timeline, Instant createdAt,
                         String parentLsn, String headLsn, boolean protectedBranch, int port,
                         String computeState, long computePid, Instant expiresAt) {
}

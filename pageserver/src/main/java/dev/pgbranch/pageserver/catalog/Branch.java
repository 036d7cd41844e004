package dev.pgbranch.pageserver.catalog;

import dev.pgbranch.storage.TimelineId;

import java.time.Instant;
import java.util.Objects;

/**
 * One branch of a project as recorded in the catalog.
 *
 * @param name the branch's name, unique within its project
 * @param parent the parent branch, {@code null} for the project's root branch
 * @param timeline the storage timeline the branch points at (changes on reset / restore)
 * @param createdAt when the branch was created (kept across reset)
 * @param parentLsn the parent's LSN the branch's current timeline was taken at (0 for a root)
 * @param protectedBranch protected branches cannot be deleted, reset or restored
 * @param port the branch's stable TCP port: allocated once, kept across reset and restarts,
 *     never given to another branch while this one lives
 * @param expiresAt when the server deletes the branch by itself ({@code null}: never); a
 *     protected branch or one with children is kept past it until that changes
 *
 * <p>Immutable; changes produce a new record through the {@code with...} methods.
 */
public record Branch(BranchName name, BranchName parent, TimelineId timeline, Instant createdAt,
                     long parentLsn, boolean protectedBranch, int port, Instant expiresAt) {

    /** A branch that does not expire. */
    public Branch(BranchName name, BranchName parent, TimelineId timeline, Instant createdAt, long parentLsn,
                  boolean protectedBranch, int port) {
        this(name, parent, timeline, createdAt, parentLsn, protectedBranch, port, null);
    }

    public Branch {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(timeline, "timeline");
        Objects.requireNonNull(createdAt, "createdAt");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (parentLsn < 0) {
            throw new IllegalArgumentException("negative parentLsn");
        }
    }

    public boolean isRoot() {
        return parent == null;
    }

    public Branch withTimeline(TimelineId newTimeline, long newParentLsn) {
        return new Branch(name, parent, newTimeline, createdAt, newParentLsn, protectedBranch, port, expiresAt);
    }

    public Branch withProtected(boolean value) {
        return new Branch(name, parent, timeline, createdAt, parentLsn, value, port, expiresAt);
    }

    public Branch withExpiresAt(Instant value) {
        return new Branch(name, parent, timeline, createdAt, parentLsn, protectedBranch, port, value);
    }

    /** Whether the branch's expiry time has come at {@code now}. */
    public boolean expiredAt(Instant now) {
        return expiresAt != null && !expiresAt.isAfter(now);
    }
}

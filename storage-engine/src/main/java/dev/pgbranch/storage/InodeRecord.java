package dev.pgbranch.storage;

import java.time.Instant;

/**
 * The stored version of an inode: its public attributes plus two internal fields.
 *
 * @param parent for a directory, the directory holding it (the root is its own parent); used to
 *     refuse renaming a directory into its own subtree. 0 for files.
 * @param highWaterBlocks the most pages this file ever had in its lineage: on extension, pages
 *     below it that lie past the old end are shadowed by ZERO_PAGE tombstones (they may hold
 *     versions from before a truncate), pages above it never existed and need nothing.
 */
record InodeRecord(long inode, InodeKind kind, int mode, int uid, int gid, long size,
                   Instant modified, Instant changed, long parent, long highWaterBlocks) {

    InodeAttributes attributes() {
        return new InodeAttributes(inode, kind, mode, uid, gid, kind == InodeKind.DIRECTORY ? 0 : size,
                modified, changed);
    }

    InodeRecord withSize(long newSize, long newHighWater, Instant now) {
        return new InodeRecord(inode, kind, mode, uid, gid, newSize, now, now, parent, newHighWater);
    }

    InodeRecord withParent(long newParent, Instant now) {
        return new InodeRecord(inode, kind, mode, uid, gid, size, modified, now, newParent, highWaterBlocks);
    }

    InodeRecord withAttributes(Integer newMode, Integer newUid, Integer newGid, Instant newModified, Instant now) {
        return new InodeRecord(inode, kind,
                newMode == null ? mode : newMode & 07777,
                newUid == null ? uid : newUid,
                newGid == null ? gid : newGid,
                size,
                newModified == null ? modified : newModified,
                now, parent, highWaterBlocks);
    }
}

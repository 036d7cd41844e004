package dev.pgbranch.storage;

import java.time.Instant;

/**
 * An inode's attributes at one LSN.
 *
 * @param size exact byte size (0 for directories)
 * @param mode permission bits only (e.g. 0700); the kind is {@code kind}
 */
public record InodeAttributes(long inode, InodeKind kind, int mode, int uid, int gid, long size,
                              Instant modified, Instant changed) {
}

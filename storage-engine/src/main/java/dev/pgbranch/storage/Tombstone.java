package dev.pgbranch.storage;

/**
 * Versions that carry no bytes.
 *
 * <p>{@link #ZERO_PAGE} shadows older versions of a page that lay past the end of a truncated
 * file which is now extended again: the page reads as zeros. {@link #DELETED} marks an inode's
 * attributes (and directory listing) gone after unlink / rmdir / rename-over.
 */
enum Tombstone {
    ZERO_PAGE,
    DELETED
}

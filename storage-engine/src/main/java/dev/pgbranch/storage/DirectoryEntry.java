package dev.pgbranch.storage;

/** One name in a directory. */
public record DirectoryEntry(String name, long inode, InodeKind kind) {
}

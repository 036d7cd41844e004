package dev.pgbranch.storage;

/** What an inode is. Postgres data directories need only these two. */
public enum InodeKind {
    FILE,
    DIRECTORY
}

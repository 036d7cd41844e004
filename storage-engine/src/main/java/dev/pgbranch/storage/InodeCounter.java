package dev.pgbranch.storage;

/** The next inode number to allocate in a lineage (stored at the counter key). */
record InodeCounter(long next) {
}

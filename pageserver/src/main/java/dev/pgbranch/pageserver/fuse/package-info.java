/**
 * FUSE data directories: one {@link dev.pgbranch.storage.Timeline} served as a Postgres data
 * directory through jfuse (FFM binding of libfuse3). {@link dev.pgbranch.pageserver.fuse.FuseMount}
 * is the only public entry point.
 */
package dev.pgbranch.pageserver.fuse;

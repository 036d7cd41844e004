/**
 * Computes: unmodified Postgres servers, one per running branch, each on a FUSE mount of its
 * branch's timeline. {@link dev.pgbranch.pageserver.compute.ComputeManager} is the entry point.
 */
package dev.pgbranch.pageserver.compute;

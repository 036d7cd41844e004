/**
 * The pgbranch daemon: FUSE data directories, computes, catalog, the in-process wire proxy
 * ({@code BranchDirectory} joins it to the branch service), HTTP API and CLI.
 */
package dev.pgbranch.pageserver;

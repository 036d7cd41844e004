/** The pgbranch daemon: FUSE data directories, computes, catalog, HTTP API and CLI. */
package dev.pgbranch.pageserver;

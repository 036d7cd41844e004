/**
 * The {@code pgbranch} command line (picocli): {@code server}, {@code branch ...}, {@code connect},
 * {@code compute ...}; client commands talk to the management API and print tables or JSON.
 */
package dev.pgbranch.pageserver.cli;

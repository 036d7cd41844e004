/**
 * Schema review of branches on a running server: {@code diff} and {@code promote} wired to real
 * computes (branches woken through the branch service, and a throwaway compute on a temporary
 * timeline for the three-way base), over the schema library in
 * {@link dev.pgbranch.pageserver.schema}.
 */
package dev.pgbranch.pageserver.review;

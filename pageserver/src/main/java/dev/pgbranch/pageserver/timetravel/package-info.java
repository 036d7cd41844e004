/**
 * Read-only time travel: a client connecting to {@code dev/alex@2026-11-20T10:00:00Z} (or
 * {@code @0/16B3748}) through the proxy's routing port gets a throwaway compute showing the
 * branch as it was at that point. {@link dev.pgbranch.pageserver.timetravel.TimeTravel} resolves
 * points and keeps those computes; each runs on a temporary timeline branched at the point, so
 * the branch's history is never changed, whatever the session does.
 */
package dev.pgbranch.pageserver.timetravel;

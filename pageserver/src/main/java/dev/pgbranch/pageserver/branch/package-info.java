/**
 * The branch lifecycle ({@link dev.pgbranch.pageserver.branch.BranchService}): create, reset, restore,
 * delete, protect, computes and connection strings, over the catalog, the storage engine and the
 * compute manager; one domain exception with an {@link dev.pgbranch.pageserver.branch.ErrorCode}.
 * Clients reach branches through {@link dev.pgbranch.pageserver.branch.ClientEndpoints} (the wire
 * proxy), which names them by {@link dev.pgbranch.pageserver.branch.RoutingName}; idle computes are
 * stopped by the proxy or, for those it never woke, by {@link dev.pgbranch.pageserver.branch.IdleComputes}.
 */
package dev.pgbranch.pageserver.branch;

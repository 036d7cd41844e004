/**
 * The branch lifecycle ({@link dev.pgbranch.pageserver.branch.BranchService}): create, reset, restore,
 * delete, protect, computes and connection strings, over the catalog, the storage engine and the
 * compute manager; one domain exception with an {@link dev.pgbranch.pageserver.branch.ErrorCode}.
 */
package dev.pgbranch.pageserver.branch;

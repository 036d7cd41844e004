/**
 * The catalog of projects and branches: validated {@link dev.pgbranch.pageserver.catalog.BranchName}s,
 * immutable {@link dev.pgbranch.pageserver.catalog.Branch} / {@link dev.pgbranch.pageserver.catalog.Project}
 * records, and {@link dev.pgbranch.pageserver.catalog.Catalog}, persisted crash-safely as one JSON file
 * (format in {@code CatalogFile}).
 */
package dev.pgbranch.pageserver.catalog;

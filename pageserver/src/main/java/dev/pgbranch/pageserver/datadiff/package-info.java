/**
 * Row-level data diff between two (or three, with the branch point) Postgres servers, reading
 * only the heap pages that changed.
 *
 * <p>{@link dev.pgbranch.pageserver.datadiff.TableInfo} reads a database's tables (file path,
 * columns, key); the caller (which knows the store) gives each table a
 * {@link dev.pgbranch.pageserver.datadiff.Scope}: the relation blocks any side wrote since the
 * common point, or "full" with a reason; {@link dev.pgbranch.pageserver.datadiff.DataDiffer}
 * reads those blocks on every side with TID range scans, compares rows by primary key (or by
 * whole row) and returns a {@link dev.pgbranch.pageserver.datadiff.DataDiff} that renders as a
 * table, JSON, or the SQL that applies the source's changes to the target. Failures are one
 * {@link dev.pgbranch.pageserver.datadiff.DataDiffException} with a code.
 *
 * <p>Why reading only changed blocks is exact: a block no side wrote since the common point is
 * the same on every side, so the rows visible in it are too; a row a side changed left both its
 * old block (the dead version) and its new one written on that side, so both are read on every
 * side. Blocks written without a row change (hint bits, freezing) only cost a read.
 */
package dev.pgbranch.pageserver.datadiff;

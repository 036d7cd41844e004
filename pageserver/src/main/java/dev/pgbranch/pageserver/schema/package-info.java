/**
 * Schema diff and promote between branches.
 *
 * <p>{@link dev.pgbranch.pageserver.schema.SchemaDiffer} introspects {@code pg_catalog} of two
 * (or three, with the branch point as base) databases into snapshots of objects with stable
 * identities ({@link dev.pgbranch.pageserver.schema.ObjectId}: kind + qualified name or
 * signature), compares them object by object ({@link dev.pgbranch.pageserver.schema.SchemaDiff})
 * and plans the DDL that turns the target into the source, in dependency order
 * ({@link dev.pgbranch.pageserver.schema.Migration}).
 * {@link dev.pgbranch.pageserver.schema.Promoter} applies a branch's changes to its parent in
 * one verified transaction. Every failure surfaces as one
 * {@link dev.pgbranch.pageserver.schema.SchemaException} with a code.
 */
package dev.pgbranch.pageserver.schema;

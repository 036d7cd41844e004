/**
 * The benchmark suite driver: runs the storage engine's JMH benchmarks ({@link
 * dev.pgbranch.bench.e2e.JmhSuite}) and measures pgbranch the way a user meets it (the
 * {@code ./pgbranch} server, its HTTP API, branch computes reached through the connection string
 * the API hands out, {@code pgbench} and pgjdbc as clients), putting each figure next to its
 * reference measured in the same run on plain PostgreSQL on local disk ({@code CREATE DATABASE
 * ... TEMPLATE}, {@code pg_ctl start}, {@code pgbench}, {@code du}); writes results.json,
 * results.md and a creation-vs-size chart ({@link dev.pgbranch.bench.e2e.Chart}), and on demand a
 * profile of the server under TPC-B ({@link dev.pgbranch.bench.e2e.ServerProfile}). Entry point:
 * {@link dev.pgbranch.bench.e2e.EndToEndBenchmark}, run by {@code scripts/bench}.
 */
package dev.pgbranch.bench.e2e;
